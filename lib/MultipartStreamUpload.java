import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * The multipart upload of one dump, fed from pg_dump's stdout by the calling thread.
 *
 * <p>Why our own multipart upload on the sync client instead of the SDK's transfer manager: we need the bytes
 * exactly once (for the SHA-256 and the TOC count on the way), the upload must never complete unless pg_dump
 * exited 0, and memory must stay bounded: {@value #BUFFERS} part buffers in total, {@value #UPLOADERS} of them
 * uploading while the reader fills the next; when S3 is slower than pg_dump, the reader blocks and pg_dump
 * waits on its pipe. Each part is sent from its in-memory buffer, so the SDK can retry it without a copy.
 */
final class MultipartStreamUpload {
    static final int BUFFERS = 3;
    static final int UPLOADERS = 2;
    private static final int CHUNK = 1 << 20;
    /**
     * A part buffer starts this small and doubles as the data comes, up to the part size: a 450 KB dump costs one
     * 512 KiB buffer instead of three of 8 MiB (a fleet of 40 small databases with --jobs 8 peaked at 467 MB RSS).
     * Full-size buffers are reused from part to part, so a large dump grows them once.
     */
    static final int FIRST_BUFFER = 256 << 10;

    interface Observer { void bytes(byte[] buf, int off, int len); }

    final String bucket;
    final String key;
    final String uploadId;
    private final S3Client s3;
    private final PartPlan plan;
    private final StoreProfile store;
    private final ExecutorService pool = Executors.newFixedThreadPool(UPLOADERS, Threads.daemons("upload-part"));
    private final Semaphore buffers = new Semaphore(BUFFERS);
    private final ConcurrentLinkedQueue<byte[]> spare = new ConcurrentLinkedQueue<>();
    private final List<CompletedPart> parts = Collections.synchronizedList(new ArrayList<>());
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean aborted;
    private volatile Runnable onFailure = () -> { };
    /** Time the reader spent blocked for a free buffer, i.e. pg_dump held back because S3 took parts more slowly. */
    private long waitedForS3Nanos;

    private MultipartStreamUpload(S3Client s3, String bucket, String key, String uploadId, PartPlan plan, StoreProfile store) {
        this.s3 = s3;
        this.bucket = bucket;
        this.key = key;
        this.uploadId = uploadId;
        this.plan = plan;
        this.store = store;
    }

    /**
     * Parts of the plan's one size (R2 refuses others). A checksum per part, so the store checks every part on
     * arrival (our SHA-256 covers the whole object for restores): CRC32 where the store takes S3's flexible checksums,
     * else Content-MD5, which every S3-compatible store checks (docs/stores.md#store-profiles).
     */
    static MultipartStreamUpload create(S3Client s3, String bucket, String key, PartPlan plan, StoreProfile store) {
        String id = s3.createMultipartUpload(b -> {
            b.bucket(bucket).key(key).contentType("application/octet-stream");
            if (store.checksums()) b.checksumAlgorithm(ChecksumAlgorithm.CRC32);
        }).uploadId();
        return new MultipartStreamUpload(s3, bucket, key, id, plan, store);
    }

    /** Reads {@code in} to its end into parts and uploads them; returns the bytes read. Throws on the first upload error. */
    long pump(InputStream in, Observer observer) throws IOException, InterruptedException {
        long total = 0;
        boolean eof = false;
        for (int partNumber = 1; !eof; partNumber++) {
            throwIfFailed();
            int size = (int) plan.partSize();
            long waitStart = System.nanoTime();
            buffers.acquire(); // blocks while BUFFERS parts are in flight: bounded memory
            waitedForS3Nanos += System.nanoTime() - waitStart;
            byte[] buf = spare.poll();
            if (buf == null) buf = new byte[Math.min(size, FIRST_BUFFER)];
            int len = 0;
            try {
                while (len < size) {
                    if (len == buf.length) buf = java.util.Arrays.copyOf(buf, (int) Math.min(size, 2L * buf.length)); // grows with the data
                    int n = in.read(buf, len, Math.min(CHUNK, buf.length - len));
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    observer.bytes(buf, len, n);
                    len += n;
                }
                if (len > 0 && PartPlan.beyondLimit(partNumber)) throw plan.outgrown(total + len); // before S3 refuses part 10,001
            } catch (Throwable e) {
                release(buf);
                // pg_dump stopped because a part failed (onFailure): the upload's error is the one to report, not "Stream closed".
                if (e instanceof IOException) throwIfFailed();
                throw e;
            }
            if (len == 0) {
                release(buf);
                break;
            }
            total += len;
            submit(partNumber, buf, len);
        }
        return total;
    }

    private void submit(int partNumber, byte[] buf, int len) {
        pool.execute(() -> {
            try {
                if (failure.get() != null || aborted) return;
                // The part's CRC32 computed here, in one pass over the buffer, and sent as a header: left to the SDK, it
                // is sent as a trailer, which makes the SDK copy the whole part into aws-chunked encoding on the way out.
                UploadPartRequest.Builder builder = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                        .partNumber(partNumber).contentLength((long) len).overrideConfiguration(AwsClients.partTimeouts(len));
                UploadPartRequest request = store.checksums() ? builder.checksumAlgorithm(ChecksumAlgorithm.CRC32).checksumCRC32(crc32(buf, len)).build()
                        : builder.contentMD5(contentMd5(buf, len)).build();
                // A content provider, not a stream: every retry gets a fresh view of the same buffer (no copy).
                UploadPartResponse response = s3.uploadPart(request,
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, len), len, "application/octet-stream"));
                parts.add(CompletedPart.builder().partNumber(partNumber).eTag(response.eTag()).checksumCRC32(response.checksumCRC32()).build());
            } catch (Throwable e) {
                if (failure.compareAndSet(null, e)) onFailure.run();
            } finally {
                release(buf);
            }
        });
    }

    /** S3's x-amz-checksum-crc32: the base64 of the big-endian CRC32 (java.util.zip.CRC32 is a CPU intrinsic). */
    static String crc32(byte[] buf, int len) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(buf, 0, len);
        long v = crc.getValue();
        return java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }

    /** Content-MD5: the base64 of the part's MD5, for stores without flexible checksums. */
    static String contentMd5(byte[] buf, int len) {
        try {
            java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
            md5.update(buf, 0, len);
            return java.util.Base64.getEncoder().encodeToString(md5.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void release(byte[] buf) {
        spare.offer(buf);
        while (spare.size() > BUFFERS) spare.poll();
        buffers.release();
    }

    /** Seconds pump() waited for S3 to free a part buffer (0 when the upload kept up with pg_dump). */
    double secondsWaitingForS3() { return waitedForS3Nanos / 1e9; }

    /** What to do on the first failed part: stop the producer, which may be stalled and not reading for a long time. */
    void onFailure(Runnable action) { this.onFailure = action; }

    void throwIfFailed() {
        Throwable t = failure.get();
        if (t == null) return;
        Failure f = Errors.classify(t);
        throw new Failure(f.exitCode, "upload to s3://" + bucket + "/" + key + " failed: " + f.getMessage(), t);
    }

    /**
     * After pg_dump exited 0: waits for the last parts, checks with ListParts that S3 holds every part and
     * exactly {@code bytes} in all, then completes the upload (unless it was aborted meanwhile), only if no
     * object has this key yet (If-None-Match: *). Two backups of one name started in the same second share their
     * keys: the first to complete wins, the other fails here and is aborted, instead of silently replacing the
     * dump under the first one's manifest. A 412 for an object with the ETag our parts make is our own
     * completion, sent again by the SDK after its answer was lost.
     */
    void complete(long bytes) throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(1, TimeUnit.HOURS)) throw new Failure(Exit.UNAVAILABLE, "upload parts did not finish within an hour");
        throwIfFailed();
        synchronized (this) {
            if (aborted) throw new Failure(Exit.FAILED, "interrupted: upload aborted");
        }
        List<CompletedPart> sorted = new ArrayList<>(parts);
        sorted.sort(Comparator.comparing(CompletedPart::partNumber));
        long listedBytes = 0;
        int listedParts = 0;
        for (var part : s3.listPartsPaginator(b -> b.bucket(bucket).key(key).uploadId(uploadId)).parts()) {
            listedBytes += part.size();
            listedParts++;
        }
        if (listedParts != sorted.size() || listedBytes != bytes) {
            throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + key + ": S3 holds " + listedParts + " parts, " + listedBytes
                    + " bytes, but we uploaded " + sorted.size() + " parts, " + bytes + " bytes; upload aborted, no manifest written");
        }
        if (!store.conditionalWrites()) { // check, then complete: not atomic (docs/stores.md#store-profiles)
            if (StoredObject.find(s3, bucket, key) != null) throw alreadyExists(null);
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(sorted))
                    .overrideConfiguration(AwsClients.completeTimeouts()));
            return;
        }
        try {
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(sorted)).ifNoneMatch("*")
                    .overrideConfiguration(AwsClients.completeTimeouts()));
        } catch (S3Exception e) {
            if (e.statusCode() == 501) { // a store without conditional writes
                s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(sorted))
                        .overrideConfiguration(AwsClients.completeTimeouts()));
                return;
            }
            if (e.statusCode() != 412 && e.statusCode() != 409) throw e;
            S3Object there = StoredObject.find(s3, bucket, key);
            if (there != null && StoredObject.etag(there).equals(multipartEtag(sorted))) return;
            throw alreadyExists(e);
        }
    }

    private Failure alreadyExists(Throwable cause) {
        return new Failure(Exit.FAILED, "s3://" + bucket + "/" + key + " already exists: another backup of the same name started in the same second"
                + " and stored it first; this run's dump was discarded and that backup left untouched (run one backup of a database at a time)", cause);
    }

    /** S3's ETag of a multipart object: the MD5 of the parts' binary ETags (MD5s), a dash, the number of parts ("" if unknown). */
    static String multipartEtag(List<CompletedPart> sorted) {
        java.io.ByteArrayOutputStream partEtags = new java.io.ByteArrayOutputStream();
        try {
            for (CompletedPart p : sorted) partEtags.writeBytes(HexFormat.of().parseHex(p.eTag().replace("\"", "")));
        } catch (RuntimeException notHex) {
            return ""; // a store with other ETags: the object cannot be recognised as ours
        }
        return Digests.md5Hex(partEtags.toByteArray()) + "-" + sorted.size();
    }

    /**
     * After a failure: lets in-flight parts end (a part that lands after the abort could otherwise stay
     * stored), then aborts. Returns null, or what went wrong aborting (the bucket's lifecycle rule or prune
     * will remove the leftover parts).
     */
    String abortAfterFailure(S3Client client) {
        synchronized (this) { aborted = true; }
        pool.shutdown();
        try {
            pool.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.shutdownNow();
        return abortCall(client);
    }

    /** From the shutdown hook: time is short, so abort at once, give in-flight parts a moment, abort again. */
    void abortNow(S3Client client) {
        synchronized (this) { aborted = true; }
        abortCall(client);
        pool.shutdownNow();
        try {
            pool.awaitTermination(3, TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
            // the JVM is going down
        }
        abortCall(client);
    }

    private String abortCall(S3Client client) {
        try {
            client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
            return null;
        } catch (NoSuchUploadException gone) {
            return null; // already aborted (or completed): nothing left in progress
        } catch (RuntimeException e) {
            return "could not abort multipart upload " + uploadId + " of s3://" + bucket + "/" + key + " (" + Errors.classify(e).getMessage()
                    + "); its parts are removed by the bucket's lifecycle rule or by prune";
        }
    }
}
