import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Downloading a dump while hashing and counting it, resuming after a dropped connection. Only the stored bytes
 * give a verdict on a backup (65): a fault on the way (a body cut off, an answer shorter than S3 says the object
 * is) is retried and at worst "S3 or the network is failing" (69), and a dump deleted after it was listed
 * "vanished" (1): neither says anything about the backup, so a drill records no verdict for them.
 */
final class VerifiedDownload {
    record Result(long size, String sha256) {}

    private static final int ATTEMPTS = 5;

    static Result fetch(S3Client s3, String bucket, String key, long expectedSize, OutputStream sink, Progress progress, PrintWriter err) {
        MessageDigest sha = Digests.sha256();
        byte[] buf = new byte[256 * 1024];
        long offset = 0;
        String etag = null;
        int failures = 0;
        boolean complete = false;
        while (!complete) {
            GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(key);
            if (offset > 0) request.range("bytes=" + offset + "-").ifMatch(etag);
            boolean receiving = false;
            String broke;
            Throwable cause = null;
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(request.build())) {
                receiving = true;
                if (etag == null) etag = in.response().eTag();
                Long length = in.response().contentLength();
                if (length != null && length != expectedSize - offset) {
                    // A well-formed answer that contradicts the manifest. Whether the stored object does is S3's to say.
                    Long stored = storedSize(s3, bucket, key);
                    if (stored != null && stored != expectedSize) {
                        throw new Failure(Exit.DATA_INVALID, "the stored dump " + key + " has " + stored + " bytes, the manifest says " + expectedSize
                                + ": the dump is damaged; choose another backup (restore list)");
                    }
                    in.abort();
                    broke = "S3 answered " + length + " bytes where " + (expectedSize - offset) + " were expected";
                } else {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        sha.update(buf, 0, n);
                        offset += n;
                        try {
                            sink.write(buf, 0, n);
                        } catch (IOException e) {
                            throw new Failure(Exit.FAILED, "cannot write the download: " + e.getMessage(), e);
                        }
                        progress.add(n);
                    }
                    try {
                        sink.flush();
                    } catch (IOException e) {
                        throw new Failure(Exit.FAILED, "cannot write the download: " + e.getMessage(), e);
                    }
                    // An answer without a length that ends early is a body cut off like any other; more bytes than the
                    // manifest says can only be what S3 stores, and the checksum verdict says so.
                    complete = offset >= expectedSize;
                    broke = "the answer ended at " + Progress.size(offset);
                }
            } catch (IOException | SdkClientException e) {
                if (complete) break; // every byte arrived; only closing the connection failed
                // The SDK retries requests itself; what it cannot retry is a body cut off half-way: resume from there.
                if (!receiving) throw Errors.classify(e);
                broke = Errors.describe(e);
                cause = e;
            } catch (NoSuchKeyException e) {
                throw vanished(key);
            }
            if (complete) break;
            if (++failures >= ATTEMPTS) {
                throw new Failure(Exit.UNAVAILABLE, "the download of s3://" + bucket + "/" + key + " broke off " + ATTEMPTS + " times, the last at "
                        + Progress.size(offset) + " of " + Progress.size(expectedSize) + " (" + broke + "): S3 or the network failed, not the"
                        + " backup; run the same command again", cause);
            }
            err.println("download of " + key + " interrupted after " + Progress.size(offset) + " (" + broke + "): resuming, attempt "
                    + (failures + 1) + " of " + ATTEMPTS);
            err.flush();
            try {
                Thread.sleep(1000L * failures);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new Failure(Exit.FAILED, "interrupted while downloading " + key);
            }
        }
        progress.done();
        return new Result(offset, Digests.hex(sha.digest()));
    }

    /** The dump's stored size as S3 states it (HeadObject), or null when that cannot be asked: then only a retry can tell. */
    private static Long storedSize(S3Client s3, String bucket, String key) {
        try {
            return s3.headObject(b -> b.bucket(bucket).key(key)).contentLength();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) throw vanished(key);
            return null;
        } catch (SdkClientException e) {
            return null;
        }
    }

    /** Deleted between the listing and the download: no verdict on the backup (exit 1, not 65). */
    static Failure vanished(String key) {
        return new Failure(Exit.FAILED, "the dump " + key + " vanished after it was listed (deleted by prune?): this says nothing about the backup's"
                + " data; run 'restore list' and choose a backup that is still there");
    }

    /** The checksum verdict: null when size and SHA-256 match the manifest, else the 65 to throw. */
    static Failure mismatch(Manifest m, Result got) {
        if (got.size() != m.sizeBytes()) {
            return new Failure(Exit.DATA_INVALID, "size mismatch: " + m.dumpKey() + " has " + got.size() + " bytes, the manifest says " + m.sizeBytes()
                    + ": the dump is damaged; choose another backup (restore list)");
        }
        if (!got.sha256().equalsIgnoreCase(m.sha256())) {
            return new Failure(Exit.DATA_INVALID, "checksum mismatch: " + m.dumpKey() + " has SHA-256 " + got.sha256() + ", the manifest says " + m.sha256()
                    + ": the dump is corrupt or was altered; choose another backup (restore list)");
        }
        return null;
    }

    static void check(Manifest m, Result got) {
        Failure f = mismatch(m, got);
        if (f != null) throw f;
    }

    /**
     * Downloads the dump to {@code file} (0600) and checks it against the manifest (65 on mismatch). An encrypted
     * backup is decrypted on the way: the file holds the plain archive, and the checksum is that of the stored bytes.
     */
    static void toFile(S3Client s3, String bucket, Manifest m, Path file, Age.Identities identities, PrintWriter err) {
        Failure damaged = toFileVerdict(s3, bucket, m, file, identities, err);
        if (damaged != null) throw damaged;
    }

    /**
     * {@link #toFile}, returning its verdict on the stored data instead of throwing it: null when size and SHA-256
     * match the manifest (and an encrypted backup decrypted), else the 65 that says what is wrong with the backup.
     * What says nothing about the stored data is still thrown: S3 or the network failing, the local disk, and
     * whatever {@link #fetch} makes of the object's length or its absence (a drill checks those, see {@link RestoreDrill}).
     */
    static Failure toFileVerdict(S3Client s3, String bucket, Manifest m, Path file, Age.Identities identities, PrintWriter err) {
        // A disk that fills up meanwhile (other writers, quotas: the check before cannot see them) is 78, like that check.
        try (OutputStream out = new BufferedOutputStream(DiskSpace.guard(Files.newOutputStream(file), file.toAbsolutePath().getParent(),
                "free space there or use a larger disk (restore and drill: --temp-dir DIR; restore --stream needs no temp file)"), 1 << 20)) {
            Age.Decrypting decrypting = decrypting(m, identities, out);
            Watched sink = decrypting == null ? null : new Watched(decrypting);
            try {
                Result got;
                try {
                    got = fetch(s3, bucket, m.dumpKey(), m.sizeBytes(), sink != null ? sink : out,
                            new Progress("downloading " + m.dumpKey(), err, m.sizeBytes()), err);
                } catch (Failure f) {
                    if (sink != null && sink.failure == f && f.exitCode == Exit.DATA_INVALID) return f; // it does not decrypt (wrong key, altered): the stored data's verdict
                    throw f;
                }
                Failure mismatch = mismatch(m, got); // a checksum mismatch says more than the decryption failure it also causes
                if (mismatch != null) return mismatch;
                if (decrypting != null) {
                    try {
                        decrypting.finish();
                    } catch (Failure f) {
                        if (f.exitCode == Exit.DATA_INVALID) return f;
                        throw f;
                    }
                }
                return null;
            } finally {
                if (decrypting != null) decrypting.close();
            }
        } catch (IOException e) {
            throw new Failure(Exit.FAILED, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Remembers the failure its sink threw (the decryption's), to tell it from the download's own. */
    private static final class Watched extends OutputStream {
        private final OutputStream out;
        private Failure failure;

        Watched(OutputStream out) { this.out = out; }

        @Override
        public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (Failure f) {
                failure = f;
                throw f;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (Failure f) {
                failure = f;
                throw f;
            }
        }
    }

    /** For an encrypted backup, a sink that decrypts into {@code plain}; null for a plain one (see {@link AgeIdentityOption#forBackup}). */
    static Age.Decrypting decrypting(Manifest m, Age.Identities identities, OutputStream plain) {
        if (m.encryption() == null) return null;
        if (identities == null) throw new IllegalStateException("encrypted backup without identities"); // AgeIdentityOption.forBackup refused it
        return new Age.Decrypting(plain, identities, "backup " + m.dumpKey(), m.encryption().recipients());
    }

    private VerifiedDownload() {}
}
