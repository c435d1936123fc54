import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of the S3 emulator that injects faults into chosen requests: S3
 * error answers (500 InternalError, 503 SlowDown, 400 ExpiredToken, ...), connections reset half-way through a
 * request or a response, stalls, request bodies no longer read and requests never answered (a stalled upload),
 * and requests held until the test lets them go (to kill a process at an exact point). Each {@link Rule} matches
 * requests (UploadPart, CompleteMultipartUpload, the manifest's PutObject, ...) and applies its fault N times or
 * forever; everything else passes through unchanged.
 *
 * <p>How: every request is read whole (head and body), then either answered here or sent upstream on a fresh
 * connection with {@code Connection: close}, and the answer relayed with {@code Connection: close} too, so
 * one client connection carries one request and a fault never leaks into the next. {@code Expect:
 * 100-continue} is answered here (and not passed on). Signatures stay valid: the Host header is not rewritten
 * (the emulator does not check it against its own address).
 */
final class FaultProxy implements AutoCloseable {

    /** One request as the proxy saw it. */
    record Request(String method, String path, String query, List<String> headers) {
        boolean has(String param) {
            for (String p : query.split("&")) if (p.equals(param) || p.startsWith(param + "=")) return true;
            return false;
        }
        /** The object key (path-style: /bucket/key), "" for bucket-level requests. */
        String key() {
            int slash = path.indexOf('/', 1);
            return slash < 0 ? "" : java.net.URLDecoder.decode(path.substring(slash + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
        }
        boolean isUploadPart() { return method.equals("PUT") && has("partNumber") && has("uploadId"); }
        boolean isCreateUpload() { return method.equals("POST") && has("uploads"); }
        boolean isCompleteUpload() { return method.equals("POST") && has("uploadId"); }
        boolean isAbortUpload() { return method.equals("DELETE") && has("uploadId"); }
        boolean isPutObject() { return method.equals("PUT") && !has("uploadId") && !key().isEmpty(); }
        boolean isGetObject() { return method.equals("GET") && !key().isEmpty() && !has("uploadId"); }
        boolean isDeleteObjects() { return method.equals("POST") && has("delete"); }
        boolean isManifestPut() { return isPutObject() && key().endsWith(".manifest.json"); }
        /** A GET of the dump's bytes by a download (not restore's read of the TOC at its start: Range bytes=0-, see lib/RemoteToc). */
        boolean isDumpGet() { return isGetObject() && key().endsWith(".dump") && !isTocRead(); }
        boolean isTocRead() {
            return isGetObject() && key().endsWith(".dump")
                    && headers.stream().anyMatch(h -> h.toLowerCase(java.util.Locale.ROOT).replace(" ", "").equals("range:bytes=0-"));
        }
        @Override public String toString() { return method + " " + path + (query.isEmpty() ? "" : "?" + query); }
    }

    /** What a rule does to a request it matches. */
    enum Kind { ERROR, RESET_IN_REQUEST_BODY, RESET_BEFORE_FORWARD, RESET_AFTER_FORWARD, RESET_IN_RESPONSE, SHORT_RESPONSE, STALL, STALL_IN_RESPONSE, HOLD,
        STOP_READING_REQUEST_BODY, NEVER_ANSWER }

    /** A fault for the requests a predicate matches, applied {@code times} times (or forever, -1). */
    static final class Rule {
        final String name;
        final Predicate<Request> match;
        final Kind kind;
        final AtomicInteger left;
        final AtomicInteger applied = new AtomicInteger();
        private int status;
        private String code = "";
        private String message = "";
        private long bytes;
        private Duration stall = Duration.ZERO;
        private final CountDownLatch hit = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        private Rule(String name, Predicate<Request> match, Kind kind, int times) {
            this.name = name;
            this.match = match;
            this.kind = kind;
            this.left = new AtomicInteger(times);
        }

        private boolean take(Request r) {
            if (!match.test(r)) return false;
            while (true) {
                int n = left.get();
                if (n == 0) return false;
                if (n < 0 || left.compareAndSet(n, n - 1)) {
                    applied.incrementAndGet();
                    hit.countDown();
                    return true;
                }
            }
        }

        /** Blocks until this rule has been applied at least once. */
        void awaitHit(Duration timeout) throws InterruptedException {
            if (!hit.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new AssertionError("no request matched rule '" + name + "' within " + timeout);
        }

        /** Lets held requests go on (HOLD). */
        void release() { released.countDown(); }

        int applied() { return applied.get(); }

        @Override public String toString() { return name + " (" + kind + ", applied " + applied.get() + ")"; }
    }

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    FaultProxy(String upstreamEndpoint) throws IOException {
        URI up = URI.create(upstreamEndpoint);
        this.upstreamHost = up.getHost();
        this.upstreamPort = up.getPort();
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "fault-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    /** Every request seen, in order, with what was done to it ("pass" or the rule's name). */
    List<String> log() { return List.copyOf(log); }

    // ---- rules ----------------------------------------------------------------------------------------------

    /** Answers an S3 error (XML body as S3 writes it) instead of forwarding. */
    Rule error(String name, Predicate<Request> match, int times, int status, String code, String message) {
        Rule r = add(new Rule(name, match, Kind.ERROR, times));
        r.status = status;
        r.code = code;
        r.message = message;
        return r;
    }

    Rule slowDown(String name, Predicate<Request> match, int times) { return error(name, match, times, 503, "SlowDown", "Please reduce your request rate."); }

    Rule internalError(String name, Predicate<Request> match, int times) {
        return error(name, match, times, 500, "InternalError", "We encountered an internal error. Please try again.");
    }

    /** Resets the connection after {@code afterBytes} of the request body have arrived (an upload cut mid-way). */
    Rule resetInRequestBody(String name, Predicate<Request> match, int times, long afterBytes) {
        Rule r = add(new Rule(name, match, Kind.RESET_IN_REQUEST_BODY, times));
        r.bytes = afterBytes;
        return r;
    }

    /** Resets the connection once the whole request has arrived, without forwarding it: S3 never saw it. */
    Rule resetBeforeForward(String name, Predicate<Request> match, int times) { return add(new Rule(name, match, Kind.RESET_BEFORE_FORWARD, times)); }

    /** Forwards the request, then resets the client's connection instead of relaying the answer: done, but the client cannot know. */
    Rule resetAfterForward(String name, Predicate<Request> match, int times) { return add(new Rule(name, match, Kind.RESET_AFTER_FORWARD, times)); }

    /** Ends the connection after exactly {@code afterBytes} of the response body (a download cut mid-way: the body ends early). */
    Rule resetInResponse(String name, Predicate<Request> match, int times, long afterBytes) {
        Rule r = add(new Rule(name, match, Kind.RESET_IN_RESPONSE, times));
        r.bytes = afterBytes;
        return r;
    }

    /**
     * Answers with only the first {@code bytes} of the body and a Content-Length that says so: a complete, well-formed
     * response that is shorter than the object (a middlebox or S3 misbehaving; the object itself is whole).
     */
    Rule shortResponse(String name, Predicate<Request> match, int times, long bytes) {
        Rule r = add(new Rule(name, match, Kind.SHORT_RESPONSE, times));
        r.bytes = bytes;
        return r;
    }

    /** Waits {@code stall} before forwarding the request (S3, or the network, stalling). */
    Rule stall(String name, Predicate<Request> match, int times, Duration stall) {
        Rule r = add(new Rule(name, match, Kind.STALL, times));
        r.stall = stall;
        return r;
    }

    /** Relays {@code afterBytes} of the response body, then nothing for {@code stall}, then the rest. */
    Rule stallInResponse(String name, Predicate<Request> match, int times, long afterBytes, Duration stall) {
        Rule r = add(new Rule(name, match, Kind.STALL_IN_RESPONSE, times));
        r.bytes = afterBytes;
        r.stall = stall;
        return r;
    }

    /**
     * Reads {@code afterBytes} of the request body, then stops reading it and never answers, the connection left open
     * (a server or middlebox that stops reading an upload): once the socket buffers are full, the client's write blocks,
     * where no read timeout applies. The receive buffer is shrunk so that it fills after a few KiB, not megabytes.
     */
    Rule stopReadingRequestBody(String name, Predicate<Request> match, int times, long afterBytes) {
        Rule r = add(new Rule(name, match, Kind.STOP_READING_REQUEST_BODY, times));
        r.bytes = afterBytes;
        return r;
    }

    /** Reads the whole request, forwards nothing and never answers, the connection left open until the client gives up. */
    Rule neverAnswer(String name, Predicate<Request> match, int times) { return add(new Rule(name, match, Kind.NEVER_ANSWER, times)); }

    /** Holds matching requests (unanswered, connection open) until {@link Rule#release()}, then forwards them. */
    Rule hold(String name, Predicate<Request> match, int times) { return add(new Rule(name, match, Kind.HOLD, times)); }

    private Rule add(Rule r) {
        rules.add(r);
        return r;
    }

    void clearRules() {
        for (Rule r : rules) r.release();
        rules.clear();
    }

    // ---- the proxy ------------------------------------------------------------------------------------------

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                open.add(client);
                Thread t = new Thread(() -> serve(client), "fault-proxy-conn");
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
            byte[] head = readHead(in);
            if (head == null) return;
            List<String> lines = new ArrayList<>(List.of(new String(head, StandardCharsets.ISO_8859_1).split("\r\n")));
            String[] requestLine = lines.get(0).split(" ");
            String target = requestLine[1];
            int q = target.indexOf('?');
            Request request = new Request(requestLine[0], q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1),
                    List.copyOf(lines.subList(1, lines.size())));
            Rule rule = null;
            for (Rule r : rules) {
                if (r.take(request)) {
                    rule = r;
                    break;
                }
            }
            log.add(request + " -> " + (rule == null ? "pass" : rule.name));

            boolean expectContinue = header(lines, "expect").map(v -> v.equalsIgnoreCase("100-continue")).orElse(false);
            if (expectContinue) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            boolean stopReading = rule != null && rule.kind == Kind.STOP_READING_REQUEST_BODY;
            if (stopReading) client.setReceiveBufferSize(4096);
            long resetAt = rule != null && (rule.kind == Kind.RESET_IN_REQUEST_BODY || stopReading) ? rule.bytes : -1;
            byte[] body = readBody(in, lines, resetAt);
            if (body == null && stopReading) { // the body stops moving: read nothing more, answer nothing
                while (!closed) Thread.sleep(100);
                reset(client);
                return;
            }
            if (body == null) { // cut mid-body
                reset(client);
                return;
            }
            if (rule != null) {
                switch (rule.kind) {
                    case ERROR -> {
                        answerError(out, request, rule);
                        return;
                    }
                    case RESET_BEFORE_FORWARD -> {
                        reset(client);
                        return;
                    }
                    case STALL -> Thread.sleep(rule.stall.toMillis());
                    case NEVER_ANSWER -> {
                        client.setSoTimeout(100);
                        while (!closed) {
                            try {
                                if (in.read() < 0) return; // the client gave up and closed the connection
                            } catch (java.net.SocketTimeoutException stillThere) {
                                // keep waiting
                            }
                        }
                        reset(client);
                        return;
                    }
                    case HOLD -> {
                        while (!closed && !rule.released.await(100, TimeUnit.MILLISECONDS)) {
                            if (client.isClosed()) return;
                        }
                        if (closed) {
                            reset(client);
                            return;
                        }
                    }
                    default -> { }
                }
            }
            forward(client, lines, body, rule);
        } catch (IOException | InterruptedException | RuntimeException e) {
            // the client or the emulator went away
        } finally {
            open.remove(client);
        }
    }

    private void forward(Socket client, List<String> lines, byte[] body, Rule rule) throws IOException, InterruptedException {
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
            byte[] respHead = readHead(fromUp);
            if (rule != null && rule.kind == Kind.RESET_AFTER_FORWARD) {
                reset(client);
                return;
            }
            if (respHead == null) {
                reset(client);
                return;
            }
            OutputStream out = client.getOutputStream();
            StringBuilder rh = new StringBuilder();
            String[] rlines = new String(respHead, StandardCharsets.ISO_8859_1).split("\r\n");
            rh.append(rlines[0]).append("\r\n");
            boolean shorten = rule != null && rule.kind == Kind.SHORT_RESPONSE;
            for (int i = 1; i < rlines.length; i++) {
                if (rlines[i].toLowerCase(Locale.ROOT).startsWith("connection:")) continue;
                if (shorten && rlines[i].toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    rh.append("Content-Length: ").append(rule.bytes).append("\r\n");
                    continue;
                }
                rh.append(rlines[i]).append("\r\n");
            }
            rh.append("Connection: close\r\n\r\n");
            out.write(rh.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] buf = new byte[16 * 1024];
            long relayed = 0;
            boolean stalled = false;
            int n;
            while ((n = fromUp.read(buf)) > 0) {
                if (shorten && relayed + n >= rule.bytes) {
                    out.write(buf, 0, (int) (rule.bytes - relayed));
                    out.flush();
                    return;
                }
                if (rule != null && (rule.kind == Kind.RESET_IN_RESPONSE || rule.kind == Kind.STALL_IN_RESPONSE) && !stalled && relayed + n > rule.bytes) {
                    int first = (int) Math.max(0, rule.bytes - relayed);
                    out.write(buf, 0, first);
                    out.flush();
                    if (rule.kind == Kind.RESET_IN_RESPONSE) {
                        // FIN, not RST: a reset would also discard what the client has not read yet, so the cut
                        // would land anywhere before afterBytes. The client sees the body end early.
                        client.shutdownOutput();
                        return;
                    }
                    Thread.sleep(rule.stall.toMillis());
                    stalled = true;
                    out.write(buf, first, n - first);
                } else {
                    out.write(buf, 0, n);
                }
                out.flush();
                relayed += n;
            }
        }
    }

    private static void answerError(OutputStream out, Request request, Rule rule) throws IOException {
        String id = "FAULT" + Long.toHexString(System.nanoTime()).toUpperCase(Locale.ROOT);
        byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + rule.code + "</Code><Message>" + rule.message
                + "</Message><RequestId>" + id + "</RequestId><HostId>fault-proxy</HostId></Error>").getBytes(StandardCharsets.UTF_8);
        boolean head = request.method().equals("HEAD");
        String reason = switch (rule.status) { case 400 -> "Bad Request"; case 403 -> "Forbidden"; case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable"; default -> "Error"; };
        String h = "HTTP/1.1 " + rule.status + " " + reason + "\r\nContent-Type: application/xml\r\nx-amz-request-id: " + id
                + "\r\nContent-Length: " + (head ? 0 : xml.length) + "\r\nConnection: close\r\n\r\n";
        out.write(h.getBytes(StandardCharsets.ISO_8859_1));
        if (!head) out.write(xml);
        out.flush();
    }

    static java.util.Optional<String> header(List<String> lines, String name) {
        for (String h : lines.subList(1, lines.size())) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).strip().equalsIgnoreCase(name)) return java.util.Optional.of(h.substring(colon + 1).strip());
        }
        return java.util.Optional.empty();
    }

    /** The head up to and including the blank line, without the final CRLF CRLF; null at EOF before any byte. */
    static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (true) {
            int c = in.read();
            if (c < 0) return b.size() == 0 ? null : b.toByteArray();
            b.write(c);
            state = switch (state) {
                case 0 -> c == '\r' ? 1 : 0;
                case 1 -> c == '\n' ? 2 : c == '\r' ? 1 : 0;
                case 2 -> c == '\r' ? 3 : 0;
                case 3 -> c == '\n' ? 4 : c == '\r' ? 1 : 0;
                default -> 0;
            };
            if (state == 4) {
                byte[] all = b.toByteArray();
                return java.util.Arrays.copyOf(all, all.length - 4);
            }
        }
    }

    /** The raw body (Content-Length or chunked, framing kept); null when cut at {@code resetAt} bytes. */
    static byte[] readBody(InputStream in, List<String> lines, long resetAt) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        var length = header(lines, "content-length");
        boolean chunked = header(lines, "transfer-encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false);
        if (chunked) {
            while (true) {
                String size = readLine(in);
                body.write((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                int n = Integer.parseInt(size.split(";")[0].strip(), 16);
                if (n == 0) {
                    for (String t; !(t = readLine(in)).isEmpty(); ) body.write((t + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    body.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    return body.toByteArray();
                }
                if (!copy(in, body, n + 2, resetAt)) return null;
            }
        }
        long n = length.map(Long::parseLong).orElse(0L);
        return copy(in, body, n, resetAt) ? body.toByteArray() : null;
    }

    private static boolean copy(InputStream in, ByteArrayOutputStream to, long n, long resetAt) throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) throw new IOException("request body ended early");
            to.write(buf, 0, r);
            n -= r;
            if (resetAt >= 0 && to.size() >= resetAt) return false;
        }
        return true;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') break;
            if (c != '\r') sb.append((char) c);
        }
        return sb.toString();
    }

    /** Closes with SO_LINGER 0: the peer sees a TCP reset ("Connection reset"), not an orderly end. */
    static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        for (Rule r : rules) r.release();
        server.close();
        for (Socket s : open) reset(s);
    }
}
