import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * A restore interrupted while pg_restore writes to the target (issue 15). SIGTERM (a cancelled CI job) after --create
 * made the database: the database is dropped again and the run says so (before: left behind without a word).
 * SIGKILL of restore.java (no shutdown hook runs): its pg_restore must not live on and commit (before: it went on,
 * reading its file, and committed once it could).
 */
@ExtendWith(FaultLedger.class)
class RestoreInterruptTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static String bucket;
    static String gated;
    static String gatedBucket;
    static final List<String> databases = new ArrayList<>();
    static final Instant AT = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = pg.createDatabase("interrupt_src");
        databases.add(source);
        pg.sql(source, "create table aa_data (id int primary key, payload text);"
                + " insert into aa_data select g, md5(g::text) || md5((g + 1)::text) from generate_series(1, 20000) g; analyze;");
        bucket = s3.createBucket("interrupt");
        TestBackups.create(pg, bucket, "pg-backups", "app", source, AT);

        // pg_restore's COPY into `gated` waits at a CHECK whose function waits for an advisory lock the test holds in the target.
        gated = pg.createDatabase("interrupt_gated");
        databases.add(gated);
        pg.sql(gated, "create function gate_wait() returns boolean language plpgsql as $$ begin perform pg_advisory_xact_lock_shared(4244); return true; end $$;"
                + " create table gated (id int, check (gate_wait())); insert into gated select generate_series(1, 100);"
                + " create table after_gate (id int); insert into after_gate select generate_series(1, 10);");
        gatedBucket = s3.createBucket("interrupt-gated");
        TestBackups.create(pg, gatedBucket, "pg-backups", "gated", gated, AT);
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    static boolean exists(String db) { return pg.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'").equals("1"); }

    /** restore.java as a child JVM, the URLs through the environment; stdout and stderr collected. */
    record Child(Process process, ByteArrayOutputStream err, Thread reader) {
        static Child start(Map<String, String> extraEnv, String... args) throws IOException {
            Map<String, String> env = new HashMap<>(s3.env());
            env.putAll(extraEnv);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "Restore"));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(env);
            Process p = pb.start();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread t = new Thread(() -> { try { p.getErrorStream().transferTo(err); } catch (IOException ignored) { } });
            t.start();
            return new Child(p, err, t);
        }

        String stderr() { return err.toString(StandardCharsets.UTF_8); }

        List<ProcessHandle> pgRestores() {
            return process.toHandle().descendants().filter(h -> h.info().command().orElse("").endsWith("/pg_restore")).toList();
        }

        String end() throws Exception {
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "restore did not end after its signal\n" + stderr());
            reader.join(10_000);
            Output.record("", stderr());
            return stderr();
        }
    }

    /**
     * --stream --create: the database is created, pg_restore runs and waits for the download, which S3 stalls. SIGTERM:
     * pg_restore is stopped, the database created for this restore is dropped, and the run says so.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void sigtermAfterCreateDropsTheDatabaseItCreated() throws Exception {
        String target = "interrupt_created_" + Long.toHexString(System.nanoTime());
        databases.add(target);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.stallInResponse("download stalls at 100 KiB", FaultProxy.Request::isDumpGet, 1, 100 << 10, Duration.ofMinutes(10));
            Child child = Child.start(Map.of("AWS_ENDPOINT_URL", proxy.endpoint(), "S3_BUCKET", bucket, "RESTORE_DATABASE_URL", pg.url(target)),
                    "--create", "--stream");
            BackupFailureTest.waitUntil("the database is created and pg_restore runs", child.process().onExit(),
                    () -> exists(target) && !child.pgRestores().isEmpty());
            List<ProcessHandle> pgRestore = child.pgRestores();
            child.process().toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its stderr)
            String err = child.end();
            for (ProcessHandle h : pgRestore) h.onExit().get(30, TimeUnit.SECONDS);
            assertTrue(child.process().exitValue() != 0, err);
            assertTrue(err.contains("restore: interrupted: pg_restore stopped; the database \"" + target + "\" created for this restore was dropped"), err);
        }
        assertFalse(exists(target), "the database created for the interrupted restore is gone");
    }

    /**
     * SIGKILL of restore.java while pg_restore (from its temp file, one transaction) waits at the gate: pg_restore must
     * stop with it, before the gate opens; once it opens, nothing has been committed and no backend is left.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void sigkillOfRestoreStopsItsPgRestoreBeforeItCommits() throws Exception {
        String target = pg.createDatabase("interrupt_killed");
        databases.add(target);
        Path tmp = Files.createTempDirectory("interrupt-tmp");
        ConnInfo conn = pg.conn(target);
        List<ProcessHandle> pgRestore;
        boolean stoppedWithTheJvm;
        try (PgTools.Streaming lock = PgTools.start(List.of(pg.psql().path().toString(), "-X", "-q", "-d", conn.withoutPassword()), conn.childEnvironment())) {
            lock.stdin().write("select pg_advisory_lock(4244);\n".getBytes(StandardCharsets.UTF_8));
            lock.stdin().flush();
            BackupFailureTest.waitUntil("the gate lock is held", null, () -> pg.sql(target,
                    "select count(*) from pg_locks where locktype = 'advisory' and objid = 4244 and granted").equals("1"));
            Child child = Child.start(Map.of("S3_BUCKET", gatedBucket, "RESTORE_DATABASE_URL", pg.url(target)), "--temp-dir", tmp.toString());
            BackupFailureTest.waitUntil("pg_restore waits at the gate", child.process().onExit(), () -> !pg.sql(target,
                    "select count(*) from pg_stat_activity where datname = '" + target + "' and wait_event = 'advisory'").equals("0"));
            pgRestore = child.pgRestores();
            assertEquals(1, pgRestore.size(), child.stderr());
            child.process().destroyForcibly(); // SIGKILL: no shutdown hook
            child.end();
            try {
                pgRestore.get(0).onExit().get(60, TimeUnit.SECONDS);
                stoppedWithTheJvm = true;
            } catch (java.util.concurrent.TimeoutException e) {
                stoppedWithTheJvm = false;
            }
            lock.stdin().write("select pg_advisory_unlock(4244);\n".getBytes(StandardCharsets.UTF_8));
            lock.stdin().flush();
        } finally {
            PgServer.deleteTree(tmp);
        }
        if (!stoppedWithTheJvm) pgRestore.get(0).onExit().get(60, TimeUnit.SECONDS); // let it show what it would have done
        assertTrue(stoppedWithTheJvm, "pg_restore went on after restore.java was killed");
        assertEquals("0", pg.sql(target, "select count(*) from pg_tables where schemaname = 'public'"), "nothing was committed");
        assertEquals("0", pg.sql("postgres", "select count(*) from pg_stat_activity where datname = '" + target + "' and application_name = 'pg_restore'"));
    }
}
