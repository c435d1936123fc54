import java.io.ByteArrayOutputStream;
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
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the test proxies in front of S3 ({@link FaultProxy}, {@link StoreQuirkProxy}) share: an HTTP/1.1 proxy on
 * 127.0.0.1 that reads each request's head, hands it to {@link #serve} (which reads the body, answers itself or
 * {@link #sendUpstream forwards}), one request per connection: the request goes upstream on a fresh connection with
 * {@code Connection: close} and the answer comes back with {@code Connection: close}, so one client connection carries
 * one request and what a subclass does to it never leaks into the next. Signatures stay valid: the Host header is not
 * rewritten (the emulators do not check it against their own address).
 */
abstract class HttpProxy implements AutoCloseable {

    /** One request as the proxy saw it. */
    record Request(String method, String path, String query, List<String> headers) {
        boolean has(String param) {
            for (String p : query.split("&")) if (p.equals(param) || p.startsWith(param + "=")) return true;
            return false;
        }
        /** A query parameter's decoded value, "" when absent. */
        String param(String name) {
            for (String p : query.split("&")) if (p.startsWith(name + "=")) return java.net.URLDecoder.decode(p.substring(name.length() + 1), StandardCharsets.UTF_8);
            return "";
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
                    && headers.stream().anyMatch(h -> h.toLowerCase(Locale.ROOT).replace(" ", "").equals("range:bytes=0-"));
        }
        @Override public String toString() { return method + " " + path + (query.isEmpty() ? "" : "?" + query); }
    }

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final String name;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    protected volatile boolean closed;

    HttpProxy(String upstreamEndpoint, String name) throws IOException {
        URI up = URI.create(upstreamEndpoint);
        this.upstreamHost = up.getHost();
        this.upstreamPort = up.getPort();
        this.name = name;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, name);
        accept.setDaemon(true);
        accept.start();
    }

    String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    /**
     * One request whose head has been read (lines: the request line, then the headers; the body is still in the
     * socket). Answers it, or forwards it with {@link #sendUpstream}. The connection is closed afterwards.
     */
    protected abstract void serve(Socket client, Request request, List<String> lines) throws IOException, InterruptedException;

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                open.add(client);
                Thread t = new Thread(() -> connection(client), name + "-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void connection(Socket client) {
        try (client) {
            byte[] head = readHead(client.getInputStream());
            if (head == null) return;
            List<String> lines = new ArrayList<>(List.of(new String(head, StandardCharsets.ISO_8859_1).split("\r\n")));
            String[] requestLine = lines.get(0).split(" ");
            String target = requestLine[1];
            int q = target.indexOf('?');
            Request request = new Request(requestLine[0], q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1),
                    List.copyOf(lines.subList(1, lines.size())));
            serve(client, request, lines);
        } catch (IOException | InterruptedException | RuntimeException e) {
            // the client or the server went away
        } finally {
            open.remove(client);
        }
    }

    /** Answers {@code Expect: 100-continue} here (it is not passed on). */
    static void continueIfExpected(List<String> lines, OutputStream out) throws IOException {
        if (header(lines, "expect").map(v -> v.equalsIgnoreCase("100-continue")).orElse(false)) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
    }

    /**
     * Sends the request upstream on a fresh connection (without Expect and Connection, with {@code Connection: close})
     * and returns that connection, its answer not yet read: the caller relays it and closes the socket.
     */
    protected Socket sendUpstream(List<String> lines, byte[] body) throws IOException {
        Socket upstream = new Socket(upstreamHost, upstreamPort);
        try {
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
            return upstream;
        } catch (IOException | RuntimeException e) {
            upstream.close();
            throw e;
        }
    }

    /**
     * Writes an answer's head to the client as {@code Connection: close}; {@code contentLength} >= 0 replaces the
     * upstream's Content-Length (a response cut short on purpose).
     */
    static void relayHead(OutputStream out, byte[] responseHead, long contentLength) throws IOException {
        StringBuilder rh = new StringBuilder();
        String[] lines = new String(responseHead, StandardCharsets.ISO_8859_1).split("\r\n");
        rh.append(lines[0]).append("\r\n");
        for (int i = 1; i < lines.length; i++) {
            String lower = lines[i].toLowerCase(Locale.ROOT);
            if (lower.startsWith("connection:")) continue;
            if (contentLength >= 0 && lower.startsWith("content-length:")) {
                rh.append("Content-Length: ").append(contentLength).append("\r\n");
                continue;
            }
            rh.append(lines[i]).append("\r\n");
        }
        rh.append("Connection: close\r\n\r\n");
        out.write(rh.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /**
     * Answers here, as S3 does: an XML body (none for a HEAD, its length still said), the request id in a header too when
     * given (S3 sends x-amz-request-id), {@code Connection: close}.
     */
    static void answerXml(OutputStream out, int status, String xml, String requestId, boolean headOnly) throws IOException {
        byte[] bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml).getBytes(StandardCharsets.UTF_8);
        String reason = switch (status) { case 200 -> "OK"; case 400 -> "Bad Request"; case 403 -> "Forbidden"; case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable"; default -> "Error"; };
        out.write(("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\n"
                + (requestId == null ? "" : "x-amz-request-id: " + requestId + "\r\n") + "Content-Length: " + (headOnly ? 0 : bytes.length)
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        if (!headOnly) out.write(bytes);
        out.flush();
    }

    static Optional<String> header(List<String> lines, String name) {
        for (String h : lines.subList(1, lines.size())) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).strip().equalsIgnoreCase(name)) return Optional.of(h.substring(colon + 1).strip());
        }
        return Optional.empty();
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

    /** Stops accepting and resets every connection still open. Subclasses release what they hold first. */
    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) reset(s);
    }
}
