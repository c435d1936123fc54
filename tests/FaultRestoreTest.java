import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Faults while restoring: S3 connections reset mid-download (resumed, or a clean failure with the target
 * untouched: no database created, nothing committed, no temp file left), throttling and stalls during a
 * streamed restore, a drill that cannot download, and pg_restore failing half-way, with and without --create,
 * in one transaction and in parallel: never a half-built database left as if it were good.
 */
@ExtendWith(FaultLedger.class) // each test: one fault; tests run concurrently (mostly waiting for retry back-offs), the class alone
class FaultRestoreTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static String role;
    static String bucket;        // one good backup of `source`
    static String ownerBucket;   // a backup whose publication belongs to a role that no longer exists
    static final List<String> databases = new ArrayList<>();
    static final Instant AT = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        // ~1 MB compressed: large enough to be cut several times mid-download.
        source = TestBackups.payloadDatabase(pg, "faults_restore_src", " create table bb_more (id int); insert into bb_more select generate_series(1, 5000);");
        databases.add(source);
        bucket = s3.createBucket("fault-restore");
        TestBackups.create(pg, bucket, "pg-backups", "app", source, AT);

        // pg_restore --owner fails at ALTER PUBLICATION ... OWNER TO a role that is gone: a post-data item, so
        // the tables and their rows are already restored when it fails (half-way).
        role = "fault_owner_" + UUID.randomUUID().toString().substring(0, 8);
        String owned = pg.createDatabase("faults_restore_owned");
        databases.add(owned);
        pg.sql("postgres", "create role " + role + "; grant create on database " + owned + " to " + role);
        pg.sql(owned, "create table aa_data (id int primary key, payload text); insert into aa_data select g, 'row ' || g from generate_series(1, 3000) g;"
                + " create publication fault_pub for table aa_data; alter publication fault_pub owner to " + role + "; analyze;");
        ownerBucket = s3.createBucket("fault-restore-owner");
        TestBackups.create(pg, ownerBucket, "pg-backups", "owned", owned, AT);
        pg.sql(owned, "alter publication fault_pub owner to postgres");
        pg.sql("postgres", "revoke create on database " + owned + " from " + role + "; drop role " + role);
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    static String newName(String prefix) {
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        databases.add(name);
        return name;
    }

    static boolean exists(String db) { return pg.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'").equals("1"); }

    static long tables(String db) {
        return Long.parseLong(pg.sql(db, "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"));
    }

    static Scripts.Run restore(String endpoint, String bucketName, String... args) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucketName, "--endpoint-url", endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static Path tempDir() throws Exception { return Files.createTempDirectory("fault-restore-tmp"); }

    static List<String> filesIn(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    // ---- downloads --------------------------------------------------------------------------------------------

    /** Every download of the dump is cut after 64 KiB: resumed a few times, then a clean failure before anything is created. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void downloadCutForGoodCreatesNothing() throws Exception {
        BucketState before = BucketState.of(bucket);
        String target = newName("fault_dl");
        Path tmp = tempDir();
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetInResponse("dump cut at 64 KiB", FaultProxy.Request::isDumpGet, -1, 64 << 10);
            Scripts.Run run = restore(proxy.endpoint(), bucket, "--target-url", pg.url(target), "--create", "--temp-dir", tmp.toString());
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertTrue(run.err().contains("resuming, attempt 5 of 5"), run.err());
            assertTrue(run.err().contains("restore: error: the download of s3://" + bucket + "/pg-backups/app/app_2026-11-20T02-00-00Z.dump broke off 5 times"), run.err());
            assertEquals(1, run.err().lines().filter(l -> l.startsWith("restore: error: ")).count(), run.err());
            assertFalse(exists(target), "no database is created for a backup that could not be downloaded and verified");
            assertEquals(List.of(), filesIn(tmp), "the partial download is deleted");
        } finally {
            PgServer.deleteTree(tmp);
        }
        BucketState.of(bucket).assertUnchangedSince(before);
    }

    /**
     * --stream --create: pg_restore is already running on a database created for it when the download breaks
     * for good (one cut, then S3 errors): pg_restore is stopped, nothing is committed, the database is dropped.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void streamedDownloadBrokenForGoodDropsTheCreatedDatabase() throws Exception {
        String target = newName("fault_stream");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetInResponse("dump cut at 256 KiB", FaultProxy.Request::isDumpGet, 1, 256 << 10);
            proxy.internalError("then S3 fails", FaultProxy.Request::isDumpGet, -1);
            Scripts.Run run = restore(proxy.endpoint(), bucket, "--target-url", pg.url(target), "--create", "--stream");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertTrue(run.err().contains("created database \"" + target + "\""), run.err());
            assertFalse(exists(target), "the database created for the restore is dropped again");
        }
    }

    /** --stream into an existing empty database, the download broken for good mid-way: the target stays empty. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void streamedDownloadBrokenForGoodCommitsNothing() throws Exception {
        String target = pg.createDatabase("fault_stream_existing");
        databases.add(target);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetInResponse("dump cut at 256 KiB", FaultProxy.Request::isDumpGet, 1, 256 << 10);
            proxy.internalError("then S3 fails", FaultProxy.Request::isDumpGet, -1);
            Scripts.Run run = restore(proxy.endpoint(), bucket, "--target-url", pg.url(target), "--stream");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertTrue(run.err().contains("nothing was committed: the target is as it was"), run.err());
        }
        assertEquals(0, tables(target), "one transaction, never committed: the target is as it was");
    }

    /**
     * The same with --no-single-transaction: what pg_restore did before the break stays committed, so the
     * target is half-built, and the error must say so (it used to end with the bare download error).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void streamedDownloadBrokenForGoodWithoutOneTransactionSaysPartial() throws Exception {
        String target = pg.createDatabase("fault_stream_partial");
        databases.add(target);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            // Late enough that pg_restore has the schema (the sink buffers 256 KiB): its tables are created and committed.
            proxy.resetInResponse("dump cut at 400 KiB", FaultProxy.Request::isDumpGet, 1, 400 << 10);
            proxy.internalError("then S3 fails", FaultProxy.Request::isDumpGet, -1);
            Scripts.Run run = restore(proxy.endpoint(), bucket, "--target-url", pg.url(target), "--stream", "--no-single-transaction");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertTrue(run.err().contains("the target may hold a PARTIAL restore"), run.err());
            assertTrue(tables(target) > 0, "the tables were created before the download broke\n" + run.err() + proxy.log());
        }
    }

    /** A streamed restore through throttling, two cuts and a stall: resumed, and the result is the source exactly. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void streamedRestoreRidesOutThrottlingCutsAndStalls() throws Exception {
        String target = newName("fault_bumpy");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var slow = proxy.slowDown("SlowDown", FaultProxy.Request::isDumpGet, 2);
            var cut = proxy.resetInResponse("cut at 200 KiB", FaultProxy.Request::isDumpGet, 2, 200 << 10);
            var stall = proxy.stallInResponse("stall 2 s at 100 KiB", FaultProxy.Request::isDumpGet, 1, 100 << 10, Duration.ofSeconds(2));
            Scripts.Run run = restore(proxy.endpoint(), bucket, "--target-url", pg.url(target), "--create", "--stream");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(2, slow.applied());
            assertEquals(2, cut.applied());
            assertEquals(1, stall.applied());
        }
        assertEquals(pg.sql(source, "select count(*), sum(hashtext(payload)) from aa_data"), pg.sql(target, "select count(*), sum(hashtext(payload)) from aa_data"));
        assertEquals("5000", pg.sql(target, "select count(*) from bb_more"));
    }

    /**
     * restore.java killed with SIGKILL mid-download (the OOM killer, a cancelled CI job): nothing can run to delete
     * its temp dump, so the next restore removes it first, and only it: the temp dump of a restore that is still
     * running (another process, holding its lock) is left alone.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aTempDumpLeftBySigkillIsRemovedByTheNextRun() throws Exception {
        Path tmp = tempDir();
        ChildScript killed = null, running = null;
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.stallInResponse("hold both downloads at 100 KiB", FaultProxy.Request::isDumpGet, 2, 100 << 10, Duration.ofSeconds(60));
            killed = startRestore(proxy.endpoint(), tmp, newName("fault_killed"));
            waitForFiles(tmp, 2, killed);
            running = startRestore(proxy.endpoint(), tmp, newName("fault_still_running"));
            waitForFiles(tmp, 4, running);
            killed.kill(); // SIGKILL: no shutdown hook, no finally
            assertFalse(killed.process().isAlive());
            String dead = "pgdump-s3-" + killed.process().pid() + "-", alive = "pgdump-s3-" + running.process().pid() + "-";
            assertEquals(2, filesIn(tmp).stream().filter(f -> f.startsWith(dead)).count(), "SIGKILL leaves the dump and its lock file: " + filesIn(tmp));

            Scripts.Run run = restore(s3.endpoint, bucket, "--target-url", pg.url(newName("fault_after_kill")), "--create", "--temp-dir", tmp.toString());
            assertEquals(0, run.exit(), run.toString());
            assertTrue(run.err().contains("note: removed " + tmp.resolve(dead)) && run.err().contains("a restore that was killed"), run.err());
            List<String> left = filesIn(tmp);
            assertEquals(2, left.size(), "the running restore's dump and lock stay, nothing else: " + left);
            assertTrue(left.stream().allMatch(f -> f.startsWith(alive)), left.toString());
            assertTrue(running.process().isAlive(), "the other restore is still running");
        } finally {
            if (killed != null) killed.kill();
            if (running != null) running.kill();
            PgServer.deleteTree(tmp);
        }
    }

    static ChildScript startRestore(String endpoint, Path tmp, String target) throws Exception {
        return ChildScript.start("Restore", s3.env(), "--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION,
                "--target-url", pg.url(target), "--create", "--temp-dir", tmp.toString());
    }

    static void waitForFiles(Path dir, int count, ChildScript child) {
        Waits.until(count + " files in " + dir, child.process().onExit(), () -> {
            try {
                return filesIn(dir).size() >= count;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** A drill whose download breaks for good has no verdict on the backup: no record written, no scratch database left. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void drillThatCannotDownloadWritesNoRecord() throws Exception {
        BucketState before = BucketState.of(bucket);
        List<String> drillsBefore = scratchDatabases();
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetInResponse("dump cut at 128 KiB", FaultProxy.Request::isDumpGet, 1, 128 << 10);
            proxy.internalError("then S3 fails", FaultProxy.Request::isDumpGet, -1);
            Scripts.Run run = Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                    "--scratch-url", pg.url("postgres"));
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        }
        BucketState.of(bucket).assertUnchangedSince(before);
        assertEquals(drillsBefore, scratchDatabases());
    }

    static List<String> scratchDatabases() {
        String out = pg.sql("postgres", "select datname from pg_database where datname like 'pgdump_s3_drill_%' order by 1");
        return out.isBlank() ? List.of() : out.lines().toList();
    }

    /**
     * SIGTERM (GitHub cancelling the job) while pg_restore is mid-COPY: held there by a CHECK constraint whose
     * function waits for an advisory lock the test holds in the target database. pg_restore is stopped with the
     * JVM, nothing is committed, and the downloaded dump is deleted.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void sigtermDuringPgRestoreCommitsNothing() throws Exception {
        String gated = AdvisoryGate.restoreGatedDatabase(pg, "faults_restore_gated", 4243, "");
        databases.add(gated);
        String gatedBucket = s3.createBucket("fault-restore-sigterm");
        TestBackups.create(pg, gatedBucket, "pg-backups", "gated", gated, AT);
        String target = pg.createDatabase("fault_sigterm");
        databases.add(target);
        Path tmp = tempDir();
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, target, 4243)) {
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("S3_BUCKET", gatedBucket);
            ChildScript child = ChildScript.start("Restore", env, "--target-url", pg.url(target), "--temp-dir", tmp.toString());
            gate.awaitWaiter("pg_restore", child.process().onExit());
            List<ProcessHandle> pgRestore = child.descendants("pg_restore");
            assertEquals(1, pgRestore.size());
            child.sigterm();
            String err = child.end();
            pgRestore.get(0).onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(child.process().exitValue() != 0, err);
        }
        assertEquals(0, tables(target), "nothing committed");
        try {
            assertEquals(List.of(), filesIn(tmp), "the downloaded dump is deleted");
        } finally {
            PgServer.deleteTree(tmp);
        }
    }

    // ---- pg_restore failing half-way -------------------------------------------------------------------------

    /** One transaction, --create: pg_restore fails after the data is in; rolled back, and the created database dropped. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void pgRestoreFailingHalfWayDropsTheDatabaseItCreated() {
        String target = newName("fault_half");
        Scripts.Run run = restore(s3.endpoint, ownerBucket, "--target-url", pg.url(target), "--create", "--owner");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("role \"" + role + "\" does not exist"), run.err());
        assertTrue(run.err().contains("the database created for this restore was dropped"), run.err());
        assertFalse(exists(target));
    }

    /** In parallel (no single transaction), --create: half-built when pg_restore fails; dropped all the same. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void parallelPgRestoreFailingHalfWayDropsTheDatabaseItCreated() {
        String target = newName("fault_half_j2");
        Scripts.Run run = restore(s3.endpoint, ownerBucket, "--target-url", pg.url(target), "--create", "--owner", "--jobs", "2");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("the database created for this restore was dropped"), run.err());
        assertFalse(exists(target));
    }

    /**
     * In parallel into an existing database: the failure leaves a partial restore (the table is there, the
     * publication is not), and the error says so in capitals instead of ending as if it were good.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void parallelPgRestoreFailingHalfWayIntoAnExistingDatabaseSaysPartial() throws Exception {
        String target = pg.createDatabase("fault_half_existing");
        databases.add(target);
        Scripts.Run run = restore(s3.endpoint, ownerBucket, "--target-url", pg.url(target), "--owner", "--jobs", "2", "--json");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("PARTIAL restore"), run.err());
        // --json: the error document, never a success-shaped one.
        var doc = Json.MAPPER.readTree(run.out());
        assertFalse(doc.get("ok").asBoolean(true), run.out());
        assertEquals(Exit.FAILED, doc.get("error").get("exitCode").asInt(), run.out());
        assertTrue(doc.get("error").get("message").asText().contains("PARTIAL restore"), run.out());
        assertFalse(doc.has("restored"), "no 'restored' field for a failed restore: " + run.out());
        assertTrue(tables(target) > 0, "half-way: the table went in before the failure");
    }
}
