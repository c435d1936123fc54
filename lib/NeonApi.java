import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * A client of the Neon API (https://console.neon.tech/api/v2), reading only what fleet discovery needs
 * (docs/fleet-neon.md#endpoints-and-fields-relied-on lists every endpoint and field relied on):
 * <ul>
 *   <li>{@code GET /projects} (cursor, limit, org_id): {@code projects[].id/name/org_id}, {@code unavailable_project_ids},
 *       {@code pagination.cursor};</li>
 *   <li>{@code GET /projects/{id}}: {@code project.id/name/org_id} (a project the listing called unavailable);</li>
 *   <li>{@code GET /projects/{id}/branches} (cursor, limit): {@code branches[].id/name/default/primary}, {@code pagination.next};</li>
 *   <li>{@code GET /projects/{id}/branches/{branch}/databases}: {@code databases[].name/owner_name};</li>
 *   <li>{@code GET /projects/{id}/connection_uri} (branch_id, database_name, role_name, pooled=false): {@code uri}.</li>
 * </ul>
 *
 * <p>The key comes from {@code NEON_API_KEY} only (never an option: argv is visible to every process) and is sent
 * only in the Authorization header, only over https (http only to a loopback emulator), never in a message. Every
 * call is a GET, so every call may be retried: 429 after its Retry-After (or a back-off), every thread of the client
 * waiting with it (the limit is the key's), bounded by the total wait; 423 (an operation in progress holds the project)
 * after a pause, 5xx and network faults after a back-off, bounded by the attempts and the total wait; then one
 * {@link Failure} naming what failed. Requests are paced below Neon's published limit (700 a minute, bursts of 40 a
 * second per route) so that a fleet's discovery meets no 429.
 */
final class NeonApi implements AutoCloseable {
    static final String KEY_ENV = "NEON_API_KEY";
    /** The API's base URL, as neonctl reads it; only the tests (the emulator) set it. */
    static final String HOST_ENV = "NEON_API_HOST";
    static final String DEFAULT_BASE = "https://console.neon.tech/api/v2";
    /** Neon's maximum page size of GET /projects. */
    static final int PROJECT_PAGE = 400;
    static final int BRANCH_PAGE = 100;
    /** An answer larger than this is not one of Neon's (a page of 400 projects is well under 1 MiB). */
    private static final int MAX_BODY = 16 << 20;
    /** Requests for one answer, 429s included: a limit that never lets up ends here even with a large wait budget. */
    private static final int MAX_REQUESTS = 200;
    /** A runaway listing (a cursor that never ends) stops here instead of looping forever. */
    private static final int MAX_PAGES = 10_000;

    /**
     * How hard to try. {@code attempts}: per request, all causes together; {@code maxWait}: the total of the pauses
     * one request may spend (a Retry-After beyond it fails at once, saying so); {@code lockedPause}: between 423s;
     * {@code requestsPerSecond}/{@code burst}: client-side pacing (0: none).
     */
    record Policy(int attempts, Duration maxWait, Duration lockedPause, Duration requestTimeout, Duration connectTimeout,
                  double requestsPerSecond, int burst) {
        /** 8 attempts, at most 3 minutes of pauses per request, 10 requests a second (Neon allows 700 a minute). */
        static Policy standard() {
            return new Policy(8, Duration.ofMinutes(3), Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(10), 10, 20);
        }

        Policy withAttempts(int n) { return new Policy(n, maxWait, lockedPause, requestTimeout, connectTimeout, requestsPerSecond, burst); }
        Policy withMaxWait(Duration d) { return new Policy(attempts, d, lockedPause, requestTimeout, connectTimeout, requestsPerSecond, burst); }
        Policy withLockedPause(Duration d) { return new Policy(attempts, maxWait, d, requestTimeout, connectTimeout, requestsPerSecond, burst); }
        Policy withRequestTimeout(Duration d) { return new Policy(attempts, maxWait, lockedPause, d, connectTimeout, requestsPerSecond, burst); }
        Policy withPacing(double perSecond, int burst) { return new Policy(attempts, maxWait, lockedPause, requestTimeout, connectTimeout, perSecond, burst); }
    }

    /** How a pause is taken (the tests record pauses instead of only living through them). */
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    record Project(String id, String name, String orgId) {}

    /** One listing of projects: those read, and those Neon knows of but could not describe in time. */
    record Projects(List<Project> projects, List<String> unavailableIds) {}

    /** {@code isDefault}: Neon's {@code default} (older answers: {@code primary}). */
    record Branch(String id, String name, boolean isDefault) {}

    record Database(String name, String ownerName) {}

    /** The Neon API refused or failed a request: the HTTP status (0 for a network fault) and Neon's request id, if any. */
    static final class ApiFailure extends Failure {
        final int status;
        final String requestId;

        ApiFailure(int exitCode, String message, int status, String requestId, Throwable cause) {
            super(exitCode, message, cause);
            this.status = status;
            this.requestId = requestId;
        }
    }

    private final URI base;
    private final String key;
    private final Policy policy;
    private final Sleeper sleeper;
    private final Consumer<String> warn;
    private final HttpClient http;
    private final Pacer pacer;

    NeonApi(String baseUrl, String key, Policy policy, Sleeper sleeper, Consumer<String> warn) {
        this.base = checkBase(baseUrl);
        this.key = checkKey(key);
        this.policy = policy;
        this.sleeper = sleeper;
        this.warn = warn;
        this.http = HttpClient.newBuilder().connectTimeout(policy.connectTimeout()).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
        this.pacer = new Pacer(policy.requestsPerSecond(), policy.burst());
    }

    /** The client of NEON_API_KEY (and NEON_API_HOST, default {@value #DEFAULT_BASE}) from {@code env}. */
    static NeonApi fromEnvironment(Map<String, String> env, Policy policy, Consumer<String> warn) {
        String host = env.get(HOST_ENV);
        return new NeonApi(host == null || host.isBlank() ? DEFAULT_BASE : host.strip(), env.get(KEY_ENV), policy,
                d -> Thread.sleep(d.toMillis()), warn);
    }

    @Override
    public void close() {
        // java.net.http.HttpClient is closeable only from Java 21; its threads are daemons and its connections idle out.
    }

    @Override
    public String toString() { return "NeonApi(" + base + ")"; } // never the key

    /**
     * Every project the key may see ({@code orgId}: of that organization; a personal key needs one, an organization
     * key implies its own), following {@code pagination.cursor} until a page comes back short.
     */
    Projects listProjects(String orgId) {
        List<Project> projects = new ArrayList<>();
        List<String> unavailable = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("limit", Integer.toString(PROJECT_PAGE));
            if (orgId != null) query.put("org_id", orgId);
            if (cursor != null) query.put("cursor", cursor);
            JsonNode body = get("/projects", query, "list the projects" + (orgId == null ? "" : " of organization " + orgId));
            JsonNode items = array(body, "projects", "/projects");
            for (JsonNode p : items) projects.add(project(p));
            int unavailableHere = 0;
            for (JsonNode id : body.path("unavailable_project_ids")) {
                unavailable.add(id.asText());
                unavailableHere++;
            }
            // A page holds `limit` projects, some of which Neon may name only in unavailable_project_ids: a page is
            // the last one when both together are fewer than asked for (neonctl: fewer projects than the limit).
            if (items.size() + unavailableHere < PROJECT_PAGE) return new Projects(projects, unavailable);
            String next = text(body.path("pagination"), "cursor");
            if (next == null || next.equals(cursor)) {
                throw invalid("/projects", "a full page of projects without a new pagination.cursor to continue from");
            }
            cursor = next;
        }
        throw invalid("/projects", "more than " + MAX_PAGES + " pages of projects");
    }

    /** One project by id (GET /projects/{id}). */
    Project project(String projectId) {
        JsonNode body = get("/projects/" + segment(projectId), Map.of(), "read project " + projectId);
        JsonNode p = body.path("project");
        if (!p.isObject()) throw invalid("/projects/{id}", "no project object");
        return project(p);
    }

    /** Every branch of a project, following {@code pagination.next}. */
    List<Branch> listBranches(String projectId) {
        List<Branch> branches = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("limit", Integer.toString(BRANCH_PAGE));
            if (cursor != null) query.put("cursor", cursor);
            JsonNode body = get("/projects/" + segment(projectId) + "/branches", query, "list the branches of project " + projectId);
            JsonNode items = array(body, "branches", "/projects/{id}/branches");
            for (JsonNode b : items) {
                String id = text(b, "id"), name = text(b, "name");
                if (id == null || name == null) throw invalid("/projects/{id}/branches", "a branch without id or name");
                branches.add(new Branch(id, name, b.path("default").asBoolean(false) || b.path("primary").asBoolean(false)));
            }
            String next = text(body.path("pagination"), "next");
            if (items.size() < BRANCH_PAGE || next == null) return branches;
            if (next.equals(cursor)) throw invalid("/projects/{id}/branches", "a full page of branches with the same pagination.next again");
            cursor = next;
        }
        throw invalid("/projects/{id}/branches", "more than " + MAX_PAGES + " pages of branches");
    }

    /** The databases of a branch and the role owning each. */
    List<Database> listDatabases(String projectId, String branchId) {
        JsonNode body = get("/projects/" + segment(projectId) + "/branches/" + segment(branchId) + "/databases", Map.of(),
                "list the databases of project " + projectId + " branch " + branchId);
        List<Database> out = new ArrayList<>();
        for (JsonNode d : array(body, "databases", "/projects/{id}/branches/{branch}/databases")) {
            String name = text(d, "name"), owner = text(d, "owner_name");
            if (name == null || owner == null) throw invalid("/projects/{id}/branches/{branch}/databases", "a database without name or owner_name");
            out.add(new Database(name, owner));
        }
        return out;
    }

    /**
     * The direct (unpooled: pg_dump through a transaction pooler is not a consistent dump) connection URI of a
     * database as {@code role}, password included: a secret, held as a {@link ConnInfo} (which never prints it).
     */
    ConnInfo connectionUri(String projectId, String branchId, String database, String role) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("branch_id", branchId);
        query.put("database_name", database);
        query.put("role_name", role);
        query.put("pooled", "false");
        String what = "get the connection URI of project " + projectId + " branch " + branchId + " database " + showable(database);
        JsonNode body = get("/projects/" + segment(projectId) + "/connection_uri", query, what);
        String uri = text(body, "uri");
        if (uri == null) throw invalid("/projects/{id}/connection_uri", "no uri");
        try {
            return ConnInfo.parse(uri);
        } catch (Failure f) {
            throw new ApiFailure(Exit.UNAVAILABLE, "the Neon API answered " + what + " with a URI that is not a PostgreSQL URL (not shown): " + f.getMessage(),
                    200, null, null);
        }
    }

    private static Project project(JsonNode p) {
        String id = text(p, "id");
        if (id == null) throw invalid("/projects", "a project without an id");
        String name = text(p, "name");
        return new Project(id, name == null ? id : name, text(p, "org_id"));
    }

    // ---- one request, with its retries ----

    private JsonNode get(String path, Map<String, String> query, String what) {
        URI uri = uri(path, query);
        Duration waited = Duration.ZERO;
        ApiFailure last = null;
        int attempt = 0; // failures (5xx, 423, network): at most policy.attempts
        for (int sent = 1; sent <= MAX_REQUESTS; sent++) {
            Duration pause;
            boolean rateLimited = false;
            try {
                pacer.acquire(sleeper);
                HttpRequest request = HttpRequest.newBuilder(uri).GET().timeout(policy.requestTimeout())
                        .header("Authorization", "Bearer " + key).header("Accept", "application/json")
                        .header("User-Agent", Version.TOOL + "/" + Version.VERSION).build();
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                byte[] bytes;
                try (InputStream in = response.body()) {
                    bytes = in.readNBytes(MAX_BODY + 1);
                }
                int status = response.statusCode();
                if (status == 200) {
                    if (bytes.length > MAX_BODY) throw invalid(path, "an answer larger than " + (MAX_BODY >> 20) + " MiB");
                    return parse(bytes, path);
                }
                ErrorBody error = ErrorBody.of(bytes);
                last = refusal(status, error, what);
                if (status == 429) {
                    // Neon asks us to wait: not a failure of the request, so bounded by the time budget, not the attempts.
                    // Every thread of this client waits (the limit is the key's), each a little longer than asked so
                    // that they do not all come back in the same instant and meet the limit again.
                    rateLimited = true;
                    Duration asked = retryAfter(response).orElse(step(sent));
                    pause = jitter(asked);
                    if (waited.plus(pause).compareTo(policy.maxWait()) > 0) {
                        throw new ApiFailure(Exit.UNAVAILABLE, "the Neon API rate-limits us (429) and asks to wait " + asked.toSeconds() + " s more, beyond the "
                                + policy.maxWait().toSeconds() + " s a request may wait, to " + what + ": run again later, or with fewer parallel jobs", 429, error.requestId, null);
                    }
                    pacer.hold(pause);
                    warn.accept("Neon API: rate limited (429), waiting " + describe(pause) + " before trying again to " + what);
                } else if (status == 423) {
                    attempt++;
                    pause = retryAfter(response).orElse(policy.lockedPause());
                    warn.accept("Neon API: locked (423: " + error.message + "), waiting " + describe(pause) + " before trying again to " + what);
                } else if (status >= 500) {
                    attempt++;
                    pause = backoff(attempt);
                    warn.accept("Neon API: HTTP " + status + ", waiting " + describe(pause) + " before trying again to " + what);
                } else {
                    throw last; // 4xx: asking again gives the same answer
                }
            } catch (IOException e) {
                String why = e instanceof java.net.http.HttpTimeoutException ? "no answer within " + policy.requestTimeout().toSeconds() + " s"
                        : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                last = new ApiFailure(Exit.UNAVAILABLE, "the Neon API at " + base.getHost() + " is unreachable (" + why + ") to " + what, 0, null, e);
                attempt++;
                pause = backoff(attempt);
                warn.accept("Neon API: " + why + ", waiting " + describe(pause) + " before trying again to " + what);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure(Exit.FAILED, "interrupted while asking the Neon API to " + what);
            }
            if (rateLimited) { // the pause is taken at the gate, in pacer.acquire
                waited = waited.plus(pause);
                continue;
            }
            if (attempt >= policy.attempts()) break;
            if (waited.plus(pause).compareTo(policy.maxWait()) > 0) break;
            try {
                sleeper.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure(Exit.FAILED, "interrupted while waiting to ask the Neon API again to " + what);
            }
            waited = waited.plus(pause);
        }
        if (last == null) throw new IllegalStateException("no request made");
        String tries = " (gave up after " + policy.attempts() + " attempts or " + policy.maxWait().toSeconds() + " s of waiting)";
        throw new ApiFailure(last.exitCode == Exit.FAILED ? Exit.UNAVAILABLE : last.exitCode, last.getMessage() + tries, last.status, last.requestId, last.getCause());
    }

    /** What a non-200 answer means for the operator, in one line (Neon's own message included, it never holds the key). */
    private ApiFailure refusal(int status, ErrorBody error, String what) {
        String neon = error.message.isEmpty() ? "" : ": " + error.message;
        String id = error.requestId == null ? "" : " (Neon request id " + error.requestId + ")";
        return switch (status) {
            case 401 -> new ApiFailure(Exit.NO_PERMISSION, "the Neon API did not accept NEON_API_KEY (401" + neon + ")" + id
                    + ": check the secret (a revoked key, or one of another account?)", status, error.requestId, null);
            case 403 -> new ApiFailure(Exit.NO_PERMISSION, "NEON_API_KEY may not " + what + " (403" + neon + ")" + id
                    + ": use a personal or organization API key that can read these projects", status, error.requestId, null);
            case 400 -> error.message.contains("org_id is required")
                    ? new ApiFailure(Exit.USAGE, "the Neon API needs the organization with a personal API key (400" + neon + "): give the organization id"
                            + " (org-...) with --neon-org, or use an organization API key", status, error.requestId, null)
                    : new ApiFailure(Exit.USAGE, "the Neon API refused to " + what + " (400" + neon + ")" + id, status, error.requestId, null);
            case 404 -> new ApiFailure(Exit.FAILED, "the Neon API found nothing to " + what + " (404" + neon + ")" + id, status, error.requestId, null);
            case 423 -> new ApiFailure(Exit.UNAVAILABLE, "the Neon project is locked by an operation in progress (423" + neon + ") to " + what + id,
                    status, error.requestId, null);
            case 429 -> new ApiFailure(Exit.UNAVAILABLE, "the Neon API rate-limits us (429" + neon + ") to " + what + id, status, error.requestId, null);
            default -> new ApiFailure(status >= 500 ? Exit.UNAVAILABLE : Exit.FAILED, "the Neon API answered HTTP " + status + neon + " to " + what + id,
                    status, error.requestId, null);
        };
    }

    /** Retry-After as seconds or an HTTP date; empty when absent or unreadable. */
    static java.util.Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(String::strip).flatMap(v -> {
            try {
                if (v.matches("\\d{1,9}")) return java.util.Optional.of(Duration.ofSeconds(Long.parseLong(v)));
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(Instant.now(), at);
                return java.util.Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (RuntimeException unreadable) {
                return java.util.Optional.empty();
            }
        });
    }

    /** 1, 2, 4, 8 ... s (at most 30 s), plus up to a quarter of it at random so parallel clients do not retry in step. */
    private static Duration backoff(int attempt) { return jitter(step(attempt)); }

    private static Duration step(int attempt) { return Duration.ofMillis(Math.min(30_000L, 1000L << Math.min(Math.max(attempt, 1) - 1, 5))); }

    /** {@code d} plus up to a quarter of it (at least up to 250 ms) at random. */
    static Duration jitter(Duration d) {
        long ms = d.toMillis();
        return Duration.ofMillis(ms + ThreadLocalRandom.current().nextLong(Math.max(ms / 4, 250) + 1));
    }

    private static String describe(Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + " ms" : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** Neon's error body: {"code": "...", "message": "...", "request_id": "..."}; anything else gives an empty message. */
    private record ErrorBody(String message, String requestId) {
        static ErrorBody of(byte[] bytes) {
            try {
                JsonNode n = Json.MAPPER.readTree(bytes);
                String message = text(n, "message");
                return new ErrorBody(message == null ? "" : clean(message), text(n, "request_id") == null ? null : clean(text(n, "request_id")));
            } catch (IOException | RuntimeException notJson) {
                return new ErrorBody("", null);
            }
        }

        /** One line, at most 300 characters, control characters out, through Redact. */
        private static String clean(String s) {
            String one = s.replaceAll("\\p{Cntrl}+", " ").strip();
            return Redact.text(one.length() > 300 ? one.substring(0, 300) + "..." : one);
        }
    }

    private static JsonNode parse(byte[] bytes, String path) {
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n == null || !n.isObject()) throw invalid(path, "an answer that is not a JSON object");
            return n;
        } catch (IOException e) {
            throw invalid(path, "an answer that is not JSON");
        }
    }

    private static JsonNode array(JsonNode body, String field, String path) {
        JsonNode a = body.path(field);
        if (!a.isArray()) throw invalid(path, "no '" + field + "' array");
        return a;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isTextual() && !v.asText().isEmpty() ? v.asText() : null;
    }

    private static ApiFailure invalid(String path, String what) {
        return new ApiFailure(Exit.UNAVAILABLE, "the Neon API answered GET " + path + " with " + what + ": not the Neon API as documented"
                + " (is NEON_API_HOST right?)", 200, null, null);
    }

    private URI uri(String path, Map<String, String> query) {
        StringBuilder sb = new StringBuilder(base.toString()).append(path);
        String sep = "?";
        for (var e : query.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8).replace("+", "%20"));
            sep = "&";
        }
        return URI.create(sb.toString());
    }

    /** A path segment: Neon ids are [a-z0-9-]; anything else is encoded, so a strange id cannot change the path. */
    private static String segment(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    /** A name for messages: database names are the user's; one that looks like a URL or a password is not echoed. */
    static String showable(String name) { return Redact.showableName(name) ? "'" + name + "'" : "(name not shown)"; }

    private static URI checkBase(String raw) {
        URI u;
        try {
            u = URI.create(raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw);
        } catch (IllegalArgumentException e) {
            throw new Failure(Exit.CONFIG, HOST_ENV + " is not a URL (expected " + DEFAULT_BASE + ")");
        }
        String host = u.getHost();
        boolean loopback = "127.0.0.1".equals(host) || "localhost".equals(host) || "[::1]".equals(host) || "::1".equals(host);
        if (host == null || u.getUserInfo() != null || !("https".equals(u.getScheme()) || ("http".equals(u.getScheme()) && loopback))) {
            throw new Failure(Exit.CONFIG, HOST_ENV + " must be an https:// URL such as " + DEFAULT_BASE + " (the API key must not travel in clear text;"
                    + " http:// only to localhost)");
        }
        return u;
    }

    private static String checkKey(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new Failure(Exit.CONFIG, KEY_ENV + " is not set: create an API key in the Neon Console (organization settings, API keys),"
                    + " store it as a secret and pass it in the environment (never as an option)");
        }
        String k = raw.strip();
        if (!k.matches("[\\x21-\\x7e]+")) {
            throw new Failure(Exit.CONFIG, KEY_ENV + " holds spaces, line breaks or other characters an API key does not have (not shown): copy the key again");
        }
        return k;
    }

    /** Client-side pacing: a token bucket shared by every thread of this client. */
    private static final class Pacer {
        private final double perSecond;
        private final int burst;
        private double tokens;
        private long last = System.nanoTime();
        private long gate = System.nanoTime();

        Pacer(double perSecond, int burst) {
            this.perSecond = perSecond;
            this.burst = Math.max(1, burst);
            this.tokens = this.burst;
        }

        /** No request of this client before {@code d} from now (a 429 is about the key, not the one request): acquire waits. */
        synchronized void hold(Duration d) {
            gate = Math.max(gate, System.nanoTime() + d.toNanos());
        }

        void acquire(Sleeper sleeper) throws InterruptedException {
            long held;
            synchronized (this) {
                held = gate - System.nanoTime();
            }
            if (held > 0) sleeper.sleep(Duration.ofNanos(held));
            if (perSecond <= 0) return;
            long waitNanos;
            synchronized (this) {
                long now = System.nanoTime();
                tokens = Math.min(burst, tokens + (now - last) / 1e9 * perSecond);
                last = now;
                tokens -= 1; // taken now; a negative balance is the wait, and later callers queue behind it
                waitNanos = tokens >= 0 ? 0 : (long) (-tokens / perSecond * 1e9);
            }
            if (waitNanos > 0) Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
        }
    }
}
