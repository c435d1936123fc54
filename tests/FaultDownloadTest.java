import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Transport versus data when restore downloads a dump (issue 15): a well-formed but short answer to a GET (fewer
 * bytes than the manifest says) is a fault on the way, retried before any verdict; when it persists it is "S3 or the
 * network is failing" (69), and a dump deleted after it was listed "vanished" (1), never "the dump is damaged" (65),
 * so a drill writes no FAILED record for a good backup. Only S3's own word on the stored object gives 65. And the
 * call timeouts of lib/AwsClients never cut a download's body, which may take hours.
 */
@ExtendWith(FaultLedger.class)
class FaultDownloadTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static final List<String> databases = new ArrayList<>();
    static final Instant AT = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = TestBackups.payloadDatabase(pg, "fault_download_src", ""); // ~1 MB compressed: a GET can be cut short well inside it
        databases.add(source);
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    /** A bucket of its own with one good backup of the source (tests delete and drill in theirs). */
    static TestBackups.Made backupIn(String label, String[] bucketOut) {
        bucketOut[0] = s3.createBucket(label);
        return TestBackups.create(pg, bucketOut[0], "pg-backups", "app", source, AT);
    }

    static Scripts.Run restore(String endpoint, String bucket, String... args) {
        List<String> all = new ArrayList<>();
        boolean sub = args.length > 0 && !args[0].startsWith("-");
        if (sub) all.add(args[0]);
        all.addAll(List.of("--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args).subList(sub ? 1 : 0, args.length));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static String newName(String prefix) {
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        databases.add(name);
        return name;
    }

    static boolean isDump(FaultProxy.Request r) { return r.isDumpGet(); }

    // ---- short answers ---------------------------------------------------------------------------------------

    /** One GET of the dump answered with a well-formed 200 of 1,000 bytes: retried, and the restore completes. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aShortAnswerIsRetriedAndTheRestoreCompletes() throws Exception {
        String[] bucket = new String[1];
        backupIn("dl-short-once", bucket);
        String target = newName("dl_short");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var shortOnce = proxy.shortResponse("one short 200", FaultDownloadTest::isDump, 1, 1000);
            Scripts.Run run = restore(proxy.endpoint(), bucket[0], "--target-url", pg.url(target), "--create");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(1, shortOnce.applied(), proxy.log().toString());
            assertTrue(run.err().contains("S3 answered 1000 bytes where"), run.err());
        }
        assertEquals(pg.sql(source, "select count(*), sum(hashtext(payload)) from aa_data"), pg.sql(target, "select count(*), sum(hashtext(payload)) from aa_data"));
    }

    /** The drill of a good backup through one short answer passes, and records "passed" (before: a FAILED record, 65). */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aDrillThroughAShortAnswerPasses() throws Exception {
        String[] bucket = new String[1];
        TestBackups.Made made = backupIn("dl-short-drill", bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.shortResponse("one short 200", FaultDownloadTest::isDump, 1, 1000);
            Scripts.Run run = restore(proxy.endpoint(), bucket[0], "drill", "--scratch-url", pg.url("postgres"));
            assertEquals(0, run.exit(), run.toString());
        }
        VerifyRecord record = VerifyRecord.parse(new String(TestBackups.getObject(bucket[0], made.key().verifyKey()), StandardCharsets.UTF_8), "test");
        assertEquals(VerifyRecord.PASSED, record.outcome(), record.reasons().toString());
    }

    /** Every GET short, for good: 69 "S3 or the network is failing" for verify and restore, and a drill records nothing. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void shortAnswersForGoodAreUnavailableNotDamage() throws Exception {
        String[] bucket = new String[1];
        TestBackups.Made made = backupIn("dl-short-always", bucket);
        BucketState before = BucketState.of(bucket[0]);
        String target = newName("dl_short_always");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.shortResponse("every answer short", FaultDownloadTest::isDump, -1, 1000);
            Scripts.Run verify = restore(proxy.endpoint(), bucket[0], "verify");
            assertEquals(Exit.UNAVAILABLE, verify.exit(), verify.toString());
            assertTrue(verify.err().contains("S3 or the network failed, not the backup") && !verify.err().contains("damaged"), verify.err());

            Scripts.Run run = restore(proxy.endpoint(), bucket[0], "--target-url", pg.url(target), "--create");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertFalse(pg.sql("postgres", "select count(*) from pg_database where datname = '" + target + "'").equals("1"), "nothing created");

            Scripts.Run drill = restore(proxy.endpoint(), bucket[0], "drill", "--scratch-url", pg.url("postgres"));
            assertEquals(Exit.UNAVAILABLE, drill.exit(), drill.toString());
        }
        assertFalse(s3.keys(bucket[0]).contains(made.key().verifyKey()), "no verdict recorded for a fault of the network");
        BucketState.of(bucket[0]).assertUnchangedSince(before);
    }

    /** The dump deleted between the listing and its download (prune at work): "vanished", exit 1, and no drill record. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aDumpThatVanishesAfterTheListingIsNoVerdict() throws Exception {
        for (String command : List.of("verify", "drill")) {
            String[] bucket = new String[1];
            TestBackups.Made made = backupIn("dl-vanish-" + command, bucket);
            Scripts.Run run;
            try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
                var hold = proxy.hold("hold the dump's GET", FaultDownloadTest::isDump, 1);
                var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> command.equals("drill")
                        ? restore(proxy.endpoint(), bucket[0], "drill", "--scratch-url", pg.url("postgres"))
                        : restore(proxy.endpoint(), bucket[0], "verify"));
                hold.awaitHit(Duration.ofSeconds(60));
                TestBackups.deleteObject(bucket[0], made.dumpKey());
                hold.release();
                run = running.get(5, TimeUnit.MINUTES);
            }
            assertEquals(Exit.FAILED, run.exit(), command + ": " + run);
            assertTrue(run.err().contains("vanished after it was listed (deleted by prune?)"), run.err());
            assertFalse(s3.keys(bucket[0]).contains(made.key().verifyKey()), "no verdict recorded for a deleted backup");
        }
    }

    // ---- Download itself ---------------------------------------------------------------------------------------

    /**
     * The classification, straight on Download.fetch: a GET short for good is 69 after the retries; a stored object
     * that really has another size (S3's HEAD says so too) is 65 at once, without retries.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void onlyTheStoredObjectGivesAVerdict() throws Exception {
        String[] bucket = new String[1];
        TestBackups.Made made = backupIn("dl-classify", bucket);
        long size = made.dump().length;
        StringWriter log = new StringWriter();
        PrintWriter err = new PrintWriter(log, true);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint); S3Client client = AwsClients.s3(options(proxy.endpoint()))) {
            proxy.shortResponse("every answer short", FaultDownloadTest::isDump, -1, 1000);
            Failure f = assertThrows(Failure.class, () -> VerifiedDownload.fetch(client, bucket[0], made.dumpKey(), size,
                    new ByteArrayOutputStream(), new Progress("t", err, size), err));
            assertEquals(Exit.UNAVAILABLE, f.exitCode, f.getMessage());
        }
        // The stored object one byte shorter than the manifest says: S3 itself says so, that is the verdict.
        byte[] cut = java.util.Arrays.copyOf(made.dump(), made.dump().length - 1);
        TestBackups.putObject(bucket[0], made.dumpKey(), cut);
        StringWriter log2 = new StringWriter();
        PrintWriter err2 = new PrintWriter(log2, true);
        try (S3Client client = s3.s3()) {
            Failure f = assertThrows(Failure.class, () -> VerifiedDownload.fetch(client, bucket[0], made.dumpKey(), size,
                    new ByteArrayOutputStream(), new Progress("t", err2, size), err2));
            assertEquals(Exit.DATA_INVALID, f.exitCode, f.getMessage());
            assertTrue(f.getMessage().contains("has " + cut.length + " bytes, the manifest says " + size), f.getMessage());
            assertFalse(log2.toString().contains("resuming"), "no retry when S3 states the stored size: " + log2);
        }
    }

    static AwsOptions options(String endpoint) {
        AwsOptions o = new AwsOptions();
        o.endpointUrl = endpoint;
        o.region = S3Server.REGION;
        return o;
    }

    // ---- timeouts ----------------------------------------------------------------------------------------------

    /**
     * The call timeouts (here shortened to 18 s by the test knob) bound the request, not the download's body: a body
     * that pauses for 24 s, longer than the call timeout (less than the 120 s socket read timeout), is read to its end
     * without a retry.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void theCallTimeoutDoesNotCutALongDownload() throws Exception {
        String[] bucket = new String[1];
        backupIn("dl-long", bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var pause = proxy.stallInResponse("body paused 24 s", FaultDownloadTest::isDump, 1, 100 << 10, Duration.ofSeconds(24));
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("AWS_ENDPOINT_URL", proxy.endpoint());
            env.put("S3_BUCKET", bucket[0]);
            env.put("PGDUMP_S3_TEST_TIMEOUT_SCALE", "0.1");
            Scripts.Run run = Scripts.runProcess("Restore", env, "verify");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(1, pause.applied());
            assertFalse(run.err().contains("resuming"), run.err());
        }
    }
}
