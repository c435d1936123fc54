import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Neon API, as much of it as fleet discovery uses, served on a loopback port from Neon's public API reference
 * (neon.com/docs/reference/api, the OpenAPI document v2): the Neon API is not reachable from the test machines.
 *
 * <p>Served (all GET, under /api/v2, Bearer API key):
 * <ul>
 *   <li>{@code /projects}: {@code cursor}, {@code limit} (1-400, default 10), {@code search}, {@code org_id}; answers
 *       {@code projects[]}, {@code unavailable_project_ids[]} and {@code pagination.cursor} (keyset: the last project
 *       of the page, by creation time). A personal key without {@code org_id} gets Neon's 400 "org_id is required".</li>
 *   <li>{@code /projects/{id}}: {@code project}.</li>
 *   <li>{@code /projects/{id}/branches}: {@code cursor}, {@code limit} (1-10000), {@code sort_by}, {@code sort_order};
 *       answers {@code branches[]} (id, name, default, primary, ...), {@code annotations}, {@code pagination.next}
 *       (only when the page is full) with {@code sort_by}/{@code sort_order}.</li>
 *   <li>{@code /projects/{id}/branches/{branch}/databases} and {@code .../roles} (no pagination, as in Neon).</li>
 *   <li>{@code /projects/{id}/connection_uri}: {@code branch_id}, {@code endpoint_id}, {@code database_name},
 *       {@code role_name}, {@code pooled}; answers {@code uri} with the role's password; {@code pooled=true} puts
 *       {@code -pooler} after the endpoint id in the host, as Neon does.</li>
 * </ul>
 * Errors have Neon's body {@code {"code": "...", "message": "..."}}: 401 for a missing or unknown key, 403 outside the
 * key's scope, 404, 423 while a project is "locked" by an operation, 429 with Retry-After when the key exceeds its
 * rate (or a fault says so).
 *
 * <p>Databases are virtual (a row here, thousands are cheap; their hosts end in .invalid, so nothing can connect to
 * them) or real ({@link Branch#realDatabase}: a database and its owner role with a password on the test cluster,
 * whose URI connects through {@code hostaddr=127.0.0.1} while the host name stays Neon's shape).
 */
final class NeonApiEmulator implements AutoCloseable {
    static final String LOCKED_MESSAGE = "project already has running operations, scheduling of new ones is prohibited";
    private static final String[] ADJECTIVES = {"shiny", "winter", "floral", "bitter", "sweet", "aged", "raspy", "cool", "dark", "wispy",
            "small", "proud", "quiet", "round", "silent", "young", "frosty", "lively", "odd", "plain"};
    private static final String[] NOUNS = {"wind", "boat", "king", "sound", "breeze", "salad", "hill", "darkness", "snowflake", "meadow",
            "term", "lake", "field", "river", "forest", "dawn", "dust", "leaf", "moon", "sea"};

    final String baseUrl;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Random random;
    private final Map<String, Org> orgs = new LinkedHashMap<>();
    private final List<Project> projects = new CopyOnWriteArrayList<>();
    private final Map<String, Key> keys = new ConcurrentHashMap<>();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<String> log = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sequence = new AtomicInteger();
    private volatile Bucket rateLimit;
    private final Instant epoch = Instant.parse("2025-01-06T09:00:00Z");

    record Org(String id, String name) {}

    enum KeyKind { PERSONAL, ORGANIZATION, PROJECT }

    /** An API key: a personal key (member of some organizations), an organization key, or a project-scoped key. */
    record Key(KeyKind kind, List<String> orgIds, String projectId) {}

    /** A scripted answer: the next {@code times} requests whose path (after /api/v2) matches answer {@code status}, or stall. */
    private static final class Fault {
        final Pattern path;
        final int status;
        final AtomicInteger remaining;
        final String retryAfter;
        final Duration stall;

        Fault(Pattern path, int status, int times, String retryAfter, Duration stall) {
            this.path = path;
            this.status = status;
            this.remaining = new AtomicInteger(times);
            this.retryAfter = retryAfter;
            this.stall = stall;
        }
    }

    final class Project {
        final String id;
        final String name;
        final String orgId;
        final String regionId = "aws-us-east-2";
        final Instant createdAt;
        final List<Branch> branches = new CopyOnWriteArrayList<>();
        /** The next this many requests concerning the project answer 423. */
        final AtomicInteger locked = new AtomicInteger();
        /** Every request concerning the project (not its listing) answers this status, when non-zero. */
        volatile int failWith;
        /** The listing names it only in unavailable_project_ids. */
        volatile boolean unavailableInListing;

        Project(String id, String name, String orgId, Instant createdAt) {
            this.id = id;
            this.name = name;
            this.orgId = orgId;
            this.createdAt = createdAt;
        }

        /** A branch that is not the default one. */
        Branch branch(String name) {
            Branch b = new Branch(this, "br-" + neonId(), name, false, createdAt.plusSeconds(60 + branches.size()));
            branches.add(b);
            return b;
        }

        Branch defaultBranch() { return branches.stream().filter(b -> b.isDefault).findFirst().orElseThrow(); }

        Project lock(int requests) {
            locked.set(requests);
            return this;
        }
    }

    final class Branch {
        final Project project;
        final String id;
        final String name;
        final boolean isDefault;
        final Instant createdAt;
        final String endpointId = "ep-" + neonId();
        final List<Database> databases = new CopyOnWriteArrayList<>();
        final Map<String, Role> roles = new ConcurrentHashMap<>();

        Branch(Project project, String id, String name, boolean isDefault, Instant createdAt) {
            this.project = project;
            this.id = id;
            this.name = name;
            this.isDefault = isDefault;
            this.createdAt = createdAt;
        }

        /** A database that exists only here (its URI points at a host that does not resolve). */
        Branch database(String name, String owner) {
            roles.computeIfAbsent(owner, o -> new Role(o, password(), false));
            databases.add(new Database(name, owner, false));
            return this;
        }

        /**
         * A real database on {@code pg}: a login role with a password full of URL-special characters owns it, and
         * {@code setupSql}, run as that role, fills it. The name must be unique
         * on the cluster. Returns the database's name.
         */
        String realDatabase(PgServer pg, String name, String setupSql) {
            String role = "neon_owner_" + UUID.randomUUID().toString().substring(0, 8);
            String password = Secrets.register("npg_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "@:/?#%& '");
            pg.sql("postgres", "create role \"" + role + "\" login password '" + password.replace("'", "''") + "'");
            pg.sql("postgres", "create database \"" + name + "\" owner \"" + role + "\"");
            if (setupSql != null && !setupSql.isBlank()) {
                // As the owner role (since PostgreSQL 15 it owns the public schema), so that the role owns all it dumps.
                ConnInfo asOwner = ConnInfo.parse("postgresql://" + ConnInfo.encode(role) + ":" + ConnInfo.encode(password) + "@" + pg.host + ":" + pg.port
                        + "/" + ConnInfo.encode(name));
                PgTools.query(pg.psql(), asOwner, setupSql);
            }
            roles.put(role, new Role(role, password, true));
            databases.add(new Database(name, role, true));
            realPg = pg;
            return name;
        }

        String host(boolean pooled) {
            return endpointId + (pooled ? "-pooler" : "") + ".us-east-2.aws.neon.invalid";
        }
    }

    record Database(String name, String owner, boolean real) {}

    record Role(String name, String password, boolean real) {}

    private volatile PgServer realPg;

    private NeonApiEmulator(long seed) throws IOException {
        this.random = new Random(seed);
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "neon-emulator");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        this.baseUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v2";
    }

    static NeonApiEmulator start() { return start(17); }

    /** Ids (project, branch, endpoint) are drawn from a generator seeded with {@code seed}: a fleet is the same every run. */
    static NeonApiEmulator start(long seed) {
        try {
            return new NeonApiEmulator(seed);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Neon API emulator: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---- the model ----

    synchronized Org org(String name) {
        Org o = new Org("org-" + neonId(), name);
        orgs.put(o.id(), o);
        return o;
    }

    /** A project with its default branch ("main", as older projects have; newer ones say "production"). */
    synchronized Project project(Org org, String name) {
        return project(org, name, "main");
    }

    synchronized Project project(Org org, String name, String defaultBranch) {
        Project p = new Project(neonId(), name, org == null ? null : org.id(), epoch.plusSeconds(projects.size() * 7L));
        p.branches.add(new Branch(p, "br-" + neonId(), defaultBranch, true, p.createdAt));
        projects.add(p);
        return p;
    }

    List<Project> projects() { return List.copyOf(projects); }

    /** A personal API key, member of {@code orgs}. */
    String personalKey(Org... orgs) { return key(new Key(KeyKind.PERSONAL, java.util.Arrays.stream(orgs).map(Org::id).toList(), null)); }

    String orgKey(Org org) { return key(new Key(KeyKind.ORGANIZATION, List.of(org.id()), null)); }

    String projectKey(Project p) { return key(new Key(KeyKind.PROJECT, p.orgId == null ? List.of() : List.of(p.orgId), p.id)); }

    private String key(Key k) {
        // Neon's keys are 64 characters of [a-z0-9]; this one is registered so that no test output may contain it.
        String token = Secrets.register((UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", ""));
        keys.put(token, k);
        return token;
    }

    /** Each key may make {@code burst} requests at once, refilled at {@code perSecond}; beyond, 429 with Retry-After. */
    void rateLimit(int burst, double perSecond) { rateLimit = new Bucket(burst, perSecond); }

    /** The next {@code times} requests whose path (after /api/v2, without the query) matches {@code pathRegex} answer {@code status}. */
    void fail(String pathRegex, int status, int times, String retryAfter) {
        faults.add(new Fault(Pattern.compile(pathRegex), status, times, retryAfter, null));
    }

    /** The next {@code times} matching requests get no answer for {@code stall}. */
    void stall(String pathRegex, int times, Duration stall) {
        faults.add(new Fault(Pattern.compile(pathRegex), 0, times, null, stall));
    }

    /** Requests served so far, as "GET /path?query" (without /api/v2). */
    List<String> requests() { return List.copyOf(log); }

    long count(String regex) {
        Pattern p = Pattern.compile(regex);
        return log.stream().filter(r -> p.matcher(r).find()).count();
    }

    void clearLog() { log.clear(); }

    /**
     * A fleet: {@code projectCount} projects in {@code org} holding {@code databaseCount} virtual databases in all
     * (at least one each, some projects many), every fifth project with a second branch holding a copy of its
     * databases. Names like a database-per-tenant user's: tenant-0042.
     */
    List<Project> addFleet(Org org, int projectCount, int databaseCount, long seed) {
        Random r = new Random(seed);
        List<Project> made = new ArrayList<>();
        int[] perProject = new int[projectCount];
        java.util.Arrays.fill(perProject, 1);
        for (int i = projectCount; i < databaseCount; i++) {
            // Skewed: a few projects hold many databases.
            int p = r.nextInt(4) == 0 ? r.nextInt(Math.max(1, projectCount / 20)) : r.nextInt(projectCount);
            perProject[p]++;
        }
        for (int i = 0; i < projectCount; i++) {
            Project p = project(org, String.format("tenant-%04d", i));
            Branch main = p.defaultBranch();
            for (int d = 0; d < perProject[i]; d++) main.database(d == 0 ? "neondb" : "db_" + d, "neondb_owner");
            if (i % 5 == 4) p.branch("dev/" + ADJECTIVES[r.nextInt(ADJECTIVES.length)]).database("neondb", "neondb_owner");
            made.add(p);
        }
        return made;
    }

    private String neonId() {
        synchronized (random) {
            return ADJECTIVES[random.nextInt(ADJECTIVES.length)] + "-" + NOUNS[random.nextInt(NOUNS.length)] + "-"
                    + String.format("%08d", random.nextInt(100_000_000));
        }
    }

    private String password() {
        synchronized (random) {
            return "npg_" + Long.toString(Math.abs(random.nextLong()), 36);
        }
    }

    // ---- HTTP ----

    private static final Pattern PROJECT = Pattern.compile("^/projects/([^/]+)(/.*)?$");

    private void handle(HttpExchange x) throws IOException {
        try {
            String full = x.getRequestURI().getRawPath();
            String query = x.getRequestURI().getRawQuery();
            if (!full.startsWith("/api/v2/")) {
                send(x, 404, error("not found"), null);
                return;
            }
            String path = full.substring("/api/v2".length());
            log.add(x.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
            if (!x.getRequestMethod().equals("GET")) {
                send(x, 405, error("method not allowed"), null);
                return;
            }
            String auth = x.getRequestHeaders().getFirst("Authorization");
            Key key = auth != null && auth.startsWith("Bearer ") ? keys.get(auth.substring(7)) : null;
            if (key == null) {
                send(x, 401, error("authentication required"), null);
                return;
            }
            for (Fault f : faults) {
                if (!f.path.matcher(path).find() || f.remaining.getAndUpdate(n -> Math.max(0, n - 1)) <= 0) continue;
                if (f.stall != null) {
                    sleep(f.stall);
                    break;
                }
                send(x, f.status, error(f.status == 429 ? "rate limit exceeded" : f.status == 423 ? LOCKED_MESSAGE : "scripted failure"), f.retryAfter);
                return;
            }
            Bucket bucket = rateLimit;
            if (bucket != null && !bucket.take(key)) {
                send(x, 429, error("rate limit exceeded"), "1");
                return;
            }
            Map<String, String> q = query(query);
            if (path.equals("/projects")) {
                listProjects(x, key, q);
                return;
            }
            Matcher m = PROJECT.matcher(path);
            if (!m.matches()) {
                send(x, 404, error("not found"), null);
                return;
            }
            Project p = projects.stream().filter(pr -> pr.id.equals(m.group(1))).findFirst().orElse(null);
            if (p == null || !visible(key, p)) {
                if (p != null && key.kind() != KeyKind.PROJECT) send(x, 403, error("you do not have access to this project"), null);
                else send(x, 404, error("project not found"), null);
                return;
            }
            if (p.failWith != 0) {
                send(x, p.failWith, error("internal error"), null);
                return;
            }
            if (p.locked.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                send(x, 423, error(LOCKED_MESSAGE), null);
                return;
            }
            String rest = m.group(2) == null ? "" : m.group(2);
            if (rest.isEmpty()) {
                ObjectNode body = Json.MAPPER.createObjectNode();
                body.set("project", projectJson(p));
                send(x, 200, body, null);
            } else if (rest.equals("/branches")) {
                listBranches(x, p, q);
            } else if (rest.equals("/connection_uri")) {
                connectionUri(x, p, q);
            } else {
                Matcher b = Pattern.compile("^/branches/([^/]+)/(databases|roles)$").matcher(rest);
                Branch branch = b.matches() ? p.branches.stream().filter(br -> br.id.equals(b.group(1))).findFirst().orElse(null) : null;
                if (branch == null) {
                    send(x, 404, error(b.matches() ? "branch not found" : "not found"), null);
                } else if (b.group(2).equals("databases")) {
                    ObjectNode body = Json.MAPPER.createObjectNode();
                    ArrayNode dbs = body.putArray("databases");
                    int id = 1000;
                    for (Database d : branch.databases) {
                        ObjectNode n = dbs.addObject();
                        n.put("id", id++).put("branch_id", branch.id).put("name", d.name()).put("owner_name", d.owner())
                                .put("created_at", branch.createdAt.toString()).put("updated_at", branch.createdAt.toString());
                    }
                    send(x, 200, body, null);
                } else {
                    ObjectNode body = Json.MAPPER.createObjectNode();
                    ArrayNode roles = body.putArray("roles");
                    for (Role r : branch.roles.values()) {
                        roles.addObject().put("branch_id", branch.id).put("name", r.name()).put("protected", false)
                                .put("created_at", branch.createdAt.toString()).put("updated_at", branch.createdAt.toString());
                    }
                    send(x, 200, body, null);
                }
            }
        } catch (RuntimeException e) {
            try {
                send(x, 500, error("emulator error: " + e), null);
            } catch (IOException | RuntimeException ignored) {
                // the client went away, or the answer had begun
            }
        } finally {
            x.close();
        }
    }

    private boolean visible(Key key, Project p) {
        return switch (key.kind()) {
            case PROJECT -> p.id.equals(key.projectId());
            case ORGANIZATION, PERSONAL -> p.orgId != null && key.orgIds().contains(p.orgId);
        };
    }

    private void listProjects(HttpExchange x, Key key, Map<String, String> q) throws IOException {
        String orgId = q.get("org_id");
        if (key.kind() == KeyKind.PERSONAL && orgId == null) {
            send(x, 400, error("org_id is required, you can find it on your organization settings page"), null);
            return;
        }
        if (orgId != null && key.kind() != KeyKind.PROJECT && !key.orgIds().contains(orgId)) {
            send(x, 403, error("you are not a member of this organization"), null);
            return;
        }
        Integer limit = intParam(q, "limit", 10, 1, 400);
        if (limit == null) {
            send(x, 400, error("limit must be between 1 and 400"), null);
            return;
        }
        List<Project> visible = projects.stream()
                .filter(p -> visible(key, p))
                .filter(p -> orgId == null || orgId.equals(p.orgId))
                .filter(p -> q.get("search") == null || p.name.contains(q.get("search")) || p.id.contains(q.get("search")))
                .sorted(Comparator.comparing((Project p) -> p.createdAt).thenComparing(p -> p.id))
                .toList();
        int start = 0;
        String cursor = q.get("cursor");
        if (cursor != null) {
            String after = decodeCursor(cursor);
            if (after == null) {
                send(x, 400, error("invalid cursor"), null);
                return;
            }
            while (start < visible.size() && (visible.get(start).createdAt + "|" + visible.get(start).id).compareTo(after) <= 0) start++;
        }
        List<Project> window = visible.subList(start, Math.min(visible.size(), start + limit));
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("projects");
        ArrayNode unavailable = Json.MAPPER.createArrayNode();
        for (Project p : window) {
            if (p.unavailableInListing) unavailable.add(p.id);
            else list.add(projectJson(p));
        }
        if (!unavailable.isEmpty()) body.set("unavailable_project_ids", unavailable);
        if (!window.isEmpty()) {
            Project last = window.get(window.size() - 1);
            body.putObject("pagination").put("cursor", encodeCursor(last.createdAt + "|" + last.id));
        } else if (cursor != null) {
            body.putObject("pagination").put("cursor", cursor);
        }
        body.putObject("applications");
        body.putObject("integrations");
        send(x, 200, body, null);
    }

    private ObjectNode projectJson(Project p) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", p.id).put("platform_id", "aws").put("region_id", p.regionId).put("name", p.name).put("provisioner", "k8s-neonvm")
                .put("pg_version", 17).put("proxy_host", "us-east-2.aws.neon.tech").put("branch_logical_size_limit", 0)
                .put("branch_logical_size_limit_bytes", 10_800).put("store_passwords", true).put("active_time", 100).put("cpu_used_sec", 0)
                .put("creation_source", "console").put("created_at", p.createdAt.toString()).put("updated_at", p.createdAt.toString())
                .put("owner_id", "user-1");
        if (p.orgId != null) n.put("org_id", p.orgId).put("org_name", orgs.get(p.orgId).name());
        return n;
    }

    private void listBranches(HttpExchange x, Project p, Map<String, String> q) throws IOException {
        Integer limit = intParam(q, "limit", Integer.MAX_VALUE, 1, 10_000);
        if (limit == null) {
            send(x, 400, error("limit must be between 1 and 10000"), null);
            return;
        }
        String sortBy = q.getOrDefault("sort_by", "updated_at");
        String sortOrder = q.getOrDefault("sort_order", "desc");
        Comparator<Branch> order = sortBy.equals("name") ? Comparator.comparing(b -> b.name) : Comparator.comparing(b -> b.createdAt);
        order = order.thenComparing(b -> b.id);
        if (sortOrder.equals("desc")) order = order.reversed();
        List<Branch> sorted = p.branches.stream().sorted(order).toList();
        int start = 0;
        String cursor = q.get("cursor");
        if (cursor != null) {
            String afterId = decodeCursor(cursor);
            int at = -1;
            for (int i = 0; i < sorted.size(); i++) if (sorted.get(i).id.equals(afterId)) at = i;
            if (afterId == null || at < 0) {
                send(x, 400, error("invalid cursor"), null);
                return;
            }
            start = at + 1;
        }
        List<Branch> page = sorted.subList(start, (int) Math.min(sorted.size(), (long) start + limit));
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("branches");
        for (Branch b : page) {
            list.addObject().put("id", b.id).put("project_id", p.id).put("name", b.name).put("current_state", "ready")
                    .put("state_changed_at", b.createdAt.toString()).put("creation_source", "console").put("default", b.isDefault)
                    .put("primary", b.isDefault).put("protected", false).put("cpu_used_sec", 0).put("active_time_seconds", 0)
                    .put("compute_time_seconds", 0).put("written_data_bytes", 0).put("data_transfer_bytes", 0)
                    .put("created_at", b.createdAt.toString()).put("updated_at", b.createdAt.toString());
        }
        body.putObject("annotations");
        ObjectNode pagination = body.putObject("pagination");
        if (!page.isEmpty() && page.size() == limit) pagination.put("next", encodeCursor(page.get(page.size() - 1).id));
        pagination.put("sort_by", sortBy).put("sort_order", sortOrder);
        send(x, 200, body, null);
    }

    private void connectionUri(HttpExchange x, Project p, Map<String, String> q) throws IOException {
        String database = q.get("database_name"), roleName = q.get("role_name");
        if (database == null || roleName == null) {
            send(x, 400, error("database_name and role_name are required"), null);
            return;
        }
        String branchId = q.get("branch_id");
        Branch branch = branchId == null ? p.defaultBranch() : p.branches.stream().filter(b -> b.id.equals(branchId)).findFirst().orElse(null);
        if (branch == null) {
            send(x, 404, error("branch not found"), null);
            return;
        }
        Database db = branch.databases.stream().filter(d -> d.name().equals(database)).findFirst().orElse(null);
        Role role = branch.roles.get(roleName);
        if (db == null || role == null) {
            send(x, 404, error(db == null ? "database not found" : "role not found"), null);
            return;
        }
        boolean pooled = "true".equals(q.get("pooled"));
        String userInfo = ConnInfo.encode(role.name()) + ":" + ConnInfo.encode(role.password());
        String uri;
        if (db.real() && realPg != null) {
            uri = "postgresql://" + userInfo + "@" + branch.host(pooled) + ":" + realPg.port + "/" + ConnInfo.encode(db.name())
                    + "?sslmode=disable&hostaddr=127.0.0.1";
        } else {
            uri = "postgresql://" + userInfo + "@" + branch.host(pooled) + "/" + ConnInfo.encode(db.name()) + "?sslmode=require&channel_binding=require";
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("uri", uri);
        send(x, 200, body, null);
    }

    private static Integer intParam(Map<String, String> q, String name, int dflt, int min, int max) {
        String v = q.get(name);
        if (v == null) return dflt;
        try {
            int n = Integer.parseInt(v);
            return n < min || n > max ? null : n;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String encodeCursor(String s) { return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8)); }

    private static String decodeCursor(String s) {
        try {
            return new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null) return q;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) continue;
            q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    private static ObjectNode error(String message) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("code", "").put("message", message).put("request_id", UUID.randomUUID().toString());
        return n;
    }

    private static void send(HttpExchange x, int status, ObjectNode body, String retryAfter) throws IOException {
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json");
        if (retryAfter != null) x.getResponseHeaders().set("Retry-After", retryAfter);
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A token bucket per key, as Neon limits per account. */
    private static final class Bucket {
        private final int burst;
        private final double perSecond;
        private final Map<Key, double[]> state = new ConcurrentHashMap<>(); // tokens, last nanos

        Bucket(int burst, double perSecond) {
            this.burst = burst;
            this.perSecond = perSecond;
        }

        boolean take(Key key) {
            double[] s = state.computeIfAbsent(key, k -> new double[] {burst, System.nanoTime()});
            synchronized (s) {
                long now = System.nanoTime();
                s[0] = Math.min(burst, s[0] + (now - s[1]) / 1e9 * perSecond);
                s[1] = now;
                if (s[0] < 1) return false;
                s[0] -= 1;
                return true;
            }
        }
    }
}
