import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Dead man's switch pings, healthchecks.io style: the URL on success, the URL with {@code /fail} appended to its path
 * on a problem; the body says what was found (healthchecks.io shows it with the ping). A template with {@code {name}}
 * is pinged once per backup name (e.g. https://hc-ping.com/PING_KEY/{name}, one check per database, created on first
 * ping with ?create=1); one without is pinged once for the whole check (fail when any name has a problem). Because
 * the receiving side alerts when pings stop, this catches what no output of the check can: the check itself not running.
 *
 * <p>Every ping is bounded by the timeout ({@link HttpPost}); once a host has not answered in time, the remaining pings
 * to it are not sent (reported as such), so a hanging endpoint costs one timeout, not one per name. A failed ping is
 * reported and never changes the check's verdict or exit code.
 */
final class Pings {
    static final String NAME = "{name}";
    /** healthchecks.io keeps the first 100 kB of a ping body; the gist of a failure fits well within 10. */
    static final int MAX_BODY = 10_000;
    static final int PARALLEL = 8;

    /** One ping: for a name, or for the whole check (name null). */
    record Result(String name, String where, boolean fail, Integer status, String error) {
        boolean ok() { return error == null && status != null && status >= 200 && status < 300; }

        String describe() {
            return "ping " + (name == null ? "for the whole check" : "for " + name) + " (" + (fail ? "fail" : "success") + ") to " + where + ": "
                    + (ok() ? "HTTP " + status : error != null ? error : "HTTP " + status);
        }
    }

    /** Checks the templates before anything is read (a usage error, never echoing the URL). */
    static void check(List<String> templates) {
        for (String t : templates) HttpPost.url("--ping-url", t.replace(NAME, "name"));
    }

    static List<Result> send(List<String> templates, List<BackupHealth> healths, Duration timeout) {
        record Ping(String name, URI uri, boolean fail, String body) {}
        List<Ping> pings = new ArrayList<>();
        for (String template : templates) {
            if (template.contains(NAME)) {
                for (BackupHealth h : healths) {
                    URI uri = HttpPost.url("--ping-url", template.replace(NAME, h.name()));
                    pings.add(new Ping(h.name(), h.ok() ? uri : fail(uri), !h.ok(), body(List.of(h))));
                }
            } else {
                URI uri = HttpPost.url("--ping-url", template);
                boolean allOk = healths.stream().allMatch(BackupHealth::ok);
                pings.add(new Ping(null, allOk ? uri : fail(uri), !allOk, body(healths)));
            }
        }
        Map<String, String> deadHosts = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, Threads.daemons("ping"));
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (Ping p : pings) {
                futures.add(pool.submit(() -> {
                    String host = HttpPost.where(p.uri());
                    String dead = deadHosts.get(host);
                    if (dead != null) return new Result(p.name(), host, p.fail(), null, "not sent: an earlier ping to this host got " + dead);
                    HttpPost.Outcome o = HttpPost.send(p.uri(), "text/plain; charset=utf-8", p.body().getBytes(StandardCharsets.UTF_8), timeout);
                    if (o.status() == null && o.error() != null && o.error().startsWith("no answer")) deadHosts.putIfAbsent(host, o.error());
                    return new Result(p.name(), host, p.fail(), o.status(), o.error());
                }));
            }
            List<Result> results = new ArrayList<>();
            for (Future<Result> f : futures) results.add(f.get());
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Exit.FAILED, "interrupted while pinging");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * When the check reached no verdict (S3 unreachable, access denied): the whole-check templates get /fail with the
     * reason; per-name templates are not pinged, having nothing to say about any name.
     */
    static List<Result> sendFailure(List<String> templates, String reason, Duration timeout) {
        List<Result> results = new ArrayList<>();
        for (String template : templates) {
            if (template.contains(NAME)) continue;
            URI uri = fail(HttpPost.url("--ping-url", template));
            HttpPost.Outcome o = HttpPost.send(uri, "text/plain; charset=utf-8", ("the check failed: " + reason + "\n").getBytes(StandardCharsets.UTF_8), timeout);
            results.add(new Result(null, HttpPost.where(uri), true, o.status(), o.error()));
        }
        return results;
    }

    /** The URL with /fail appended to its path (before any query: ?create=1 stays a query). */
    static URI fail(URI uri) {
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
        return URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + path + "/fail" + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    }

    /** The problems, one per line, or what is fine. */
    static String body(List<BackupHealth> healths) {
        StringBuilder sb = new StringBuilder();
        long bad = healths.stream().filter(h -> !h.ok()).count();
        sb.append(bad == 0 ? "ok: " + healths.size() + " backup name" + (healths.size() == 1 ? "" : "s") + " checked"
                : bad + " of " + healths.size() + " backup name" + (healths.size() == 1 ? "" : "s") + " need attention").append('\n');
        for (BackupHealth h : healths) {
            if (h.ok()) {
                sb.append(h.name()).append(": ok").append('\n');
            } else {
                for (BackupHealth.Problem p : h.problems()) sb.append(p.verdict().label()).append(": ").append(p.message()).append('\n');
            }
        }
        String s = sb.toString();
        return s.length() <= MAX_BODY ? s : s.substring(0, MAX_BODY - 20) + "\n... (cut)\n";
    }

    private Pings() {}
}
