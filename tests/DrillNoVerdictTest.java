import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A FAILED drill record means the backup's data is damaged, and nothing else: a fault of S3 or the network, a dump
 * that vanished after it was listed, a backup that prune deleted while the drill ran are no verdict, write no record
 * (a good backup's "passed" record stands; a deleted backup gets no orphan record), and exit 69 or 1.
 */
class DrillNoVerdictTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static final Instant T1 = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = pg.createDatabase("drill_noverdict");
        pg.sql(source, "create table items (id int primary key, body text); insert into items select g, md5(g::text) from generate_series(1, 5000) g; analyze;");
    }

    @AfterAll
    static void stop() { pg.dropDatabase(source); }

    static Scripts.Run drill(String endpoint, String bucket) {
        return Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION,
                "--target-url", pg.url("postgres"));
    }

    static String recordOf(String bucket, TestBackups.Made made) {
        return new String(TestBackups.getObject(bucket, made.key().verifyKey()), StandardCharsets.UTF_8);
    }

    /** Every GET of the dump answers a well-formed but short 200 (Content-Length 1000): S3 lists the whole object. */
    @Test
    void aShortResponseIsNoVerdictAndTheLastRecordStands() throws Exception {
        String bucket = s3.createBucket("drill-short");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        assertEquals(0, drill(s3.endpoint, bucket).exit());
        String passed = recordOf(bucket, made);
        assertTrue(passed.contains("\"passed\""), passed);

        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.shortResponse("short 200", FaultProxy.Request::isDumpGet, -1, 1000);
            Scripts.Run run = drill(proxy.endpoint(), bucket);
            assertEquals(Exit.UNAVAILABLE, run.exit(), run + "\n" + proxy.log());
            assertTrue(run.err().contains("S3 or the network failed, not the backup") && run.err().contains("nothing recorded"), run.err());
            assertFalse(run.err().contains("FAILED"), run.err());
        }
        assertEquals(passed, recordOf(bucket, made), "no FAILED record for a good backup");
    }

    /** prune deletes the backup (manifest first, then the dump) after the drill listed it, before it downloads the dump. */
    @Test
    void aDumpThatVanishedAfterListingIsNoVerdictAndGetsNoRecord() throws Exception {
        String bucket = s3.createBucket("drill-vanished");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            FaultProxy.Rule held = proxy.hold("hold the dump's GET", FaultProxy.Request::isDumpGet, 1);
            CompletableFuture<Scripts.Run> drill = CompletableFuture.supplyAsync(() -> drill(proxy.endpoint(), bucket));
            held.awaitHit(Duration.ofSeconds(120));
            TestBackups.deleteObject(bucket, made.manifestKey());
            TestBackups.deleteObject(bucket, made.dumpKey());
            held.release();
            Scripts.Run run = drill.get(300, TimeUnit.SECONDS);
            assertEquals(Exit.FAILED, run.exit(), run.toString());
            assertTrue(run.err().contains("vanished after it was listed") && run.err().contains("nothing recorded"), run.err());
        }
        assertEquals(List.of(), s3.keys(bucket), "no record left behind for a backup that no longer exists");
    }

    /** prune deletes the backup's manifest while the drill restores it: the drill passes, but there is nothing left to vouch for. */
    @Test
    void aBackupDeletedWhileTheDrillRanGetsNoRecord() throws Exception {
        String bucket = s3.createBucket("drill-deleted");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            FaultProxy.Rule held = proxy.hold("hold the dump's GET", FaultProxy.Request::isDumpGet, 1);
            CompletableFuture<Scripts.Run> drill = CompletableFuture.supplyAsync(() -> drill(proxy.endpoint(), bucket));
            held.awaitHit(Duration.ofSeconds(120));
            TestBackups.deleteObject(bucket, made.manifestKey()); // prune's first step; the dump goes later
            held.release();
            Scripts.Run run = drill.get(300, TimeUnit.SECONDS);
            assertEquals(Exit.FAILED, run.exit(), run.toString());
            assertTrue(run.err().contains("was deleted while the drill ran") && run.err().contains("nothing recorded"), run.err());
        }
        assertEquals(new ArrayList<>(List.of(made.dumpKey())), s3.keys(bucket), "no record next to a deleted backup");
    }

    /** The stored dump itself is shorter than its manifest says: that is damage, and the FAILED record says so. */
    @Test
    void aStoredDumpOfTheWrongSizeIsDamageAndRecorded() {
        String bucket = s3.createBucket("drill-truncated");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        TestBackups.putObject(bucket, made.dumpKey(), java.util.Arrays.copyOf(made.dump(), made.dump().length / 2));
        Scripts.Run run = drill(s3.endpoint, bucket);
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        VerifyRecord record = VerifyRecord.parse(recordOf(bucket, made), "test");
        assertEquals(VerifyRecord.FAILED, record.outcome());
        assertTrue(record.reasons().get(0).contains("bytes") && record.reasons().get(0).contains("damaged"), record.reasons().toString());
    }
}
