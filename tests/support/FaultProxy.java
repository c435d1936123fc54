import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
 * <p>Requests are read whole, then answered here or forwarded, one per connection (see {@link HttpProxy}).
 */
final class FaultProxy extends HttpProxy {

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

    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();

    FaultProxy(String upstreamEndpoint) throws IOException { super(upstreamEndpoint, "fault-proxy"); }

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

    @Override
    protected void serve(Socket client, Request request, List<String> lines) throws IOException, InterruptedException {
        InputStream in = client.getInputStream();
        OutputStream out = client.getOutputStream();
        Rule rule = null;
        for (Rule r : rules) {
            if (r.take(request)) {
                rule = r;
                break;
            }
        }
        log.add(request + " -> " + (rule == null ? "pass" : rule.name));

        continueIfExpected(lines, out);
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
    }

    private void forward(Socket client, List<String> lines, byte[] body, Rule rule) throws IOException, InterruptedException {
        try (Socket upstream = sendUpstream(lines, body)) {
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
            boolean shorten = rule != null && rule.kind == Kind.SHORT_RESPONSE;
            OutputStream out = client.getOutputStream();
            relayHead(out, respHead, shorten ? rule.bytes : -1);
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
        answerXml(out, rule.status, "<Error><Code>" + rule.code + "</Code><Message>" + rule.message + "</Message><RequestId>" + id
                + "</RequestId><HostId>fault-proxy</HostId></Error>", id, request.method().equals("HEAD"));
    }

    @Override
    public void close() throws IOException {
        closed = true;
        for (Rule r : rules) r.release();
        super.close();
    }
}
