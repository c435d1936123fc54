import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product's promise end to end, with nothing but its own scripts: backup.java writes a backup, restore.java
 * verifies, drills and restores it, and the restored database equals the source (schema-only dump and per-table
 * checksums), with pg_restore run sequentially and with --jobs 2; prune then keeps the drilled backup.
 */
class BackupRestoreRoundTripTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static String bucket;

    @BeforeAll
    static void backUpTheSample() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = SampleDatabase.create(pg, "roundtrip_src");
        bucket = s3.createBucket("roundtrip");
        Scripts.Run run = Scripts.run(new Backup(), storage("--database-url", pg.url(source) + "?sslmode=disable&application_name=roundtrip", "--name", "shop"));
        assertEquals(0, run.exit(), run.toString());
    }

    @AfterAll
    static void dropSource() { pg.dropDatabase(source); }

    static String[] storage(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    static String[] restoreArgs(String first, String... rest) {
        List<String> all = new java.util.ArrayList<>();
        if (first != null) all.add(first);
        all.addAll(List.of(storage(rest)));
        return all.toArray(String[]::new);
    }

    @Test
    void restoreGivesAnEqualDatabase() {
        for (String jobs : List.of("1", "2")) {
            String target = "roundtrip_dst_j" + jobs + "_" + System.nanoTime();
            try {
                Scripts.Run run = Scripts.run(new Restore(), storage("--target-url", pg.url(target), "--create", "--jobs", jobs));
                assertEquals(0, run.exit(), "--jobs " + jobs + ": " + run);
                assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target), "--jobs " + jobs);
                assertEquals(SampleDatabase.schema(pg, source), SampleDatabase.schema(pg, target), "--jobs " + jobs);
            } finally {
                pg.dropDatabase(target);
            }
        }
    }

    @Test
    void verifyDrillAndPruneAgreeOnTheBackup() throws Exception {
        Scripts.Run verify = Scripts.run(new Restore(), restoreArgs("verify", "--name", "shop"));
        assertEquals(0, verify.exit(), verify.toString());

        Scripts.Run drill = Scripts.run(new Restore(), restoreArgs("drill", "--name", "shop", "--target-url", pg.url("postgres")));
        assertEquals(0, drill.exit(), drill.toString());
        List<String> keys = s3.keys(bucket);
        String verifyKey = keys.stream().filter(k -> k.endsWith(".verify.json")).findFirst().orElseThrow(() -> new AssertionError(keys.toString()));
        String record = s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(verifyKey)).asUtf8String();
        assertEquals("passed", Json.MAPPER.readTree(record).get("outcome").asText(), record);

        Scripts.Run list = Scripts.run(new Restore(), restoreArgs("list", "--json"));
        assertEquals(0, list.exit(), list.toString());
        JsonNode listed = Json.MAPPER.readTree(list.out());
        assertTrue(listed.toString().contains("shop"), listed.toString());

        // The drilled backup is the one --require-verified trusts: pruning keeps it.
        Scripts.Run prune = Scripts.run(new Prune(), storage("--keep-days", "0", "--require-verified"));
        assertEquals(0, prune.exit(), prune.toString());
        assertEquals(keys, s3.keys(bucket));
    }
}
