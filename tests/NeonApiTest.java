import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * lib/NeonApi.java against the Neon API emulator: cursor pagination of projects and branches as Neon pages them,
 * 429 (Retry-After honoured, bounded), 423 (an operation in progress), 5xx and stalls retried, 401/403/400 at once
 * and each as one line with its exit code, the key only from the environment and never shown, and the connection URI
 * asked unpooled, with the role's password, working against a real database.
 */
class NeonApiTest {
    static NeonApiEmulator neon;
    static NeonApiEmulator.Org org;
    static String key;
    static final List<String> dropLater = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        neon = NeonApiEmulator.start(1);
        org = neon.org("acme");
        key = neon.orgKey(org);
    }

    @AfterAll
    static void tearDown() {
        neon.close();
        for (String db : dropLater) PgServer.get().dropDatabase(db);
    }

    /** Pauses asked for, instead of taken: no test waits out a Retry-After. */
    static final class Pauses implements NeonApi.Sleeper {
        final List<Duration> asked = Collections.synchronizedList(new ArrayList<>());

        @Override public void sleep(Duration d) { asked.add(d); }
    }

    static NeonApi.Policy fast() { return NeonApi.Policy.standard().withPacing(0, 1); }

    static NeonApi client(NeonApiEmulator e, String key, NeonApi.Policy policy, Pauses pauses, List<String> warnings) {
        return new NeonApi(e.baseUrl, key, policy, pauses, warnings::add);
    }

    static NeonApi client(String key) { return client(neon, key, fast(), new Pauses(), new ArrayList<>()); }

    @Test
    void listsEveryProjectAcrossCursorPages() {
        try (NeonApiEmulator e = NeonApiEmulator.start(2)) {
            NeonApiEmulator.Org o = e.org("big");
            for (int i = 0; i < 1005; i++) e.project(o, "p" + i);
            NeonApi api = client(e, e.orgKey(o), fast(), new Pauses(), new ArrayList<>());
            NeonApi.Projects all = api.listProjects(null);
            assertEquals(1005, all.projects().size());
            assertEquals(1005, all.projects().stream().map(NeonApi.Project::id).distinct().count(), "no project twice");
            assertEquals(e.projects().stream().map(p -> p.id).toList(), all.projects().stream().map(NeonApi.Project::id).toList(), "in Neon's order");
            List<String> pages = e.requests().stream().filter(r -> r.startsWith("GET /projects?")).toList();
            assertEquals(3, pages.size(), pages.toString());
            assertFalse(pages.get(0).contains("cursor="), pages.get(0));
            assertTrue(pages.get(1).contains("cursor=") && pages.get(2).contains("cursor="), pages.toString());
            assertTrue(pages.get(0).contains("limit=400"), pages.get(0));
        }
    }

    @Test
    void aFleetOfExactlyFullPagesEndsOnTheEmptyPage() {
        try (NeonApiEmulator e = NeonApiEmulator.start(3)) {
            NeonApiEmulator.Org o = e.org("even");
            for (int i = 0; i < 800; i++) e.project(o, "p" + i);
            NeonApi.Projects all = client(e, e.orgKey(o), fast(), new Pauses(), new ArrayList<>()).listProjects(null);
            assertEquals(800, all.projects().size());
            assertEquals(3, e.count("^GET /projects\\?"), "400 + 400 + an empty page: " + e.requests());
        }
    }

    @Test
    void unavailableProjectsOnAPageDoNotEndTheListing() {
        try (NeonApiEmulator e = NeonApiEmulator.start(4)) {
            NeonApiEmulator.Org o = e.org("slow");
            for (int i = 0; i < 450; i++) e.project(o, "p" + i);
            e.projects().get(10).unavailableInListing = true;
            e.projects().get(399).unavailableInListing = true;
            NeonApi.Projects all = client(e, e.orgKey(o), fast(), new Pauses(), new ArrayList<>()).listProjects(null);
            assertEquals(448, all.projects().size(), "the page with unavailable projects was full: the listing went on");
            assertEquals(List.of(e.projects().get(10).id, e.projects().get(399).id), all.unavailableIds());
        }
    }

    @Test
    void branchesFollowPaginationNext() {
        NeonApiEmulator.Project p = neon.project(org, "many-branches");
        for (int i = 0; i < 249; i++) p.branch("feature/" + i);
        neon.clearLog();
        List<NeonApi.Branch> branches = client(key).listBranches(p.id);
        assertEquals(250, branches.size());
        assertEquals(250, branches.stream().map(NeonApi.Branch::id).distinct().count());
        assertEquals(1, branches.stream().filter(NeonApi.Branch::isDefault).count());
        assertEquals("main", branches.stream().filter(NeonApi.Branch::isDefault).findFirst().orElseThrow().name());
        assertEquals(3, neon.count("^GET /projects/" + p.id + "/branches\\?"), neon.requests().toString());
    }

    @Test
    void rateLimitedRequestsWaitForRetryAfter() {
        try (NeonApiEmulator e = NeonApiEmulator.start(5)) {
            NeonApiEmulator.Org o = e.org("busy");
            e.project(o, "only");
            e.fail("^/projects$", 429, 2, "7");
            Pauses pauses = new Pauses();
            List<String> warnings = new ArrayList<>();
            NeonApi.Projects all = client(e, e.orgKey(o), fast(), pauses, warnings).listProjects(null);
            assertEquals(1, all.projects().size());
            assertEquals(2, pauses.asked.size(), pauses.asked.toString());
            for (Duration d : pauses.asked) {
                assertTrue(d.toMillis() >= 6_900 && d.toMillis() <= 7_000 + 1_750, "Retry-After honoured, a little jitter on top: " + pauses.asked);
            }
            assertEquals(3, e.count("^GET /projects\\?"));
            assertTrue(warnings.stream().allMatch(w -> w.contains("429")), warnings.toString());
        }
    }

    @Test
    void aRetryAfterBeyondTheBudgetFailsAtOnceWith69() {
        try (NeonApiEmulator e = NeonApiEmulator.start(6)) {
            NeonApiEmulator.Org o = e.org("throttled");
            e.project(o, "only");
            e.fail("^/projects$", 429, 1, "3600");
            Pauses pauses = new Pauses();
            Failure f = assertThrows(Failure.class, () -> client(e, e.orgKey(o), fast(), pauses, new ArrayList<>()).listProjects(null));
            assertEquals(Exit.UNAVAILABLE, f.exitCode);
            assertTrue(f.getMessage().contains("429") && f.getMessage().contains("3600 s"), f.getMessage());
            assertTrue(pauses.asked.isEmpty(), "no pause that cannot help");
        }
    }

    @Test
    void endless429GivesUpWhenTheWaitBudgetIsSpent() {
        try (NeonApiEmulator e = NeonApiEmulator.start(7)) {
            NeonApiEmulator.Org o = e.org("endless");
            e.project(o, "only");
            e.fail("^/projects$", 429, 1000, "1");
            Pauses pauses = new Pauses();
            // A 429 is Neon asking us to wait, not a failure: the budget of waiting bounds it, not the attempts (2 here).
            NeonApi api = client(e, e.orgKey(o), fast().withAttempts(2).withMaxWait(Duration.ofSeconds(10)), pauses, new ArrayList<>());
            Failure f = assertThrows(Failure.class, () -> api.listProjects(null));
            assertEquals(Exit.UNAVAILABLE, f.exitCode);
            assertTrue(f.getMessage().contains("429") && f.getMessage().contains("10 s"), f.getMessage());
            long asked = e.count("^GET /projects\\?");
            assertTrue(asked >= 7 && asked <= 11, "1 to 1.25 s a wait, 10 s in all: " + asked + " requests, pauses " + pauses.asked);
            assertEquals(asked - 1, pauses.asked.size(), "a pause before each request but the first");
        }
    }

    @Test
    void aLockedProjectIsAskedAgainAfterAPause() {
        NeonApiEmulator.Project p = neon.project(org, "busy-project");
        p.defaultBranch().database("neondb", "neondb_owner");
        p.lock(2);
        Pauses pauses = new Pauses();
        List<String> warnings = new ArrayList<>();
        NeonApi api = client(neon, key, fast().withLockedPause(Duration.ofSeconds(3)), pauses, warnings);
        assertEquals(1, api.listBranches(p.id).size());
        assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(3)), pauses.asked);
        assertTrue(warnings.get(0).contains("423") && warnings.get(0).contains(NeonApiEmulator.LOCKED_MESSAGE), warnings.toString());

        p.lock(100);
        Failure f = assertThrows(Failure.class, () -> client(neon, key, fast().withAttempts(3), new Pauses(), new ArrayList<>()).listBranches(p.id));
        assertEquals(Exit.UNAVAILABLE, f.exitCode);
        assertTrue(f.getMessage().contains("locked") && f.getMessage().contains("423"), f.getMessage());
        p.lock(0);
    }

    @Test
    void serverErrorsAndStallsAreRetried() {
        NeonApiEmulator.Project p = neon.project(org, "flaky");
        neon.fail("^/projects/" + p.id + "/branches$", 503, 2, null);
        Pauses pauses = new Pauses();
        assertEquals(1, client(neon, key, fast(), pauses, new ArrayList<>()).listBranches(p.id).size());
        assertEquals(2, pauses.asked.size(), "a back-off after each 503");

        neon.stall("^/projects/" + p.id + "$", 1, Duration.ofSeconds(4));
        List<String> warnings = new ArrayList<>();
        NeonApi impatient = client(neon, key, fast().withRequestTimeout(Duration.ofSeconds(1)), new Pauses(), warnings);
        assertEquals(p.id, impatient.project(p.id).id());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("no answer within 1 s")), warnings.toString());
    }

    @Test
    void aBadKeyIs77AtOnceAndNeverShown() {
        String wrong = Secrets.register("napi_" + "0123456789abcdefghij0123456789abcdefghij");
        long before = neon.count("^GET /projects\\?");
        Failure f = assertThrows(Failure.class, () -> client(wrong).listProjects(null));
        assertEquals(Exit.NO_PERMISSION, f.exitCode);
        assertTrue(f.getMessage().contains("NEON_API_KEY") && f.getMessage().contains("401"), f.getMessage());
        assertFalse(f.getMessage().contains(wrong));
        assertEquals(before + 1, neon.count("^GET /projects\\?"), "a refused key is not asked again");
        assertFalse(client(wrong).toString().contains(wrong));
    }

    @Test
    void aPersonalKeyNeedsTheOrganization() {
        NeonApiEmulator.Org other = neon.org("other");
        String personal = neon.personalKey(org, other);
        Failure f = assertThrows(Failure.class, () -> client(personal).listProjects(null));
        assertEquals(Exit.USAGE, f.exitCode);
        assertTrue(f.getMessage().contains("--neon-org"), f.getMessage());
        assertTrue(client(personal).listProjects(org.id()).projects().stream().allMatch(p -> org.id().equals(p.orgId())));

        Failure denied = assertThrows(Failure.class, () -> client(key).listProjects("org-not-mine-12345678"));
        assertEquals(Exit.NO_PERMISSION, denied.exitCode);
    }

    @Test
    void aProjectScopedKeySeesItsProjectOnly() {
        NeonApiEmulator.Project mine = neon.project(org, "scoped");
        NeonApiEmulator.Project notMine = neon.project(org, "elsewhere");
        String scoped = neon.projectKey(mine);
        NeonApi api = client(scoped);
        assertEquals(List.of(mine.id), api.listProjects(null).projects().stream().map(NeonApi.Project::id).toList());
        NeonApi.ApiFailure f = assertThrows(NeonApi.ApiFailure.class, () -> api.listBranches(notMine.id));
        assertEquals(404, f.status);
    }

    @Test
    void theConnectionUriIsDirectAndConnects() throws Exception {
        PgServer pg = PgServer.get();
        NeonApiEmulator.Project p = neon.project(org, "real-one");
        String db = p.defaultBranch().realDatabase(pg, "neon_api_" + java.util.UUID.randomUUID().toString().substring(0, 8),
                "create table t (id int); insert into t select generate_series(1, 42);");
        dropLater.add(db);
        String role = p.defaultBranch().databases.get(0).owner();
        neon.clearLog();
        ConnInfo conn = client(key).connectionUri(p.id, p.defaultBranch().id, db, role);
        List<String> asked = neon.requests();
        assertEquals(1, asked.size());
        assertTrue(asked.get(0).contains("pooled=false") && asked.get(0).contains("branch_id=" + p.defaultBranch().id), asked.toString());
        assertFalse(conn.host().contains("-pooler"), conn.host());
        assertTrue(conn.host().startsWith(p.defaultBranch().endpointId + "."), conn.host());
        assertFalse(conn.redacted().contains(p.defaultBranch().roles.get(role).password()));
        assertEquals("42", PgTools.query(pg.psql(), conn, "select count(*) from t").strip(), "the role's password works");

        // The emulator answers pooled=true the way Neon does: -pooler after the endpoint id.
        HttpResponse<String> pooled = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(neon.baseUrl + "/projects/" + p.id
                + "/connection_uri?database_name=" + db + "&role_name=" + role + "&pooled=true")).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, pooled.statusCode());
        assertTrue(ConnInfo.parse(Json.MAPPER.readTree(pooled.body()).get("uri").asText()).host().startsWith(p.defaultBranch().endpointId + "-pooler."));
    }

    @Test
    void anUnknownDatabaseIsA404NotARetry() {
        NeonApiEmulator.Project p = neon.project(org, "no-such-db");
        NeonApi.ApiFailure f = assertThrows(NeonApi.ApiFailure.class, () -> client(key).connectionUri(p.id, p.defaultBranch().id, "nope", "nobody"));
        assertEquals(404, f.status);
        assertEquals(Exit.FAILED, f.exitCode);
    }

    @Test
    void anUnreachableApiIs69AfterBoundedRetries() throws Exception {
        int port = PgServer.freePort();
        Pauses pauses = new Pauses();
        NeonApi api = new NeonApi("http://127.0.0.1:" + port + "/api/v2", key, fast().withAttempts(3), pauses, w -> { });
        Failure f = assertThrows(Failure.class, () -> api.listProjects(null));
        assertEquals(Exit.UNAVAILABLE, f.exitCode);
        assertTrue(f.getMessage().contains("unreachable") && f.getMessage().contains("gave up after 3 attempts"), f.getMessage());
        assertEquals(2, pauses.asked.size());
    }

    @Test
    void theKeyComesOnlyFromTheEnvironmentAndOnlyOverHttps() {
        Map<String, String> env = new HashMap<>();
        Failure missing = assertThrows(Failure.class, () -> NeonApi.fromEnvironment(env, fast(), w -> { }));
        assertEquals(Exit.CONFIG, missing.exitCode);
        assertTrue(missing.getMessage().contains("NEON_API_KEY is not set"), missing.getMessage());

        String broken = Secrets.register("napi_abcdef\nghijkl0123456789");
        env.put("NEON_API_KEY", broken);
        Failure garbled = assertThrows(Failure.class, () -> NeonApi.fromEnvironment(env, fast(), w -> { }));
        assertEquals(Exit.CONFIG, garbled.exitCode);
        assertFalse(garbled.getMessage().contains("ghijkl"), garbled.getMessage());

        env.put("NEON_API_KEY", key);
        env.put("NEON_API_HOST", "http://neon.example.com/api/v2");
        Failure clear = assertThrows(Failure.class, () -> NeonApi.fromEnvironment(env, fast(), w -> { }));
        assertEquals(Exit.CONFIG, clear.exitCode);
        assertTrue(clear.getMessage().contains("https"), clear.getMessage());

        env.put("NEON_API_HOST", neon.baseUrl);
        NeonApi api = NeonApi.fromEnvironment(env, fast(), w -> { });
        assertNotNull(api.listProjects(null));
        assertFalse(api.toString().contains(key));
    }
}
