import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 * Everything else is forwarded unchanged (one request per connection, as {@link FaultProxy} does), so the objects
 * really are where the store would have put them. {@link #refusals()} lists what was refused and why.
 */
final class StoreQuirkProxy implements AutoCloseable {
    enum Store { R2, B2, GCS }

    static final String R2_UNEQUAL = "All non-trailing parts must have the same length.";
    static final String B2_TOO_SMALL = "The request body was too small";

    private final Store store;
    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    /** Part sizes by upload id and part number, as the store received them. */
    private final Map<String, Map<Integer, Long>> parts = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger uploadParts = new AtomicInteger();
    private final AtomicInteger burstLeft = new AtomicInteger();
    volatile int burstEvery = 9;
    volatile int burstLength = 3;
    volatile int tooSmallEvery = 5;
    /** B2: whether If-None-Match is dropped (see the class comment). */
    volatile boolean ignoreConditions;

    StoreQuirkProxy(Store store, String upstreamEndpoint) throws IOException {
        this.store = store;
        URI up = URI.create(upstreamEndpoint);
        this.upstreamHost = up.getHost();
        this.upstreamPort = up.getPort();
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "quirk-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    /** Every request seen, in order, with "pass" or what was answered instead. */
    List<String> log() { return List.copyOf(log); }

    /** The requests refused or answered by a rule: "RULE: request". */
    List<String> refusals() { return List.copyOf(refusals); }

    long refused(String rule) { return refusals.stream().filter(r -> r.startsWith(rule + ":")).count(); }

    /** Parts received per upload id (the sizes, by part number). */
    Map<String, Map<Integer, Long>> parts() { return Map.copyOf(parts); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                open.add(client);
                Thread t = new Thread(() -> serve(client), "quirk-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            byte[] head = FaultProxy.readHead(in);
            if (head == null) return;
            List<String> lines = new ArrayList<>(List.of(new String(head, StandardCharsets.ISO_8859_1).split("\r\n")));
            String[] requestLine = lines.get(0).split(" ");
            String target = requestLine[1];
            int q = target.indexOf('?');
            FaultProxy.Request request = new FaultProxy.Request(requestLine[0], q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1),
                    List.copyOf(lines.subList(1, lines.size())));
            if (FaultProxy.header(lines, "expect").map(v -> v.equalsIgnoreCase("100-continue")).orElse(false)) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            byte[] body = FaultProxy.readBody(in, lines, -1);
            if (body == null) return;
            String refusal = apply(request, lines, body, out);
            log.add(request + " -> " + (refusal == null ? "pass" : refusal));
            if (refusal != null) {
                refusals.add(refusal + ": " + request);
                return;
            }
            if (store == Store.B2 && ignoreConditions) lines.removeIf(h -> h.toLowerCase(Locale.ROOT).startsWith("if-none-match:"));
            forward(client, lines, body);
        } catch (IOException | RuntimeException e) {
            // the client or the server went away
        } finally {
            open.remove(client);
        }
    }

    /** The store's rules: answers and returns the rule's name when the request is not forwarded, else null. */
    private String apply(FaultProxy.Request r, List<String> lines, byte[] body, OutputStream out) throws IOException {
        requests.incrementAndGet();
        switch (store) {
            case R2 -> {
                if (FaultProxy.header(lines, "x-amz-storage-class").isPresent()) {
                    answer(out, 400, "InvalidStorageClass", "The storage class you specified is not valid");
                    return "storage-class";
                }
                if (r.isUploadPart()) record(r, lines, body);
                if (r.isCompleteUpload() && !equalParts(param(r, "uploadId"), body)) {
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
                    answerXml(out, 200, "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Error></Error></DeleteResult>");
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

    private void record(FaultProxy.Request r, List<String> lines, byte[] body) {
        long size = FaultProxy.header(lines, "x-amz-decoded-content-length").map(Long::parseLong).orElse((long) body.length);
        parts.computeIfAbsent(param(r, "uploadId"), k -> new ConcurrentHashMap<>()).put(Integer.parseInt(param(r, "partNumber")), size);
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

    private static String param(FaultProxy.Request r, String name) {
        for (String p : r.query().split("&")) if (p.startsWith(name + "=")) return java.net.URLDecoder.decode(p.substring(name.length() + 1), StandardCharsets.UTF_8);
        return "";
    }

    private static void answer(OutputStream out, int status, String code, String message) throws IOException {
        answerXml(out, status, "<Error><Code>" + code + "</Code><Message>" + message + "</Message><RequestId>QUIRK" + System.nanoTime() + "</RequestId></Error>");
    }

    private static void answerXml(OutputStream out, int status, String xml) throws IOException {
        byte[] bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml).getBytes(StandardCharsets.UTF_8);
        String reason = switch (status) { case 200 -> "OK"; case 400 -> "Bad Request"; case 500 -> "Internal Server Error"; case 503 -> "Service Unavailable";
            default -> "Error"; };
        out.write(("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }

    /** Sends the request upstream on a fresh connection and relays the whole answer (both sides Connection: close). */
    private void forward(Socket client, List<String> lines, byte[] body) throws IOException {
        try (Socket upstream = new Socket(upstreamHost, upstreamPort)) {
            OutputStream up = upstream.getOutputStream();
            StringBuilder head = new StringBuilder(lines.get(0)).append("\r\n");
            for (String h : lines.subList(1, lines.size())) {
                String name = h.substring(0, Math.max(0, h.indexOf(':'))).strip().toLowerCase(Locale.ROOT);
                if (name.equals("expect") || name.equals("connection")) continue;
                head.append(h).append("\r\n");
            }
            head.append("Connection: close\r\n\r\n");
            up.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            up.write(body);
            up.flush();
            InputStream fromUp = upstream.getInputStream();
            byte[] respHead = FaultProxy.readHead(fromUp);
            if (respHead == null) {
                FaultProxy.reset(client);
                return;
            }
            OutputStream out = client.getOutputStream();
            StringBuilder rh = new StringBuilder();
            for (String line : new String(respHead, StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("connection:")) continue;
                rh.append(line).append("\r\n");
            }
            rh.append("Connection: close\r\n\r\n");
            out.write(rh.toString().getBytes(StandardCharsets.ISO_8859_1));
            fromUp.transferTo(out);
            out.flush();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) FaultProxy.reset(s);
    }
}
