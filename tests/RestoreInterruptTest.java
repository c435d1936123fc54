import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    static final int GATE_LOCK = 4244;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = TestBackups.payloadDatabase(pg, "interrupt_src", "");
        databases.add(source);
        bucket = s3.createBucket("interrupt");
        TestBackups.create(pg, bucket, "pg-backups", "app", source, AT);

        // pg_restore's COPY into `gated` waits at a CHECK whose function waits for an advisory lock the test holds in the target.
        gated = AdvisoryGate.restoreGatedDatabase(pg, "interrupt_gated", GATE_LOCK, " create table after_gate (id int); insert into after_gate select generate_series(1, 10);");
        databases.add(gated);
        gatedBucket = s3.createBucket("interrupt-gated");
        TestBackups.create(pg, gatedBucket, "pg-backups", "gated", gated, AT);
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    static boolean exists(String db) { return pg.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'").equals("1"); }

    /** restore.java as a child JVM, the URLs through the environment. */
    static ChildScript restore(Map<String, String> extraEnv, String... args) throws IOException {
        Map<String, String> env = new HashMap<>(s3.env());
        env.putAll(extraEnv);
        return ChildScript.start("Restore", env, args);
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
            ChildScript child = restore(Map.of("AWS_ENDPOINT_URL", proxy.endpoint(), "S3_BUCKET", bucket, "RESTORE_DATABASE_URL", pg.url(target)),
                    "--create", "--stream");
            Waits.until("the database is created and pg_restore runs", child.process().onExit(),
                    () -> exists(target) && !child.descendants("pg_restore").isEmpty());
            List<ProcessHandle> pgRestore = child.descendants("pg_restore");
            child.sigterm();
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
        List<ProcessHandle> pgRestore;
        boolean stoppedWithTheJvm;
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, target, GATE_LOCK)) {
            ChildScript child = restore(Map.of("S3_BUCKET", gatedBucket, "RESTORE_DATABASE_URL", pg.url(target)), "--temp-dir", tmp.toString());
            gate.awaitWaiter("pg_restore", child.process().onExit());
            pgRestore = child.descendants("pg_restore");
            assertEquals(1, pgRestore.size(), child.stderr());
            child.process().destroyForcibly(); // SIGKILL: no shutdown hook
            child.end();
            try {
                pgRestore.get(0).onExit().get(60, TimeUnit.SECONDS);
                stoppedWithTheJvm = true;
            } catch (java.util.concurrent.TimeoutException e) {
                stoppedWithTheJvm = false;
            }
            gate.open();
        } finally {
            PgServer.deleteTree(tmp);
        }
        if (!stoppedWithTheJvm) pgRestore.get(0).onExit().get(60, TimeUnit.SECONDS); // let it show what it would have done
        assertTrue(stoppedWithTheJvm, "pg_restore went on after restore.java was killed");
        assertEquals("0", pg.sql(target, "select count(*) from pg_tables where schemaname = 'public'"), "nothing was committed");
        assertEquals("0", pg.sql("postgres", "select count(*) from pg_stat_activity where datname = '" + target + "' and application_name = 'pg_restore'"));
    }
}
