import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * restore verify reads the data, not only the table of contents: a pg_dump output cut at 55 % (whose TOC is whole)
 * and 26 bytes of garbage fail it with 65, and the rows each table's data holds must match the manifest's archiveRows.
 */
class VerifyDataTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static final Instant T1 = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = pg.createDatabase("verify_data");
        pg.sql(source, "create schema \"Sch ema\"; create table \"Sch ema\".\"Täbelle ✓\" (id int, t text);"
                + " insert into \"Sch ema\".\"Täbelle ✓\" select g, E'line\\nbreak\\\\.' from generate_series(1, 1200) g;"
                + " create table big (id int, m text); insert into big select g, md5(g::text) from generate_series(1, 60000) g;"
                + " create table empty_cols (); insert into empty_cols default values; insert into empty_cols default values; analyze;");
    }

    @AfterAll
    static void stop() { pg.dropDatabase(source); }

    static Scripts.Run verify(String bucket, String... args) {
        List<String> all = new ArrayList<>(List.of("verify", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    /** Uploads {@code bytes} as a backup whose manifest describes exactly these bytes (size, SHA-256, and the TOC when readable). */
    static TestBackups.Made put(String bucket, byte[] bytes, Integer tocEntries, List<Manifest.TableStat> tables) {
        BackupKey key = new BackupKey("pg-backups", "app", T1);
        Manifest m = TestBackups.manifest(pg, source, key, TestBackups.dump(pg, source));
        Manifest describing = new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(), m.dumpKey(),
                m.startedAt(), m.finishedAt(), bytes.length, TestBackups.sha256(bytes), m.pgDumpVersion(), m.serverVersion(), m.format(),
                m.compression(), m.encryption(), tocEntries, tables, m.pgDumpArgs());
        TestBackups.putObject(bucket, key.dumpKey(), bytes);
        TestBackups.putManifest(bucket, key, describing);
        return new TestBackups.Made(key, describing, bytes);
    }

    @Test
    void aDumpCutAt55PercentFailsVerify() throws Exception {
        byte[] whole = TestBackups.dump(pg, source);
        byte[] cut = Arrays.copyOf(whole, whole.length * 55 / 100);
        String bucket = s3.createBucket("verify-cut");
        put(bucket, cut, TestBackups.tocEntries(pg, cut), null);
        Scripts.Run run = verify(bucket);
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("the archive's data cannot be read") && run.err().contains("end of file"), run.err());

        Path kept = Files.createTempDirectory("verify-cut").resolve("kept.dump");
        run = verify(bucket, "--output", kept.toString());
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertFalse(Files.exists(kept), "a dump that fails the check is not kept");
    }

    @Test
    void twentySixBytesOfGarbageFailVerify() {
        String bucket = s3.createBucket("verify-garbage");
        put(bucket, "PGDMP this is not a dump!!".getBytes(StandardCharsets.US_ASCII), null, null);
        Scripts.Run run = verify(bucket);
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("pg_restore cannot read the archive"), run.err());
    }

    @Test
    void rowsPerTableMustMatchTheManifestsArchiveCounts() throws Exception {
        byte[] dump = TestBackups.dump(pg, source);
        Map<String, Long> actual = Map.of("Täbelle ✓", 1200L, "big", 60000L, "empty_cols", 2L);
        String bucket = s3.createBucket("verify-rows");
        put(bucket, dump, TestBackups.tocEntries(pg, dump), archiveRows(actual));
        Scripts.Run run = verify(bucket, "--json");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("every data block (61202 rows in 3 tables; the rows of 3 tables match the manifest's)"), run.err());
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals(61202, doc.get("rows").asLong());
        assertEquals(3, doc.get("tablesCompared").asInt());

        Path kept = Files.createTempDirectory("verify-rows").resolve("kept.dump");
        run = verify(bucket, "--output", kept.toString());
        assertEquals(0, run.exit(), "the same from a kept file: " + run);
        assertTrue(run.err().contains("61202 rows in 3 tables"), run.err());

        // The manifest says the archive holds one row more than it does.
        put(bucket, dump, TestBackups.tocEntries(pg, dump), archiveRows(Map.of("Täbelle ✓", 1201L, "big", 60000L, "empty_cols", 2L)));
        run = verify(bucket);
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("\"Sch ema\".\"Täbelle ✓\": the archive holds 1200 rows, the manifest recorded 1201"), run.err());

        // A manifest without archive counts (older backups): read to the end, nothing to compare, and it says so.
        put(bucket, dump, TestBackups.tocEntries(pg, dump), null);
        run = verify(bucket);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("the manifest has no per-table archive counts to compare"), run.err());
    }

    static List<Manifest.TableStat> archiveRows(Map<String, Long> rows) {
        List<Manifest.TableStat> out = new ArrayList<>();
        for (var e : rows.entrySet()) {
            String schema = e.getKey().equals("Täbelle ✓") ? "Sch ema" : "public";
            out.add(new Manifest.TableStat(schema, e.getKey(), -1, null, e.getValue()));
        }
        return out;
    }

    /** The counter verify shares with backup, fed a real archive in odd pieces as a pipe delivers it; and the same archive cut short. */
    @Test
    void archiveRowsCountsEachTablesDataAndNoticesACut() throws Exception {
        byte[] dump = TestBackups.dump(pg, source);
        ArchiveRows rows = ArchiveRows.start(pg.tool("pg_restore"), List.of());
        for (int i = 0; i < dump.length; i += 7) rows.feed(dump, i, Math.min(7, dump.length - i));
        ArchiveRows.Result result = rows.finish();
        assertTrue(result.readable() && result.counted(), result.toString());
        assertEquals(Map.of(List.of("Sch ema", "Täbelle ✓"), 1200L, List.of("public", "big"), 60000L, List.of("public", "empty_cols"), 2L), result.rows());

        ArchiveRows cut = ArchiveRows.start(pg.tool("pg_restore"), List.of());
        cut.feed(dump, 0, dump.length * 55 / 100);
        assertFalse(cut.finish().readable(), "a cut archive is not readable to its end");
    }
}
