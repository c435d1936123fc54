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
            Scripts.Run drill = Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--scratch-url", pg.url("postgres"), "--no-record");
            assertEquals(0, drill.exit(), drill.toString());
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

    /** Runs that fail with --verbose (stack traces included), in-process and as children writing a step summary. */
    @Test
    @Order(2)
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
            assertTrue(Files.readString(summary).contains("restore"), "the step summary was written");
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
    @Order(3)
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
