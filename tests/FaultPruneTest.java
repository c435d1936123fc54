import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Faults while prune deletes: S3 failing for good between its delete requests (after the manifests, after the
 * verify records), throttling, an answer lost after S3 deleted, and a listing that fails. Every state left
 * behind is complete or recognisably incomplete (never a manifest without its dump), what is kept is never
 * touched, foreign objects survive, and a rerun finishes the job.
 */
@ExtendWith(FaultLedger.class) // each test: one fault; tests run concurrently (mostly waiting for retry back-offs), the class alone
class FaultPruneTest {
    static S3Server s3;
    static final String PREFIX = "pg-backups";
    static final Instant BASE = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(1));
    static final String FOREIGN = PREFIX + "/app/notes-from-the-dba.txt";

    @BeforeAll
    static void setUp() { s3 = S3Server.get(); }

    /** Backups as backup.java leaves them (valid manifests over small fake dumps), newest first in the returned list. */
    record Fixture(String bucket, List<BackupKey> backups, BackupKey incomplete) {
        List<String> keysOf(int... indexes) {
            List<String> keys = new ArrayList<>();
            for (int i : indexes) keys.addAll(List.of(backups.get(i).dumpKey(), backups.get(i).manifestKey(), backups.get(i).verifyKey()));
            return keys;
        }
    }

    static Fixture fixture(String label) {
        String bucket = s3.createBucket(label);
        List<BackupKey> keys = new ArrayList<>();
        for (int d = 0; d < 6; d++) {
            BackupKey key = new BackupKey(PREFIX, "app", BASE.minus(Duration.ofDays(d)));
            byte[] dump = ("PGDMP fake dump " + d).getBytes(StandardCharsets.UTF_8);
            TestBackups.putObject(bucket, key.dumpKey(), dump);
            Manifest m = new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, "app", "app", "db.example.com", key.dumpKey(),
                    key.startedAt().toString(), key.startedAt().plusSeconds(9).toString(), dump.length, TestBackups.sha256(dump), "15.8", "15.8",
                    "custom", "gzip:6", null, 3, List.of(), List.of());
            TestBackups.putManifest(bucket, key, m);
            TestBackups.putObject(bucket, key.verifyKey(), "{\"outcome\":\"passed\"}".getBytes(StandardCharsets.UTF_8));
            keys.add(key);
        }
        BackupKey incomplete = new BackupKey(PREFIX, "app", BASE.minus(Duration.ofDays(9)));
        TestBackups.putObject(bucket, incomplete.dumpKey(), "PGDMP an old failed backup".getBytes(StandardCharsets.UTF_8));
        TestBackups.putObject(bucket, FOREIGN, "not ours".getBytes(StandardCharsets.UTF_8));
        try {
            Thread.sleep(1100); // --grace 0s counts S3's LastModified too (one-second resolution): the incomplete dump is now older
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return new Fixture(bucket, keys, incomplete);
    }

    static Scripts.Run prune(String endpoint, String bucket, String... more) {
        List<String> a = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION,
                "--keep-last", "2", "--grace", "0s"));
        a.addAll(List.of(more));
        return Scripts.run(PruneTest.withoutGraceFloor(), a.toArray(String[]::new));
    }

    /** The state prune must end in: the two newest backups, whole, and the foreign object. */
    static void assertFinished(Fixture f) {
        List<String> expected = new ArrayList<>(f.keysOf(0, 1));
        expected.add(FOREIGN);
        expected.sort(null);
        assertEquals(expected, BucketState.of(f.bucket()).keys());
        BucketState.assertEveryBackupCompleteOrIncomplete(f.bucket(), PREFIX);
    }

    /** What a failed run may leave: the kept backups and the foreign object untouched, every backup complete or incomplete. */
    static void assertSafeIntermediate(Fixture f, BucketState before) {
        BucketState now = BucketState.of(f.bucket());
        for (String k : f.keysOf(0, 1)) assertEquals(before.objects().get(k), now.objects().get(k), "a kept object changed: " + k);
        assertEquals(before.objects().get(FOREIGN), now.objects().get(FOREIGN));
        BucketState.assertEveryBackupCompleteOrIncomplete(f.bucket(), PREFIX);
    }

    /**
     * S3 fails for good after the first delete request (the manifests): those backups are now incomplete, their
     * dumps and verify records still there; prune exits 69 naming what stopped it. The rerun removes the rest.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void s3FailingAfterTheManifestsLeavesIncompleteBackupsTheRerunRemoves() throws Exception {
        Fixture f = fixture("fault-prune-1");
        BucketState before = BucketState.of(f.bucket());
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("S3 fails after the first delete", r -> r.isDeleteObjects() && proxy.log().stream().anyMatch(l -> l.contains("?delete")
                    && l.endsWith("-> pass")), -1);
            Scripts.Run run = prune(proxy.endpoint(), f.bucket(), "--json");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertTrue(run.err().contains("prune: error: ") && run.err().contains("could not be deleted"), run.err());
            JsonNode deleted = Json.MAPPER.readTree(run.out()).get("names").get(0).get("deleted");
            assertEquals(4, deleted.size());
            for (JsonNode d : deleted) assertEquals("failed", d.get("outcome").asText(), d.toString());
        }
        assertSafeIntermediate(f, before);
        for (int i = 2; i < 6; i++) {
            BucketState now = BucketState.of(f.bucket());
            assertTrue(!now.objects().containsKey(f.backups().get(i).manifestKey()) && now.objects().containsKey(f.backups().get(i).dumpKey()),
                    "manifest gone, dump still there (incomplete): " + f.backups().get(i).base());
        }
        Scripts.Run rerun = prune(s3.endpoint, f.bucket());
        assertEquals(0, rerun.exit(), rerun.toString());
        assertFinished(f);
    }

    /** The network fails for good after two delete requests (manifests, verify records): the same guarantees. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void networkFailingAfterTheVerifyRecordsLeavesIncompleteBackupsTheRerunRemoves() throws Exception {
        Fixture f = fixture("fault-prune-2");
        BucketState before = BucketState.of(f.bucket());
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.resetBeforeForward("network gone after two deletes", r -> r.isDeleteObjects()
                    && proxy.log().stream().filter(l -> l.contains("?delete") && l.endsWith("-> pass")).count() >= 2, -1);
            Scripts.Run run = prune(proxy.endpoint(), f.bucket());
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        }
        assertSafeIntermediate(f, before);
        BucketState now = BucketState.of(f.bucket());
        for (int i = 2; i < 6; i++) {
            assertTrue(now.objects().containsKey(f.backups().get(i).dumpKey()) && !now.objects().containsKey(f.backups().get(i).verifyKey()),
                    "only the dump is left: " + now.keys());
        }
        Scripts.Run rerun = prune(s3.endpoint, f.bucket());
        assertEquals(0, rerun.exit(), rerun.toString());
        assertFinished(f);
    }

    /** Throttled listing and deletes, and the answer to a delete lost after S3 acted: retried, and the job is done. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void throttlingAndLostAnswersAreRetried() throws Exception {
        Fixture f = fixture("fault-prune-3");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var list = proxy.slowDown("listing SlowDown", r -> r.method().equals("GET") && r.has("list-type"), 1);
            var slow = proxy.slowDown("delete SlowDown", FaultProxy.Request::isDeleteObjects, 2);
            var lost = proxy.resetAfterForward("delete answered into the void", FaultProxy.Request::isDeleteObjects, 1);
            Scripts.Run run = prune(proxy.endpoint(), f.bucket());
            assertEquals(0, run.exit(), run.toString());
            assertEquals(1, list.applied());
            assertEquals(2, slow.applied());
            assertEquals(1, lost.applied());
        }
        assertFinished(f);
    }

    /** The listing fails for good: exit 69 and nothing is deleted. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void listingFailingForGoodDeletesNothing() throws Exception {
        Fixture f = fixture("fault-prune-4");
        BucketState before = BucketState.of(f.bucket());
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("listing 500", r -> r.method().equals("GET") && r.has("list-type"), -1);
            Scripts.Run run = prune(proxy.endpoint(), f.bucket());
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertEquals(1, run.err().strip().lines().count(), run.err());
        }
        BucketState.of(f.bucket()).assertUnchangedSince(before);
    }
}
