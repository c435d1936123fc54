import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * lib/NeonFleet.java through the Neon API emulator: which projects, branches and databases discovery finds, projects
 * that cannot be read reported (never dropped), backup names stable, unique and valid, and the whole way from
 * discovery to a plan to one leg connecting to real PostgreSQL with the URI the API hands out, no secret in the
 * matrix or the plan file. Also the scale case: 3,000 databases in 400 projects planned into 256 balanced legs.
 */
class NeonFleetTest {
    static final List<String> dropLater = new ArrayList<>();

    @AfterAll
    static void tearDown() {
        for (String db : dropLater) PgServer.get().dropDatabase(db);
    }

    static NeonApi client(NeonApiEmulator e, String key) {
        return new NeonApi(e.baseUrl, key, NeonApi.Policy.standard().withPacing(0, 1).withAttempts(3), d -> { }, w -> { });
    }

    static NeonFleet.Selection select(List<String> projects, List<String> branches, List<String> databases) {
        return new NeonFleet.Selection(null, projects, branches, databases);
    }

    static List<String> names(NeonFleet.Discovery d) { return d.databases().stream().map(NeonFleet.Member::name).toList(); }

    @Test
    void everyDatabaseOfEachDefaultBranchWithItsOwner() {
        try (NeonApiEmulator e = NeonApiEmulator.start(21)) {
            NeonApiEmulator.Org org = e.org("acme");
            NeonApiEmulator.Project shop = e.project(org, "shop");
            shop.defaultBranch().database("neondb", "neondb_owner").database("orders", "orders_owner");
            shop.branch("dev/alice").database("neondb", "neondb_owner");
            NeonApiEmulator.Project blog = e.project(org, "blog", "production");
            blog.defaultBranch().database("wp", "wp_admin");
            e.project(e.org("elsewhere"), "not-ours").defaultBranch().database("neondb", "neondb_owner");

            NeonFleet.Discovery d = NeonFleet.discover(client(e, e.orgKey(org)), NeonFleet.Selection.all(), 4, m -> { });
            assertTrue(d.complete(), d.problems().toString());
            assertEquals(List.of(blog.id + ".production.wp", shop.id + ".main.neondb", shop.id + ".main.orders").stream().sorted().toList(), names(d));
            NeonFleet.Member orders = d.databases().stream().filter(m -> m.database().equals("orders")).findFirst().orElseThrow();
            assertEquals("orders_owner", orders.role());
            assertEquals(shop.defaultBranch().id, orders.branchId());
            assertEquals(org.id(), orders.orgId());
            assertEquals(0, e.count("connection_uri"), "discovery fetches no URI and no password");

            // Neon's URI shape (no port, sslmode=require&channel_binding=require) is one the dump can use as it is.
            ConnInfo uri = NeonFleet.connect(client(e, e.orgKey(org)), orders);
            assertEquals(shop.defaultBranch().endpointId + ".us-east-2.aws.neon.invalid", uri.host());
            assertFalse(uri.redacted().contains(shop.defaultBranch().roles.get("orders_owner").password()));
        }
    }

    @Test
    void projectsBranchesAndDatabasesBySelector() {
        try (NeonApiEmulator e = NeonApiEmulator.start(22)) {
            NeonApiEmulator.Org org = e.org("acme");
            List<NeonApiEmulator.Project> tenants = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                NeonApiEmulator.Project p = e.project(org, "tenant-" + i);
                p.defaultBranch().database("neondb", "neondb_owner").database("audit_log", "neondb_owner");
                p.branch("preview/pr-" + i).database("neondb", "neondb_owner");
                tenants.add(p);
            }
            NeonApiEmulator.Project internal = e.project(org, "internal");
            internal.defaultBranch().database("neondb", "neondb_owner");
            NeonApi api = client(e, e.orgKey(org));

            NeonFleet.Discovery byGlob = NeonFleet.discover(api, select(List.of("tenant-*"), List.of(), List.of()), 2, m -> { });
            assertEquals(12, byGlob.databases().size());
            assertTrue(byGlob.databases().stream().allMatch(m -> m.projectName().startsWith("tenant-") && m.branchName().equals("main")));

            NeonFleet.Discovery byList = NeonFleet.discover(api, select(List.of(tenants.get(2).id, "internal"), List.of(), List.of("neondb")), 2, m -> { });
            assertEquals(List.of(internal.id + ".main.neondb", tenants.get(2).id + ".main.neondb").stream().sorted().toList(), names(byList));

            NeonFleet.Discovery branches = NeonFleet.discover(api, select(List.of("tenant-1"), List.of("main", "preview/*"), List.of()), 2, m -> { });
            assertEquals(3, branches.databases().size(), names(branches).toString());
            assertTrue(names(branches).stream().anyMatch(n -> n.startsWith(tenants.get(1).id + ".preview-pr-1-")), names(branches).toString());

            NeonFleet.Discovery missing = NeonFleet.discover(api, select(List.of("tenant-1", "no-such-project"), List.of(), List.of()), 2, m -> { });
            assertEquals(2, missing.databases().size());
            assertEquals(1, missing.problems().size());
            assertEquals(Exit.USAGE, missing.problems().get(0).exitCode());
            assertTrue(missing.problems().get(0).reason().contains("no-such-project"), missing.problems().toString());

            NeonFleet.Discovery noBranch = NeonFleet.discover(api, select(List.of("internal"), List.of("staging"), List.of()), 2, m -> { });
            assertEquals(1, noBranch.problems().size(), "a project without the branch asked for is reported");
            assertEquals(internal.id, noBranch.problems().get(0).projectId());
        }
    }

    @Test
    void aProjectThatCannotBeReadIsReportedNotDropped() {
        try (NeonApiEmulator e = NeonApiEmulator.start(23)) {
            NeonApiEmulator.Org org = e.org("acme");
            List<NeonApiEmulator.Project> ps = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                NeonApiEmulator.Project p = e.project(org, "p" + i);
                p.defaultBranch().database("neondb", "neondb_owner");
                ps.add(p);
            }
            ps.get(1).failWith = 500;                                   // every call about it fails
            ps.get(2).unavailableInListing = true;                      // the listing cannot describe it, GET /projects/{id} can
            ps.get(3).unavailableInListing = true;
            ps.get(3).failWith = 503;                                   // ... and this one not even alone
            ps.get(4).lock(2);                                          // an operation holds it: asked again, found
            NeonFleet.Discovery d = NeonFleet.discover(client(e, e.orgKey(org)), NeonFleet.Selection.all(), 3, m -> { });

            assertEquals(List.of(ps.get(0).id, ps.get(2).id, ps.get(4).id).stream().sorted().toList(),
                    d.databases().stream().map(NeonFleet.Member::projectId).sorted().toList());
            assertFalse(d.complete());
            Map<String, NeonFleet.Problem> byId = new HashMap<>();
            for (NeonFleet.Problem p : d.problems()) byId.put(p.projectId(), p);
            assertEquals(Set.of(ps.get(1).id, ps.get(3).id), byId.keySet());
            assertEquals(Exit.UNAVAILABLE, byId.get(ps.get(1).id).exitCode());
            assertTrue(byId.get(ps.get(1).id).reason().contains("500"), byId.toString());
            assertTrue(byId.get(ps.get(3).id).reason().contains("unavailable"), byId.toString());
        }
    }

    /** 40 projects: 1 listing + 40 branch listings + 40 database listings. */
    static NeonApiEmulator.Org fortyProjects(NeonApiEmulator e) {
        NeonApiEmulator.Org org = e.org("acme");
        for (int i = 0; i < 40; i++) e.project(org, "p" + i).defaultBranch().database("neondb", "neondb_owner");
        return org;
    }

    @Test
    void aRateLimitedDiscoveryWaitsAndStillFindsEveryProject() {
        try (NeonApiEmulator e = NeonApiEmulator.start(27)) {
            NeonApiEmulator.Org org = fortyProjects(e);
            e.rateLimit(5, 10); // far below Neon's: 8 unpaced threads run into it
            List<String> warnings = java.util.Collections.synchronizedList(new ArrayList<>());
            NeonApi unpaced = new NeonApi(e.baseUrl, e.orgKey(org), NeonApi.Policy.standard().withPacing(0, 1), d -> Thread.sleep(d.toMillis()), warnings::add);
            NeonFleet.Discovery d = NeonFleet.discover(unpaced, NeonFleet.Selection.all(), 8, m -> { });
            assertTrue(d.complete(), d.problems().toString());
            assertEquals(40, d.databases().size());
            assertTrue(e.requests().size() > 81, "some requests were refused and asked again: " + e.requests().size());
            assertTrue(!warnings.isEmpty() && warnings.stream().allMatch(w -> w.contains("429")), warnings.toString());
        }
    }

    @Test
    void pacedBelowNeonsLimitDiscoveryMeetsNo429() {
        try (NeonApiEmulator e = NeonApiEmulator.start(28)) {
            NeonApiEmulator.Org org = fortyProjects(e);
            e.rateLimit(40, 700 / 60.0); // Neon's published limit: 700 a minute, bursts of 40
            List<String> warnings = java.util.Collections.synchronizedList(new ArrayList<>());
            NeonApi paced = new NeonApi(e.baseUrl, e.orgKey(org), NeonApi.Policy.standard(), d -> Thread.sleep(d.toMillis()), warnings::add);
            NeonFleet.Discovery d = NeonFleet.discover(paced, NeonFleet.Selection.all(), 8, m -> { });
            assertEquals(40, d.databases().size());
            assertEquals(81, e.requests().size(), "no request refused");
            assertTrue(warnings.isEmpty(), warnings.toString());
        }
    }

    @Test
    void aRefusedKeyFailsTheWholeDiscovery() {
        try (NeonApiEmulator e = NeonApiEmulator.start(24)) {
            NeonApiEmulator.Org org = e.org("acme");
            e.project(org, "p").defaultBranch().database("neondb", "neondb_owner");
            String revoked = Secrets.register("napi_" + UUID.randomUUID().toString().replace("-", ""));
            Failure f = assertThrows(Failure.class, () -> NeonFleet.discover(client(e, revoked), NeonFleet.Selection.all(), 2, m -> { }));
            assertEquals(Exit.NO_PERMISSION, f.exitCode);
            assertFalse(f.getMessage().contains(revoked));
        }
    }

    @Test
    void backupNamesAreStableUniqueAndValid() {
        assertEquals("shiny-wind-02883416.main.neondb", NeonFleet.backupName("shiny-wind-02883416", "main", "neondb"));
        String dev = NeonFleet.backupName("shiny-wind-02883416", "dev/alice", "neondb");
        assertTrue(dev.startsWith("shiny-wind-02883416.dev-alice-") && dev.endsWith(".neondb"), dev);
        assertEquals(dev, NeonFleet.backupName("shiny-wind-02883416", "dev/alice", "neondb"), "the same every night");
        assertNotEquals(NeonFleet.backupName("p-1", "main", "Sales DB"), NeonFleet.backupName("p-1", "main", "sales-db"));
        assertNotEquals(NeonFleet.backupName("p-1", "main", "a.b"), NeonFleet.backupName("p-1", "main", "a-b"));
        assertNotEquals(NeonFleet.backupName("p-1", "a.b", "c"), NeonFleet.backupName("p-1", "a", "b.c"), "dots never shift the parts");

        Random r = new Random(7);
        Map<String, String> sourceByName = new HashMap<>();
        String alphabet = "abcXYZ019_-./ é€'\"@:";
        for (int i = 0; i < 5000; i++) {
            String project = "p-" + r.nextInt(50);
            String branch = random(r, alphabet, 1 + r.nextInt(r.nextInt(10) == 0 ? 300 : 12));
            String db = random(r, alphabet, 1 + r.nextInt(r.nextInt(10) == 0 ? 200 : 12));
            String name = NeonFleet.backupName(project, branch, db);
            assertTrue(name.length() <= BackupKey.MAX_NAME, name);
            assertTrue(name.matches("[a-z0-9][a-z0-9._-]*[a-z0-9]"), name);
            assertEquals(name, BackupKey.sanitizeName(name), "already a sanitised name");
            assertEquals(2, name.chars().filter(c -> c == '.').count(), name);
            String source = project + "|" + branch + "|" + db;
            String prior = sourceByName.putIfAbsent(name, source);
            assertTrue(prior == null || prior.equals(source), "two databases under the name " + name);
        }
        String longOne = NeonFleet.backupName("x".repeat(90), "b".repeat(100), "d".repeat(100));
        assertTrue(longOne.length() <= BackupKey.MAX_NAME, longOne);
    }

    static String random(Random r, String alphabet, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return sb.toString();
    }

    @Test
    void fromDiscoveryToAPlanToALegThatConnects() throws Exception {
        PgServer pg = PgServer.get();
        try (NeonApiEmulator e = NeonApiEmulator.start(25)) {
            NeonApiEmulator.Org org = e.org("acme");
            String key = e.orgKey(org);
            Map<String, Integer> rows = new HashMap<>();
            for (int i = 0; i < 4; i++) {
                NeonApiEmulator.Project p = e.project(org, "tenant-" + i);
                String db = "neon_fleet_" + UUID.randomUUID().toString().substring(0, 8);
                int n = 10 + i;
                p.defaultBranch().realDatabase(pg, db, "create table t (id int); insert into t select generate_series(1, " + n + ");");
                dropLater.add(db);
                rows.put(db, n);
            }
            NeonApi api = client(e, key);
            NeonFleet.Discovery d = NeonFleet.discover(api, NeonFleet.Selection.all(), 2, m -> { });
            assertTrue(d.complete(), d.problems().toString());
            assertEquals(4, d.databases().size());
            assertEquals(0, e.count("connection_uri"));

            FleetPlan.Plan plan = FleetPlan.plan(names(d), Map.of(), 2, 2, Duration.ofHours(1));
            Map<String, Map<String, String>> sources = new HashMap<>();
            for (NeonFleet.Member m : d.databases()) sources.put(m.name(), m.identity());
            String matrix = plan.matrixJson(), doc = plan.documentJson(sources);
            for (String secret : Secrets.all()) {
                assertFalse(matrix.contains(secret) || doc.contains(secret), "a secret in the plan");
            }
            assertFalse(matrix.contains("postgres") || doc.contains("postgres"), "no URL in the plan");

            // Each leg: its shard from the plan file, one connection_uri per database, a real connection with it.
            int connected = 0;
            for (int shard = 1; shard <= 2; shard++) {
                FleetPlan.Leg leg = FleetPlan.readLeg(doc.getBytes(StandardCharsets.UTF_8), shard);
                for (String name : leg.databases()) {
                    NeonFleet.Member m = NeonFleet.Member.fromIdentity(name, leg.sources().get(name));
                    ConnInfo conn = NeonFleet.connect(api, m);
                    assertFalse(conn.host().contains("-pooler"), "direct, never through the pooler");
                    assertEquals(String.valueOf(rows.get(m.database())), PgTools.query(pg.psql(), conn, "select count(*) from t").strip());
                    connected++;
                }
            }
            assertEquals(4, connected);
            assertEquals(4, e.count("connection_uri\\?.*pooled=false"));

            Map<String, String> tampered = new HashMap<>(sources.get(d.databases().get(0).name()));
            tampered.put("database", "other");
            assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> NeonFleet.Member.fromIdentity(d.databases().get(0).name(), tampered)).exitCode);
        }
    }

    @Test
    void threeThousandDatabasesInFourHundredProjectsPlanInto256BalancedLegs() {
        try (NeonApiEmulator e = NeonApiEmulator.start(26)) {
            NeonApiEmulator.Org org = e.org("saas");
            e.addFleet(org, 400, 3000, 26);
            NeonFleet.Discovery d = NeonFleet.discover(client(e, e.orgKey(org)), NeonFleet.Selection.all(), 8, m -> { });
            assertTrue(d.complete(), d.problems().toString());
            assertEquals(3000, d.databases().size());
            assertEquals(3000, new HashSet<>(names(d)).size());
            assertEquals(2, e.count("^GET /projects\\?"), "400 projects: one full page, then an empty one");

            List<String> fleet = names(d);
            Map<String, FleetHistory.Past> past = FleetPlanTest.skewedPast(fleet.subList(0, 2700), 26); // 300 new ones
            FleetPlan.Plan plan = FleetPlan.plan(fleet, past, 0, 4, Duration.ofSeconds(1)); // automatic: as many legs as GitHub allows
            assertEquals(256, plan.shards().size());
            assertEquals(2700, plan.measured());
            assertTrue(plan.bySize().ratio() <= 1.25, plan.bySize().toString());
            assertTrue(plan.byTime().ratio() <= 1.25, plan.byTime().toString());
            String matrix = plan.matrixJson();
            for (String secret : Secrets.all()) assertFalse(matrix.contains(secret), "a secret in the matrix");
            assertTrue(matrix.length() < 1_000_000, "fits GitHub's 1 MB of job outputs: " + matrix.length());
        }
    }
}
