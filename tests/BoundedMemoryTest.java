import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Memory that a bucket's content or a fleet's size must not blow up (issue 15): a manifest far larger than any we
 * write is refused without being read (a 200 MB one took `restore list` to ~1 GB and `verify --json` to an
 * OutOfMemoryError), and a small dump costs a small part buffer, not three of the part size (a fleet of 40 small
 * databases with --jobs 8 peaked at 467 MB).
 */
class BoundedMemoryTest {
    static PgServer pg;
    static S3Server s3;
    static String db;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("bounded_memory");
        pg.sql(db, "create table t (id int primary key, note text); insert into t select g, 'note ' || g from generate_series(1, 1000) g; analyze;");
    }

    @AfterAll
    static void tearDown() { pg.dropDatabase(db); }

    static Scripts.Run restore(String bucket, String command, String... more) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(command, "--bucket", bucket, "--endpoint-url", s3.endpoint,
                "--region", S3Server.REGION));
        args.addAll(java.util.List.of(more));
        return Scripts.run(new Restore(), args.toArray(String[]::new));
    }

    /** A valid-JSON manifest of 12 MiB, over the 8 MiB cap (padded with a field readers ignore; under Jackson's 20M-character string limit, which the record with two constructors now meets while parsing): verify refuses it (65), list says why, neither reads it. */
    @Test
    void aManifestLargerThanAnyWeWriteIsRefused() throws Exception {
        String bucket = s3.createBucket("memory-manifest");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", db, Instant.parse("2026-11-20T02:00:00Z"));
        String json = made.manifest().toJson();
        String padded = json.substring(0, json.lastIndexOf('}')) + ",\"padding\":\"" + "x".repeat(12 << 20) + "\"}";
        Manifest.parse(padded, "test"); // still a valid manifest: only its size is wrong
        TestBackups.putObject(bucket, made.manifestKey(), padded.getBytes(StandardCharsets.UTF_8));

        Scripts.Run verify = restore(bucket, "verify", "--json");
        assertEquals(Exit.DATA_INVALID, verify.exit(), verify.toString());
        assertTrue(verify.err().contains("manifest " + made.manifestKey() + " is too large (more than 8 MiB)"), verify.err());

        Scripts.Run list = restore(bucket, "list", "--json");
        assertEquals(0, list.exit(), list.toString());
        JsonNode row = Json.MAPPER.readTree(list.out()).get("backups").get(0);
        assertTrue(row.get("problem").asText().contains("too large"), list.out());
    }

    /**
     * A 450 KB dump, with the default 8 MiB parts: the reader allocates one buffer that grew to fit it (512 KiB), not
     * an 8 MiB one (three per database before, whatever the dump's size). Measured as the bytes the pumping thread
     * allocated; the stored object is exactly the input.
     */
    @Test
    void aSmallDumpCostsASmallPartBuffer() throws Exception {
        String bucket = s3.createBucket("memory-parts");
        byte[] data = new byte[450_000];
        new Random(15).nextBytes(data);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        try (S3Client client = s3.s3()) {
            MultipartStreamUpload upload = MultipartStreamUpload.create(client, bucket, "pg-backups/small/small_2026-11-20T02-00-00Z.dump",
                    PartPlan.of(null, data.length), s3.options().store()); // a small database's plan: 8 MiB parts
            long before = threads.getThreadAllocatedBytes(me);
            long bytes = upload.pump(new ByteArrayInputStream(data), (buf, off, len) -> { });
            long allocated = threads.getThreadAllocatedBytes(me) - before;
            upload.complete(bytes);
            assertEquals(data.length, bytes);
            assertTrue(allocated < (2 << 20), "the pump allocated " + allocated + " bytes for a 450 KB dump");
        }
        assertArrayEquals(data, TestBackups.getObject(bucket, "pg-backups/small/small_2026-11-20T02-00-00Z.dump"));
    }
}
