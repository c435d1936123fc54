import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP proxy in front of a real S3 server (moto or s3proxy) that applies one store's documented rules, the ones no
 * local server reproduces, answering as that store answers:
 * <ul>
 * <li>{@link Store#R2}: a CompleteMultipartUpload whose non-trailing parts are not all the same length fails with 400
 *   InvalidPart "All non-trailing parts must have the same length." (cloudflare-docs PR#9549); any request with an
 *   x-amz-storage-class header is refused, 400 InvalidStorageClass (gobackup#183).</li>
 * <li>{@link Store#B2}: 500/503 bursts (B2 answers them by design, backblaze.com/blog/b2-503-500-server-error): every
 *   {@code burstEvery}-th request starts {@code burstLength} failures in a row; every {@code tooSmallEvery}-th
 *   UploadPart is refused with 400 InvalidRequest "The request body was too small" (wal-g#1741); DeleteObjects answers
 *   200 with an empty {@code <Error/>} and deletes nothing (pgbackrest#2259: the reply cannot be trusted); If-None-Match
 *   is dropped on the way, as by a store that does not implement conditional writes and ignores the header (B2 does not
 *   document them). Dropping a signed header breaks the request's signature: only for a server that does not check
 *   signatures (moto; s3proxy does check them).</li>
 * <li>{@link Store#GCS}: a request with S3's flexible checksum headers (x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
 *   x-amz-trailer, aws-chunked content) is refused, 400 InvalidArgument (talos-backup#64, coldfront#42); DeleteObjects
 *   is not implemented (400 NotImplemented, as GCS's XML API answers).</li>
 * </ul>
 * Everything else is forwarded unchanged (one request per connection, see {@link HttpProxy}), so the objects
 * really are where the store would have put them. {@link #refusals()} lists what was refused and why.
 */
final class StoreQuirkProxy extends HttpProxy {
    enum Store { R2, B2, GCS }

    static final String R2_UNEQUAL = "All non-trailing parts must have the same length.";
    static final String B2_TOO_SMALL = "The request body was too small";

    private final Store store;
    /** Part sizes by upload id and part number, as the store received them. */
    private final Map<String, Map<Integer, Long>> parts = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger uploadParts = new AtomicInteger();
    private final AtomicInteger burstLeft = new AtomicInteger();
    volatile int burstEvery = 9;
    volatile int burstLength = 3;
    volatile int tooSmallEvery = 5;
    /** B2: whether If-None-Match is dropped (see the class comment). */
    volatile boolean ignoreConditions;

    StoreQuirkProxy(Store store, String upstreamEndpoint) throws IOException {
        super(upstreamEndpoint, "quirk-proxy");
        this.store = store;
    }

    /** Every request seen, in order, with "pass" or what was answered instead. */
    List<String> log() { return List.copyOf(log); }

    /** The requests refused or answered by a rule: "RULE: request". */
    List<String> refusals() { return List.copyOf(refusals); }

    long refused(String rule) { return refusals.stream().filter(r -> r.startsWith(rule + ":")).count(); }

    /** Parts received per upload id (the sizes, by part number). */
    Map<String, Map<Integer, Long>> parts() { return Map.copyOf(parts); }

    @Override
    protected void serve(Socket client, Request request, List<String> lines) throws IOException {
        OutputStream out = client.getOutputStream();
        continueIfExpected(lines, out);
        byte[] body = readBody(client.getInputStream(), lines, -1);
        if (body == null) return;
        String refusal = apply(request, lines, body, out);
        log.add(request + " -> " + (refusal == null ? "pass" : refusal));
        if (refusal != null) {
            refusals.add(refusal + ": " + request);
            return;
        }
        if (store == Store.B2 && ignoreConditions) lines.removeIf(h -> h.toLowerCase(Locale.ROOT).startsWith("if-none-match:"));
        forward(client, lines, body);
    }

    /** The store's rules: answers and returns the rule's name when the request is not forwarded, else null. */
    private String apply(Request r, List<String> lines, byte[] body, OutputStream out) throws IOException {
        requests.incrementAndGet();
        switch (store) {
            case R2 -> {
                if (header(lines, "x-amz-storage-class").isPresent()) {
                    answer(out, 400, "InvalidStorageClass", "The storage class you specified is not valid");
                    return "storage-class";
                }
                if (r.isUploadPart()) record(r, lines, body);
                if (r.isCompleteUpload() && !equalParts(r.param("uploadId"), body)) {
                    answer(out, 400, "InvalidPart", R2_UNEQUAL);
                    return "unequal-parts";
                }
            }
            case B2 -> {
                if (burstLeft.get() == 0 && requests.get() % burstEvery == 0) burstLeft.set(burstLength);
                if (burstLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    boolean unavailable = requests.get() % 2 == 0;
                    answer(out, unavailable ? 503 : 500, unavailable ? "ServiceUnavailable" : "InternalError",
                            unavailable ? "Service Unavailable" : "An internal error occurred.  Please retry your upload.");
                    return "burst";
                }
                if (r.isUploadPart() && uploadParts.incrementAndGet() % tooSmallEvery == 0) {
                    answer(out, 400, "InvalidRequest", B2_TOO_SMALL);
                    return "too-small";
                }
                if (r.isDeleteObjects()) {
                    answerXml(out, 200, "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Error></Error></DeleteResult>", null, false);
                    return "malformed-delete-reply";
                }
            }
            case GCS -> {
                for (String h : lines.subList(1, lines.size())) {
                    String name = h.substring(0, Math.max(0, h.indexOf(':'))).strip().toLowerCase(Locale.ROOT);
                    String value = h.substring(h.indexOf(':') + 1).strip().toLowerCase(Locale.ROOT);
                    if (name.startsWith("x-amz-checksum-") && !name.equals("x-amz-checksum-mode") || name.equals("x-amz-sdk-checksum-algorithm")
                            || name.equals("x-amz-trailer") || name.equals("content-encoding") && value.contains("aws-chunked")
                            || name.equals("x-amz-content-sha256") && value.contains("trailer")) {
                        answer(out, 400, "InvalidArgument", "Invalid argument.");
                        return "checksum-header " + name;
                    }
                }
                if (r.isDeleteObjects()) {
                    answer(out, 400, "NotImplemented", "A header or query you provided requested a function that is not implemented.");
                    return "delete-objects";
                }
            }
            default -> { }
        }
        return null;
    }

    private void record(Request r, List<String> lines, byte[] body) {
        long size = header(lines, "x-amz-decoded-content-length").map(Long::parseLong).orElse((long) body.length);
        parts.computeIfAbsent(r.param("uploadId"), k -> new ConcurrentHashMap<>()).put(Integer.parseInt(r.param("partNumber")), size);
    }

    private static final Pattern PART_NUMBER = Pattern.compile("<PartNumber>(\\d+)</PartNumber>");

    /** R2's rule over the parts the completion lists: every one but the last the same length. */
    private boolean equalParts(String uploadId, byte[] body) {
        Map<Integer, Long> received = parts.getOrDefault(uploadId, Map.of());
        TreeMap<Integer, Long> listed = new TreeMap<>();
        Matcher m = PART_NUMBER.matcher(new String(body, StandardCharsets.UTF_8));
        while (m.find()) {
            int n = Integer.parseInt(m.group(1));
            listed.put(n, received.getOrDefault(n, -1L));
        }
        if (listed.size() <= 1) return true;
        long first = listed.firstEntry().getValue();
        for (var e : listed.headMap(listed.lastKey()).entrySet()) if (e.getValue() != first) return false;
        return listed.lastEntry().getValue() <= first;
    }

    private static void answer(OutputStream out, int status, String code, String message) throws IOException {
        answerXml(out, status, "<Error><Code>" + code + "</Code><Message>" + message + "</Message><RequestId>QUIRK" + System.nanoTime() + "</RequestId></Error>", null, false);
    }

    /** Sends the request upstream on a fresh connection and relays the whole answer (both sides Connection: close). */
    private void forward(Socket client, List<String> lines, byte[] body) throws IOException {
        try (Socket upstream = sendUpstream(lines, body)) {
            InputStream fromUp = upstream.getInputStream();
            byte[] respHead = readHead(fromUp);
            if (respHead == null) {
                reset(client);
                return;
            }
            OutputStream out = client.getOutputStream();
            relayHead(out, respHead, -1);
            fromUp.transferTo(out);
            out.flush();
        }
    }
}
