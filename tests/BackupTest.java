import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * backup.java against a real PostgreSQL and the real S3 emulator: the round trip through plain pg_restore,
 * the manifest, a fleet with one bad database, and each configuration error as one line with its exit code
 * and nothing left in the bucket.
 */
class BackupTest {
    static PgServer pg;
    static S3Server s3;
    static String sample;
    static final List<String> dropLater = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        sample = SampleDatabase.create(pg, "backup_src");
        dropLater.add(sample);
    }

    @AfterAll
    static void tearDown() {
        for (String db : dropLater) pg.dropDatabase(db);
    }

    /** Storage options pointing at the emulator. */
    static List<String> storage(String bucket) {
        return List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
    }

    static String[] args(String bucket, String... more) {
        List<String> all = new ArrayList<>(storage(bucket));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static byte[] download(String bucket, String key) {
        try (S3Client c = s3.s3()) {
            return c.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        }
    }

    static S3Object object(String bucket, String key) {
        try (S3Client c = s3.s3()) {
            return c.listObjectsV2(b -> b.bucket(bucket).prefix(key)).contents().stream().filter(o -> o.key().equals(key)).findFirst().orElseThrow();
        }
    }

    /** Multipart uploads still in progress in the bucket: must be none after any run. */
    static List<String> uploadsInProgress(String bucket) {
        try (S3Client c = s3.s3()) {
            return c.listMultipartUploads(b -> b.bucket(bucket)).uploads().stream().map(u -> u.key()).toList();
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static List<String> tocList(Path dumpFile) {
        PgTools.Result r = PgTools.run(List.of(pg.tool("pg_restore").path().toString(), "--list", dumpFile.toString()), Map.of(), null, 60);
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith(";")).toList();
    }

    @Test
    void roundTripThroughPlainPgRestore() throws Exception {
        String bucket = s3.createBucket("roundtrip");
        // Query parameters (as in Neon's URLs) pass through to libpq unchanged.
        String url = pg.url(sample) + "?sslmode=prefer&application_name=pgdump-s3-test";
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", url, "--json"));
        assertEquals(0, run.exit(), run.toString());

        List<String> keys = s3.keys(bucket);
        assertEquals(2, keys.size(), keys.toString());
        String dumpKey = keys.stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow();
        String manifestKey = keys.stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow();
        String name = BackupKey.sanitizeName(sample);
        assertTrue(dumpKey.matches("pg-backups/" + name + "/" + name + "_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.dump"), dumpKey);
        assertEquals(dumpKey.replace(".dump", ".manifest.json"), manifestKey);
        assertEquals(List.of(), uploadsInProgress(bucket));

        // The stored bytes are what the manifest says, and the manifest was written after the dump object.
        byte[] dump = download(bucket, dumpKey);
        Manifest m = Manifest.parse(new String(download(bucket, manifestKey), java.nio.charset.StandardCharsets.UTF_8), manifestKey);
        assertEquals(dump.length, m.sizeBytes());
        assertEquals(sha256(dump), m.sha256());
        assertFalse(object(bucket, manifestKey).lastModified().isBefore(object(bucket, dumpKey).lastModified()));

        assertEquals(1, m.formatVersion());
        assertEquals(Version.TOOL, m.tool());
        assertEquals(name, m.name());
        assertEquals(sample, m.database());
        assertEquals("127.0.0.1:" + pg.port, m.host());
        assertEquals(dumpKey, m.dumpKey());
        assertEquals("custom", m.format());
        assertEquals("gzip:6", m.compression()); // the default of pg_dump 15, the suite's client
        assertNull(m.encryption());
        assertEquals(pg.tool("pg_dump").version(), m.pgDumpVersion());
        assertTrue(m.serverVersion().startsWith(String.valueOf(pg.serverMajor())), m.serverVersion());
        assertEquals(List.of(), m.pgDumpArgs());
        assertTrue(m.startedAt().compareTo(m.finishedAt()) <= 0, m.startedAt() + " " + m.finishedAt());
        assertTrue(dumpKey.contains(BackupKey.STAMP.format(java.time.Instant.parse(m.startedAt()))), m.startedAt());
        var orders = m.tables().stream().filter(t -> t.schema().equals("sales") && t.table().equals("orders")).findFirst().orElseThrow();
        assertEquals(20000, orders.rowEstimate()); // analysed by the sample script
        assertTrue(m.tables().stream().anyMatch(t -> t.table().equals("Täbelle ✓")), m.tables().toString());

        // Restore with plain pg_restore into a new database: same schema, same data.
        Path file = Files.createTempFile("roundtrip", ".dump");
        String target = pg.createDatabase("backup_dst");
        dropLater.add(target);
        try {
            Files.write(file, dump);
            assertEquals(tocList(file).size(), m.tocEntries());
            SampleDatabase.pgRestore(pg, file, target);
        } finally {
            Files.deleteIfExists(file);
        }
        assertEquals(SampleDatabase.fingerprints(pg, sample), SampleDatabase.fingerprints(pg, target));
        assertEquals(SampleDatabase.schema(pg, sample), SampleDatabase.schema(pg, target));

        // --json: one document on stdout, agreeing with the manifest.
        JsonNode json = Json.MAPPER.readTree(run.out());
        assertTrue(json.get("ok").asBoolean());
        JsonNode b = json.get("backups").get(0);
        assertEquals("ok", b.get("status").asText());
        assertEquals(dumpKey, b.get("dumpKey").asText());
        assertEquals(m.sha256(), b.get("sha256").asText());
        assertEquals(m.sizeBytes(), b.get("sizeBytes").asLong());
        assertFalse(run.out().contains(pg.password) || run.err().contains(pg.password) || run.out().contains(ConnInfo.encode(pg.password)));
    }
}
