import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Faults while a backup runs, injected between backup.java and the real S3 emulator by a {@link FaultProxy}:
 * connections reset mid-upload, stalls, S3 throttling and errors for a while and for good, answers lost after
 * S3 acted, the backup process killed with SIGKILL at two points, and two backups of one database in the same
 * second. After each: either a complete backup whose manifest matches the stored bytes (and which `restore
 * verify` accepts), or a non-zero exit with one clear line, no dump object visible as a backup, no multipart
 * upload left in progress (or prune reaps it), and the earlier backup untouched.
 */
@ExtendWith(FaultLedger.class) // each test: one fault; tests run concurrently (mostly waiting for retry back-offs), the class alone
class FaultBackupTest {
    static PgServer pg;
    static S3Server s3;
    static String db;
    static final String NAME = "app";

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("faults_backup");
        // About 7 MB uncompressed: two 5 MiB parts with --compress 0, so an upload can be cut between and inside parts.
        pg.sql(db, "create table items (id int primary key, payload text);"
                + " insert into items select g, repeat(md5(g::text), 22) from generate_series(1, 10000) g;"
                + " create table notes (id int, note text); insert into notes select g, 'note ' || g from generate_series(1, 500) g; analyze;");
    }

    @AfterAll
    static void tearDown() { pg.dropDatabase(db); }

    // ---- helpers --------------------------------------------------------------------------------------------

    /** A bucket holding one earlier backup of NAME (an hour ago), which no fault may touch. */
    static String bucketWithEarlierBackup(String label) {
        String bucket = s3.createBucket(label);
        TestBackups.create(pg, bucket, "pg-backups", NAME, db, Instant.now().minus(Duration.ofHours(1)));
        return bucket;
    }

    static List<String> backupArgs(String endpoint, String bucket, String... more) {
        List<String> a = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(db), "--name", NAME, "--compress", "0", "--part-size", "5MiB"));
        a.addAll(List.of(more));
        return a;
    }

    static Scripts.Run backup(String endpoint, String bucket, String... more) {
        return Scripts.run(new Backup(), backupArgs(endpoint, bucket, more).toArray(String[]::new));
    }

    /** The run succeeded and left exactly one new complete backup: manifest, size and SHA-256 agree, restore verify accepts it. */
    static void assertOneNewValidBackup(Scripts.Run run, String bucket, BucketState before) {
        assertEquals(0, run.exit(), run.toString());
        BucketState after = BucketState.of(bucket);
        after.assertKeeps(before);
        List<String> added = new ArrayList<>(after.keys());
        added.removeAll(before.keys());
        assertEquals(2, added.size(), "one dump and one manifest: " + added);
        assertEquals(List.of(), after.uploads(), "no upload in progress");
        String dumpKey = added.stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow();
        Manifest m = Manifest.parse(new String(TestBackups.getObject(bucket, dumpKey.replace(".dump", ".manifest.json")), StandardCharsets.UTF_8), "m");
        byte[] dump = TestBackups.getObject(bucket, dumpKey);
        assertEquals(dump.length, m.sizeBytes());
        assertEquals(TestBackups.sha256(dump), m.sha256());
        Scripts.Run verify = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--key", dumpKey);
        assertEquals(0, verify.exit(), verify.toString());
        BucketState.assertEveryBackupCompleteOrIncomplete(bucket, "pg-backups");
    }

    /** A clean failure: the exit code, the error as one line naming {@code fragment}, and the bucket exactly as before. */
    static void assertCleanFailure(Scripts.Run run, int exit, String fragment, String bucket, BucketState before) {
        assertEquals(exit, run.exit(), run.toString());
        List<String> errors = run.err().lines().filter(l -> l.startsWith("backup: error: ")).toList();
        assertEquals(1, errors.size(), "one error line:\n" + run.err());
        assertTrue(errors.get(0).contains(fragment), "expected '" + fragment + "' in: " + errors.get(0));
        BucketState.of(bucket).assertUnchangedSince(before);
    }

    // ---- the network to S3 ----------------------------------------------------------------------------------

    /** Connections reset while parts are being sent (and once before the upload even starts): retried, and the backup is whole. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void connectionsResetMidUploadAreRetried() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-reset");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var create = proxy.resetBeforeForward("create upload reset", r -> r.isCreateUpload() && r.key().endsWith(".dump"), 1);
            var parts = proxy.resetInRequestBody("part cut after 1 MB", FaultProxy.Request::isUploadPart, 3, 1 << 20);
            Scripts.Run run = backup(proxy.endpoint(), bucket);
            assertOneNewValidBackup(run, bucket, before);
            assertEquals(1, create.applied(), proxy.log().toString());
            assertEquals(3, parts.applied(), proxy.log().toString());
        }
    }

    /** S3 stalls for a few seconds before answering parts and the manifest: slow is not failed. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void stalledUploadCarriesOn() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-stall");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var stall = proxy.stall("part stalled 3 s", FaultProxy.Request::isUploadPart, 2, Duration.ofSeconds(3));
            var manifest = proxy.stall("manifest stalled 2 s", FaultProxy.Request::isManifestPut, 1, Duration.ofSeconds(2));
            Scripts.Run run = backup(proxy.endpoint(), bucket);
            assertOneNewValidBackup(run, bucket, before);
            assertEquals(2, stall.applied());
            assertEquals(1, manifest.applied());
        }
    }

    /**
     * S3 slower than pg_dump: with every buffer in flight the reader waits, which holds pg_dump back on its pipe
     * (bounded memory), and the --json result says how long, so an operator can tell a slow S3 from a slow dump.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void slowS3HoldsTheDumpBackAndTheResultSaysHowLong() throws Exception {
        String big = pg.createDatabase("faults_backup_slow");
        try {
            // About 22 MB uncompressed: 5 parts of 5 MiB, more than the 3 buffers, so stalled parts must hold the reader up.
            pg.sql(big, "create table items (id int primary key, payload text);"
                    + " insert into items select g, repeat(md5(g::text), 22) from generate_series(1, 32000) g;");
            String bucket = s3.createBucket("fault-slow");
            try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
                var stall = proxy.stall("first 2 parts stalled 3 s", FaultProxy.Request::isUploadPart, 2, Duration.ofSeconds(3));
                Scripts.Run run = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                        "--database-url", pg.url(big), "--name", NAME, "--compress", "0", "--part-size", "5MiB", "--json");
                assertEquals(0, run.exit(), run.toString());
                assertEquals(2, stall.applied());
                JsonNode result = Json.MAPPER.readTree(run.out()).get("backups").get(0);
                assertTrue(result.get("sizeBytes").asLong() > 4 * 5 * 1024 * 1024, "more parts than buffers: " + result);
                double waited = result.get("secondsWaitingForS3").asDouble();
                // Both uploaders sit in a 3 s stall while the third buffer fills: the fourth part waits most of those 3 s.
                assertTrue(waited >= 1.5 && waited <= result.get("durationSeconds").asDouble(), "waited for S3: " + result);
            }
        } finally {
            pg.dropDatabase(big);
        }
    }

    /** SlowDown and InternalError for a while, on every step of the upload: retried, then a complete valid backup. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void throttlingAndErrorsForAWhileAreRetried() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-throttle");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            List<FaultProxy.Rule> rules = List.of(
                    proxy.internalError("preflight 500", r -> r.isCreateUpload() && r.key().endsWith(".backup-preflight"), 1),
                    proxy.slowDown("parts SlowDown", FaultProxy.Request::isUploadPart, 2),
                    proxy.error("complete 503", FaultProxy.Request::isCompleteUpload, 1, 503, "ServiceUnavailable", "Please reduce your request rate."),
                    proxy.internalError("manifest 500", FaultProxy.Request::isManifestPut, 1));
            Scripts.Run run = backup(proxy.endpoint(), bucket);
            assertOneNewValidBackup(run, bucket, before);
            for (FaultProxy.Rule r : rules) assertTrue(r.applied() > 0, r + "\n" + proxy.log());
        }
    }

    /**
     * S3 completes the upload and stores the manifest, but both answers are lost on the way back: the SDK sends
     * them again. The repeated requests must be recognised as this run's own, not as somebody else's backup.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void answersLostAfterS3ActedAreNotFailures() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-lost");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var complete = proxy.resetAfterForward("complete answered into the void", FaultProxy.Request::isCompleteUpload, 1);
            var manifest = proxy.resetAfterForward("manifest answered into the void", FaultProxy.Request::isManifestPut, 1);
            Scripts.Run run = backup(proxy.endpoint(), bucket);
            assertOneNewValidBackup(run, bucket, before);
            assertEquals(1, complete.applied());
            assertEquals(1, manifest.applied());
        }
    }

    /** Every part upload is reset, for good: exit 69 after the retries, the upload aborted, nothing new in the bucket. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void networkFailingForGoodFailsCleanly() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-netdown");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetInRequestBody("every part cut", FaultProxy.Request::isUploadPart, -1, 256 << 10);
            Scripts.Run run = backup(proxy.endpoint(), bucket);
            assertCleanFailure(run, Exit.UNAVAILABLE, "upload to s3://" + bucket + "/pg-backups/app/app_", bucket, before);
        }
    }

    /** S3 answers 500 to every part, for good: exit 69, the upload aborted, nothing new in the bucket. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void s3ErrorsForGoodFailCleanly() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-500");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("every part 500", FaultProxy.Request::isUploadPart, -1);
            Scripts.Run run = backup(proxy.endpoint(), bucket, "--json");
            assertCleanFailure(run, Exit.UNAVAILABLE, "InternalError", bucket, before);
            JsonNode json = Json.MAPPER.readTree(run.out());
            assertFalse(json.get("ok").asBoolean());
            assertTrue(json.get("backups").get(0).get("manifestKey").isNull());
        }
    }

    /**
     * S3 goes away for good mid-upload, the abort included: the run fails (69), says the upload could not be
     * aborted, and leaves no object. The upload left in progress is what prune reaps (--grace 0s here); the
     * earlier backup survives both.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void s3GoneForGoodLeavesOnlyAnUploadThatPruneReaps() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-gone");
        BucketState before = BucketState.of(bucket);
        Scripts.Run run;
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("every part 500", FaultProxy.Request::isUploadPart, -1);
            proxy.internalError("abort 500", r -> r.isAbortUpload() && r.key().endsWith(".dump"), -1);
            run = backup(proxy.endpoint(), bucket);
        }
        assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        assertTrue(run.err().contains("could not abort multipart upload") && run.err().contains("removed by the bucket's lifecycle rule or by prune"), run.err());
        BucketState after = BucketState.of(bucket);
        assertEquals(before.objects(), after.objects(), "no object");
        assertEquals(1, after.uploads().size(), "the upload that could not be aborted: " + after.uploads());

        Thread.sleep(1100); // --grace 0s counts the key's time too (one-second resolution)
        Scripts.Run prune = Scripts.run(PruneTest.withoutGraceFloor(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--keep-last", "1", "--grace", "0s");
        assertEquals(0, prune.exit(), prune.toString());
        BucketState.of(bucket).assertUnchangedSince(before);
    }

    /**
     * S3 refuses to abort, for good, from the very first request: the preflight's probe upload cannot be aborted.
     * The run fails before any dump (69), says what it left, and prune reaps that upload like any of ours.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void abortRefusedAtThePreflightLeavesOnlyAnUploadThatPruneReaps() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-noabort");
        BucketState before = BucketState.of(bucket);
        Scripts.Run run;
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("every abort 500", FaultProxy.Request::isAbortUpload, -1);
            run = backup(proxy.endpoint(), bucket);
            assertTrue(proxy.log().stream().noneMatch(l -> l.contains(".dump")), "no dump started: " + proxy.log());
        }
        assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().contains("could not be aborted") && run.err().contains("prune"), run.err());
        BucketState after = BucketState.of(bucket);
        assertEquals(before.objects(), after.objects());
        assertEquals(1, after.uploads().size(), after.uploads().toString());

        Scripts.Run prune = Scripts.run(PruneTest.withoutGraceFloor(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--keep-last", "1", "--grace", "0s");
        assertEquals(0, prune.exit(), prune.toString());
        BucketState.of(bucket).assertUnchangedSince(before);
    }

    // ---- the backup process killed ---------------------------------------------------------------------------

    /**
     * SIGKILL (no shutdown hook runs) at two points: while a part is being sent, and while the manifest is being
     * written. Afterwards restore ignores what they left (an upload in progress, a dump without manifest) and
     * picks the earlier backup; prune with --grace 0s reaps both leftovers and keeps the earlier backup.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void sigkillMidUploadAndBeforeTheManifestLeavesNothingPruneCannotReap() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-kill");
        BucketState before = BucketState.of(bucket);
        killDuring(bucket, "part", FaultProxy.Request::isUploadPart);
        Thread.sleep(1100); // the second run starts in another second: another key
        killDuring(bucket, "manifest", FaultProxy.Request::isManifestPut);

        BucketState left = BucketState.of(bucket);
        left.assertKeeps(before);
        assertEquals(1, left.uploads().size(), "the first run's upload: " + left.uploads());
        List<String> added = new ArrayList<>(left.keys());
        added.removeAll(before.keys());
        assertEquals(1, added.size(), "the second run's dump, without manifest: " + added);
        assertTrue(added.get(0).endsWith(".dump"), added.toString());

        // restore skips both: the latest complete backup is the earlier one.
        String earlier = before.keys().stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow();
        Scripts.Run verify = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION, "--json");
        assertEquals(0, verify.exit(), verify.toString());
        assertTrue(verify.out().contains(earlier), verify.out());

        Thread.sleep(1100); // --grace 0s removes what started before this second (times have one-second resolution)
        Scripts.Run prune = Scripts.run(PruneTest.withoutGraceFloor(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--keep-last", "1", "--grace", "0s", "--json");
        assertEquals(0, prune.exit(), prune.toString());
        JsonNode doc = Json.MAPPER.readTree(prune.out());
        assertEquals(1, doc.get("uploadsAborted").size(), prune.out());
        assertEquals(1, doc.get("names").get(0).get("incompleteRemoved").size(), prune.out());
        BucketState.of(bucket).assertUnchangedSince(before);
    }

    /** Runs a backup in a child JVM through a proxy that holds the first matching request, and SIGKILLs it there. */
    static void killDuring(String bucket, String what, java.util.function.Predicate<FaultProxy.Request> at) throws Exception {
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var hold = proxy.hold("hold the " + what, at, 1);
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("AWS_ENDPOINT_URL", proxy.endpoint());
            List<String> args = backupArgs(proxy.endpoint(), bucket);
            Process child = Scripts.start("Backup", env, args);
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            Thread t1 = new Thread(() -> { try { child.getInputStream().transferTo(out); } catch (java.io.IOException ignored) { } });
            Thread t2 = new Thread(() -> { try { child.getErrorStream().transferTo(err); } catch (java.io.IOException ignored) { } });
            t1.start();
            t2.start();
            try {
                hold.awaitHit(Duration.ofSeconds(90));
            } catch (AssertionError e) {
                child.destroyForcibly();
                throw new AssertionError(e.getMessage() + "\n" + err, e);
            }
            List<ProcessHandle> children = child.toHandle().descendants().toList();
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no abort
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue());
            for (ProcessHandle c : children) c.onExit().get(30, TimeUnit.SECONDS); // pg_dump does not outlive its parent
            t1.join();
            t2.join();
            Output.record(out.toString(), err.toString());
        }
    }

    // ---- backup and prune at once -----------------------------------------------------------------------------

    /**
     * The race of issue 15: the dump is deleted between CompleteMultipartUpload and the manifest. prune can no longer do
     * it (a --grace below 12 h is refused; a dump younger than --grace by its key's time or S3's stays), so the test
     * deletes it itself, as a prune with a short grace once did, while the manifest PUT is held at the proxy. backup then
     * fails non-zero, saying the manifest describes a backup without its dump; that phantom is not complete, so the next
     * prune --keep-last 1 keeps the earlier backup, and restore verify picks and passes it.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aDumpDeletedBeforeItsManifestFailsTheBackupAndCostsNothing() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-race");
        BucketState before = BucketState.of(bucket);
        String earlier = before.keys().stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow();
        List<String> storage = List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
        Scripts.Run run;
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var held = proxy.hold("manifest held", FaultProxy.Request::isManifestPut, 1);
            CompletableFuture<Scripts.Run> running = CompletableFuture.supplyAsync(() -> backup(proxy.endpoint(), bucket));
            held.awaitHit(Duration.ofSeconds(120));
            Thread.sleep(1100); // the new dump's key is now in a past second
            List<String> pruneArgs = new ArrayList<>(storage);
            pruneArgs.addAll(List.of("--keep-last", "1", "--grace", "0s"));
            Scripts.Run shortGrace = Scripts.run(new Prune(), pruneArgs.toArray(String[]::new));
            assertEquals(Exit.USAGE, shortGrace.exit(), "a grace that lets prune take a dump in flight is refused: " + shortGrace);
            List<String> longGrace = new ArrayList<>(storage);
            longGrace.addAll(List.of("--keep-last", "1", "--grace", "12h"));
            Scripts.Run prune = Scripts.run(new Prune(), longGrace.toArray(String[]::new));
            assertEquals(0, prune.exit(), prune.toString());
            BucketState during = BucketState.of(bucket);
            during.assertKeeps(before);
            String fresh = during.keys().stream().filter(k -> k.endsWith(".dump") && !k.equals(earlier)).findFirst()
                    .orElseThrow(() -> new AssertionError("prune took the dump of the backup in flight: " + during.keys()));
            TestBackups.deleteObject(bucket, fresh); // what a prune with a short grace did
            held.release();
            run = running.get(120, TimeUnit.SECONDS);
        }
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        List<String> errors = run.err().lines().filter(l -> l.startsWith("backup: error: ")).toList();
        assertEquals(1, errors.size(), run.err());
        assertTrue(errors.get(0).contains("vanished") && errors.get(0).contains("not complete"), errors.get(0));

        List<String> pruneArgs = new ArrayList<>(storage);
        pruneArgs.addAll(List.of("--keep-last", "1"));
        Scripts.Run prune = Scripts.run(new Prune(), pruneArgs.toArray(String[]::new));
        assertEquals(0, prune.exit(), prune.toString());
        BucketState.of(bucket).assertKeeps(before);
        Scripts.Run verify = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
        assertEquals(0, verify.exit(), verify.toString());
        assertTrue(verify.err().contains(earlier.substring(earlier.lastIndexOf('/') + 1, earlier.length() - ".dump".length())), verify.err());
    }

    /**
     * An older writer role that may neither read dumps (HeadObject) nor list keys: backup cannot confirm its dump after
     * the manifest, says so in a warning, and the backup stands (exit 0, complete).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRoleThatCannotConfirmTheDumpGetsAWarningNotAFailure() throws Exception {
        String bucket = bucketWithEarlierBackup("fault-noconfirm");
        BucketState before = BucketState.of(bucket);
        Scripts.Run run;
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var head = proxy.error("HeadObject of a dump denied", r -> r.method().equals("HEAD") && r.key().endsWith(".dump"), -1,
                    403, "AccessDenied", "Access Denied");
            var list = proxy.error("listing denied", r -> r.method().equals("GET") && r.has("list-type"), -1, 403, "AccessDenied", "Access Denied");
            run = backup(proxy.endpoint(), bucket);
            assertTrue(head.applied() >= 2 && list.applied() >= 1, "the size check and the confirmation asked: " + proxy.log());
        }
        assertOneNewValidBackup(run, bucket, before);
        assertTrue(run.err().contains("warning: could not confirm that the dump is still there after the manifest was written"), run.err());
    }

    // ---- two backups at once ---------------------------------------------------------------------------------

    /**
     * Two backups of the same database under the same name, started in the same second, so with the same keys
     * (the layout has one-second resolution). They write different bytes (one compressed, one not). Exactly one
     * may become the backup; the other must fail without replacing its dump or manifest, so that the manifest
     * always describes the stored dump. The slower run's CompleteMultipartUpload is held at the proxy until the
     * faster run has finished: S3 decides conditional writes atomically, moto does not (two completes in flight
     * at once can both pass its check), so the test does not let them overlap.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void twoBackupsInTheSameSecondNeverMixTheirObjects() throws Exception {
        for (int attempt = 1; ; attempt++) {
            String bucket = s3.createBucket("fault-twins");
            try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
                var held = proxy.hold("second complete held", FaultProxy.Request::isCompleteUpload, 1);
                // Start just after a second begins: both runs pick their key well within the same second.
                Thread.sleep((1000 - System.currentTimeMillis() % 1000 + 20) % 1000);
                CompletableFuture<Scripts.Run> late = CompletableFuture.supplyAsync(() -> backup(proxy.endpoint(), bucket, "--json"));
                CompletableFuture<Scripts.Run> first = CompletableFuture.supplyAsync(() -> Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url",
                        s3.endpoint, "--region", S3Server.REGION, "--database-url", pg.url(db), "--name", NAME, "--compress", "9", "--json"));
                Scripts.Run a = first.get(120, TimeUnit.SECONDS);
                held.awaitHit(Duration.ofSeconds(60));
                held.release();
                Scripts.Run b = late.get(120, TimeUnit.SECONDS);
                BucketState state = BucketState.of(bucket);
                long dumps = state.keys().stream().filter(k -> k.endsWith(".dump")).count();
                if (dumps == 2 && attempt < 5) {
                    // They straddled a second: two keys, nothing collided. Both must be fine; try again.
                    assertEquals(0, a.exit(), a.toString());
                    assertEquals(0, b.exit(), b.toString());
                    continue;
                }
                assertEquals(1, dumps, "same second, same key: " + state.keys());
                assertEquals(List.of(), state.uploads());
                assertEquals(0, a.exit(), "the first to complete is the backup:\n" + a);
                assertEquals(Exit.FAILED, b.exit(), "the second must not replace it:\n" + b);
                assertTrue(b.err().contains("already exists") && b.err().contains("same second"), b.err());
                // The manifest in the bucket is the first run's, and it describes the stored dump exactly.
                JsonNode won = Json.MAPPER.readTree(a.out()).get("backups").get(0);
                String dumpKey = won.get("dumpKey").asText();
                Manifest m = Manifest.parse(new String(TestBackups.getObject(bucket, won.get("manifestKey").asText()), StandardCharsets.UTF_8), "m");
                assertEquals("gzip:9", m.compression());
                assertEquals(won.get("sha256").asText(), m.sha256());
                assertEquals(m.sha256(), TestBackups.sha256(TestBackups.getObject(bucket, dumpKey)));
                JsonNode lost = Json.MAPPER.readTree(b.out()).get("backups").get(0);
                assertEquals("failed", lost.get("status").asText());
                assertNull(lost.get("sha256").textValue());
                Scripts.Run verify = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
                assertEquals(0, verify.exit(), verify.toString());
                return;
            }
        }
    }
}
