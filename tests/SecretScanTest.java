import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The secrets the suite handed to the scripts (the PostgreSQL passwords, full of URL-special characters, and
 * the AWS secret keys and session tokens: {@link Secrets}) never appear in any child's /proc/PID/cmdline, in
 * anything a script printed during the whole suite (stdout, stderr, --json; in-process and child runs), in the
 * GitHub step summaries they wrote, or on the test JVM's own stdout/stderr. Runs last (run.java orders classes
 * by @Order), after its own probes: failing runs with --verbose, whose stack traces are the likeliest leak.
 */
@Order(Integer.MAX_VALUE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecretScanTest {
    static PgServer pg;
    static S3Server s3;
    static String db;
    static String bucket;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("secret_scan");
        pg.sql(db, "create table t (id int, v text); insert into t select g, md5(g::text) from generate_series(1, 20000) g; analyze;");
        bucket = s3.createBucket("secret-scan");
        TestBackups.create(pg, bucket, "pg-backups", "app", db, Instant.parse("2026-11-20T02:00:00Z"));
    }

    @AfterAll
    static void tearDown() { pg.dropDatabase(db); }

    /**
     * Watches /proc while pg_restore (held mid-download by a stall, so it is surely seen) and psql run, in a
     * streamed restore and a drill: no secret in any argv.
     */
    @Test
    @Order(1)
    void noSecretInAnyChildsArgv() throws Exception {
        // Every command line seen, per process: a child first shows as the JDK's jspawnhelper, then, under the same
        // PID, as the program it execs, so keeping only the first would lose the pg_restore or psql it becomes.
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                ProcessHandle.current().descendants().forEach(p -> {
                    try {
                        byte[] raw = Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline"));
                        if (raw.length > 0) seen.add(new String(raw, StandardCharsets.UTF_8).replace('\0', ' '));
                    } catch (Exception gone) {
                        // ended meanwhile
                    }
                });
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "proc-watcher");
        watcher.start();
        String target = "secret_scan_restored_" + Long.toHexString(System.nanoTime());
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            // pg_restore reads the stream; the stall keeps it (and our view of its argv) alive for 3 s.
            proxy.stallInResponse("hold the download", FaultProxy.Request::isDumpGet, 1, 100 << 10, Duration.ofSeconds(3));
            Scripts.Run run = Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                    "--target-url", pg.url(target), "--create", "--stream");
            assertEquals(0, run.exit(), run.toString());
            // The password as a percent-encoded query key (libpq decodes pass%77ord) and an sslpassword (unused with
            // sslmode=disable, but a secret all the same): neither may reach psql's or pg_restore's argv.
            Scripts.Run drill = Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--scratch-url", hiddenSecretsUrl("postgres"), "--no-record");
            assertEquals(0, drill.exit(), drill.toString());
            assertTrue(drill.err().contains("sslpassword=***") || !drill.err().contains("sslpassword"), drill.err());
        } finally {
            watching.set(false);
            watcher.join();
            pg.dropDatabase(target);
        }
        List<String> tools = seen.stream().filter(c -> c.contains("/pg_restore ") || c.contains("/psql ")).toList();
        assertTrue(tools.stream().anyMatch(c -> c.contains("/pg_restore ") && c.contains("--dbname")), "pg_restore was seen running: " + seen);
        // psql runs for milliseconds at a time, so it is checked when the watcher catches it (it builds its argv like pg_restore).
        for (String cmdline : seen) {
            for (String secret : Secrets.forms()) assertFalse(cmdline.contains(secret), "a secret in a child's argv: " + cmdline);
        }
    }

    /** An sslpassword no test elsewhere uses: SecretScanTest hunts it in every argv, output and summary. */
    static final String SSL_PASSWORD = Secrets.register("ssl-key-passphrase-" + Long.toHexString(Double.doubleToLongBits(Math.random())));

    /** The test server's superuser, its password given as ?pass%77ord= (the key percent-encoded), plus an sslpassword. */
    static String hiddenSecretsUrl(String database) {
        return "postgresql://postgres@127.0.0.1:" + pg.port + "/" + database + "?sslmode=disable&pass%77ord=" + ConnInfo.encode(PgServer.PASSWORD)
                + "&sslpassword=" + ConnInfo.encode(SSL_PASSWORD);
    }

    /**
     * What pg_dump and psql hold in their environment (/proc/PID/environ), in a child backup of a fleet whose own
     * environment is full of secrets: the AWS secret key and session token, NEON_API_KEY, a DATABASE_URL of another
     * database, and the fleet's ${VAR} URLs. Each client has its own database's password (PGPASSWORD, and the service
     * file for sslpassword) and nothing else of the kind. pg_dump is seen for sure, held at a table lock; psql is
     * seen by {@link FakePostgres} while it connects (database "b" of the fleet, which then fails: exit 3).
     */
    @Test
    @Order(2)
    void childrenGetOnlyTheEnvironmentTheyNeed() throws Exception {
        String sessionToken = Secrets.register("session-token-" + Long.toHexString(System.nanoTime()));
        String neonKey = Secrets.register("neon-api-key-" + Long.toHexString(System.nanoTime()));
        String otherPassword = Secrets.register("other-db-password-" + Long.toHexString(System.nanoTime()));
        String bPassword = Secrets.register("fleet-b-password-" + Long.toHexString(System.nanoTime()));
        Path fleet = Files.createTempFile("secret-scan-fleet", ".txt");
        Path summary = Files.createTempFile("secret-scan-summary", ".md");
        ConnInfo conn = pg.conn(db);
        try (FakePostgres fake = new FakePostgres();
             PgTools.Streaming gate = PgTools.start(List.of(pg.psql().path().toString(), "-X", "-q", "-d", conn.withoutPassword()), conn.childEnvironment())) {
            String aUrl = pg.url(db);
            String bUrl = "postgresql://app@127.0.0.1:" + fake.port() + "/app?sslmode=disable&pass%77ord=" + ConnInfo.encode(bPassword)
                    + "&sslpassword=" + ConnInfo.encode(SSL_PASSWORD);
            Files.writeString(fleet, "a=${FLEET_A_URL}\nb=${FLEET_B_URL}\n");
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("AWS_SESSION_TOKEN", sessionToken);
            env.put("NEON_API_KEY", neonKey);
            env.put("DATABASE_URL", "postgresql://other:" + otherPassword + "@other.example.com/other");
            env.put("FLEET_A_URL", aUrl);
            env.put("FLEET_B_URL", bUrl);
            env.put("GITHUB_STEP_SUMMARY", summary.toString());
            gate.stdin().write("begin; lock table t in access exclusive mode;\n".getBytes(StandardCharsets.UTF_8));
            gate.stdin().flush();
            Waits.until("the table lock is held", null, () -> !pg.sql(db, "select count(*) from pg_locks l join pg_class c on c.oid = l.relation"
                    + " where c.relname = 't' and l.mode = 'AccessExclusiveLock' and l.granted").equals("0"));

            Process backup = Scripts.start("Backup", env, List.of("--bucket", s3.createBucket("secret-scan-env"), "--databases-file", fleet.toString(), "--jobs", "2", "--json"));
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            Thread t1 = new Thread(() -> { try { backup.getInputStream().transferTo(out); } catch (java.io.IOException ignored) { } });
            Thread t2 = new Thread(() -> { try { backup.getErrorStream().transferTo(err); } catch (java.io.IOException ignored) { } });
            t1.start();
            t2.start();
            List<FakePostgres.Seen> pgDumps = new ArrayList<>();
            try {
                Waits.until("pg_dump waits for the table lock", backup.onExit(), () -> !pg.sql(db, "select count(*) from pg_stat_activity"
                        + " where application_name like 'pgdump-s3 backup %' and wait_event_type = 'Lock'").equals("0")); // backup names pg_dump's session
                ProcessHandle.current().descendants().forEach(p -> {
                    try {
                        String cmdline = new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                        if (!cmdline.contains("pg_dump ")) return;
                        String environ = new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/environ")), StandardCharsets.UTF_8).replace('\0', '\n');
                        pgDumps.add(new FakePostgres.Seen(p.pid(), cmdline, environ));
                    } catch (java.io.IOException gone) {
                        // not ours to see, or ended
                    }
                });
            } finally {
                gate.close(); // rolls back: the lock goes, pg_dump goes on
            }
            boolean ended = backup.waitFor(10, java.util.concurrent.TimeUnit.MINUTES);
            t1.join();
            t2.join();
            Output.record(out.toString(), err.toString());
            Output.recordStepSummary(summary.toString());
            assertTrue(ended, "the backup ended");
            assertEquals(Exit.PARTIAL, backup.exitValue(), "a backed up, b (the fake server) failed:\n" + out + "\n" + err);

            List<FakePostgres.Seen> psqls = fake.seen();
            assertEquals(1, pgDumps.size(), "pg_dump of a, held at the lock: " + pgDumps);
            assertFalse(psqls.isEmpty(), "psql of b seen while it connected");
            List<String> nobodysBusiness = List.of(S3Server.SECRET_KEY, sessionToken, neonKey, otherPassword, aUrl, bUrl, "FLEET_A_URL", "FLEET_B_URL",
                    "DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "NEON_API_KEY", "GITHUB_STEP_SUMMARY");
            for (FakePostgres.Seen c : pgDumps) {
                for (String x : nobodysBusiness) assertFalse(c.environ().contains(x), "pg_dump of a holds a secret in its environment: " + names(c));
                for (String x : List.of(bPassword, SSL_PASSWORD)) assertFalse(c.holds(x), "pg_dump of a holds b's secret, in argv or environment: " + names(c));
                assertTrue(c.environ().contains("PGPASSWORD=" + PgServer.PASSWORD + "\n"), "its own password, through PGPASSWORD");
            }
            for (FakePostgres.Seen c : psqls) {
                for (String x : nobodysBusiness) assertFalse(c.environ().contains(x), "psql of b holds a secret in its environment: " + names(c));
                assertFalse(c.holds(PgServer.PASSWORD), "psql of b holds a's password");
                assertFalse(c.environ().contains(SSL_PASSWORD), "sslpassword goes through the service file, not the environment");
                assertTrue(c.environ().contains("PGPASSWORD=" + bPassword + "\n") && c.environ().contains("PGSERVICEFILE="), "its own secrets: " + names(c));
            }
            for (FakePostgres.Seen c : concat(pgDumps, psqls)) {
                for (String secret : Secrets.forms()) assertFalse(c.cmdline().contains(secret), "a secret in argv: " + c.cmdline());
            }
        } finally {
            Files.deleteIfExists(fleet);
            Files.deleteIfExists(summary);
        }
    }

    /** The names of a process's environment variables (an assertion message must not print their values: secrets). */
    static List<String> names(FakePostgres.Seen c) {
        return c.environ().lines().map(l -> l.contains("=") ? l.substring(0, l.indexOf('=')) : l).sorted().toList();
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Runs that fail with --verbose (stack traces included), in-process and as children writing a step summary. */
    @Test
    @Order(3)
    void failingVerboseRunsShowNoSecret() throws Exception {
        String wrong = "postgresql://postgres:" + ConnInfo.encode("wrong-" + PgServer.PASSWORD) + "@127.0.0.1:" + pg.port + "/" + db;
        List<Scripts.Run> runs = new ArrayList<>();
        runs.add(Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--database-url", wrong, "--verbose", "--json"));
        runs.add(Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--database-url", pg.url("no_such_db"), "--verbose"));
        runs.add(Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--verbose",
                "--database-url", "postgresql://postgres:" + PgServer.PASSWORD + "@127.0.0.1/" + db));
        runs.add(Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--database-url", pg.url(db), "--verbose",
                "--", "--table=does_not_exist"));
        runs.add(Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--target-url", wrong.replace("/" + db, "/x"), "--create", "--verbose", "--json"));
        runs.add(Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--scratch-url", wrong, "--verbose", "--json"));
        Path summary = Files.createTempFile("secret-scan-summary", ".md");
        try {
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("GITHUB_STEP_SUMMARY", summary.toString());
            env.put("S3_BUCKET", bucket);
            env.put("DATABASE_URL", wrong);
            runs.add(Scripts.runProcess("Backup", env, "--verbose"));
            env.put("RESTORE_DATABASE_URL", pg.url("secret_scan_env_" + Long.toHexString(System.nanoTime())));
            runs.add(Scripts.runProcess("Restore", env, "--create", "--verbose", "--json"));
            assertTrue(Files.readString(summary).contains("restore"), "the step summary was written: " + runs.get(runs.size() - 1));
        } finally {
            Files.deleteIfExists(summary);
            pg.dropDatabase(createdByEnv("secret_scan_env_"));
        }
        assertEquals(List.of(77, 64, 64, 1, 77, 77, 77, 0), runs.stream().map(Scripts.Run::exit).toList(), runs.toString());
        for (Scripts.Run run : runs) {
            for (String secret : Secrets.forms()) assertFalse(run.out().contains(secret) || run.err().contains(secret), "a secret in:\n" + run);
        }
    }

    /** Drops the databases the env-driven restore created (their name has a random suffix). */
    static String createdByEnv(String prefix) {
        String found = pg.sql("postgres", "select datname from pg_database where datname like '" + prefix + "%' limit 1");
        return found.isBlank() ? prefix + "none" : found.strip();
    }

    /** Everything captured during the whole suite (all test classes ran before this one). */
    @Test
    @Order(4)
    void noSecretInAnythingTheSuiteCaptured() throws Exception {
        Set<String> secrets = Secrets.forms();
        assertTrue(Secrets.all().contains(PgServer.PASSWORD) && Secrets.all().contains(S3Server.SECRET_KEY), "the secrets are registered");
        Map<String, String> captured = new HashMap<>();
        captured.put("script output (stdout, stderr, --json)", Output.all());
        captured.put("GitHub step summaries written by the scripts", Output.stepSummaries());
        captured.put("the test JVM's stdout and stderr", Output.standardStreams());
        String own = System.getenv("GITHUB_STEP_SUMMARY"); // the suite itself under GitHub Actions: in-process runs append here
        if (own != null && !own.isBlank() && Files.exists(Path.of(own))) captured.put("this job's step summary " + own, Files.readString(Path.of(own)));
        assertTrue(Output.all().length() > 1000 && Output.stepSummaries().contains("pgdump-s3"), "the scan has something to scan");
        for (var e : captured.entrySet()) {
            for (String secret : secrets) {
                int at = e.getValue().indexOf(secret);
                if (at >= 0) {
                    String around = e.getValue().substring(Math.max(0, at - 300), Math.min(e.getValue().length(), at + 100));
                    throw new AssertionError("a test secret appears in " + e.getKey() + ":\n..." + around.replace(secret, "<SECRET>") + "...");
                }
            }
        }
        long chars = captured.values().stream().mapToLong(String::length).sum();
        System.out.printf("Secret scan: %d secrets (%d forms) not found in %,d characters of script output, step summaries and the test JVM's own output.%n",
                Secrets.all().size(), secrets.size(), chars);
    }
}
