import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * backup --parallel auto (issue 21): one custom-format stream below --parallel-above, the directory format above it
 * (restorable), and one stream with the reason whenever the directory format could not be honoured, so that choosing
 * it never fails a backup one stream would have made.
 */
class ParallelChoiceTest {
    static PgServer pg;
    static S3Server s3;
    static String source;

    @BeforeAll
    static void sample() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = SampleDatabase.create(pg, "choice_src"); // ~8 MB on disk: below the default threshold, above 1 MiB
    }

    @AfterAll
    static void drop() { pg.dropDatabase(source); }

    static Scripts.Run backup(String url, String bucket, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--database-url", url, "--name", "db", "--bucket", bucket, "--endpoint-url", s3.endpoint,
                "--region", S3Server.REGION, "--spool", Files.createTempDirectory("spool").toString()));
        args.addAll(List.of(extra));
        return Scripts.run(new Backup(), args.toArray(String[]::new));
    }

    static JsonNode manifest(String bucket) throws Exception {
        List<String> keys = s3.keys(bucket);
        String key = keys.stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow(() -> new AssertionError(keys.toString()));
        return Json.MAPPER.readTree(s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String());
    }

    @Test
    void belowTheThresholdTheDefaultStaysOneStream() throws Exception {
        String bucket = s3.createBucket("choice-small");
        Scripts.Run run = backup(pg.url(source), bucket);
        assertEquals(0, run.exit(), run.toString());
        assertEquals(1, manifest(bucket).get("formatVersion").asInt());
        assertFalse(run.err().contains("-Fd"), run.err());
        assertFalse(run.err().contains("not --parallel"), run.err()); // a small database is not told about --parallel
    }

    @Test
    void aboveTheThresholdTheDirectoryFormatIsChosenAndRestores() throws Exception {
        String bucket = s3.createBucket("choice-big");
        Scripts.Run run = backup(pg.url(source), bucket, "--parallel-above", "1MB");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("-Fd -j 2 (--parallel chosen by size)") && run.err().contains("above --parallel-above 1.0 MiB"), run.err());
        JsonNode m = manifest(bucket);
        assertEquals(2, m.get("formatVersion").asInt());
        assertEquals("directory", m.get("format").asText());
        String target = "choice_restored_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), "--target-url", pg.url(target), "--create", "--jobs", "2", "--name", "db",
                    "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
            assertEquals(0, restore.exit(), restore.toString());
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
        }

        // --parallel 1 keeps one stream whatever the size (BACKUP_PARALLEL=1 alike).
        String bucket1 = s3.createBucket("choice-forced-one");
        Scripts.Run one = backup(pg.url(source), bucket1, "--parallel-above", "1MB", "--parallel", "1");
        assertEquals(0, one.exit(), one.toString());
        assertEquals(1, manifest(bucket1).get("formatVersion").asInt());
        assertFalse(one.err().contains("-Fd"), one.err());
    }

    /** A role allowed 3 connections: pg_dump -j 2 would need 4 with the lock watch, so auto keeps one stream, saying why. */
    @Test
    void tooFewConnectionsFallBackToOneStreamWithTheReason() throws Exception {
        String role = "choice_limited_" + System.nanoTime() % 100000;
        pg.sql("postgres", "create role " + role + " login superuser connection limit 3 password 'pw-choice'");
        try {
            String url = "postgresql://" + role + ":pw-choice@" + pg.url(source).substring(pg.url(source).lastIndexOf('@') + 1);
            String bucket = s3.createBucket("choice-budget");
            Scripts.Run run = backup(url, bucket, "--parallel-above", "1MB");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(1, manifest(bucket).get("formatVersion").asInt());
            assertTrue(run.err().contains("one stream (custom format), not --parallel") && run.err().contains("CONNECTION LIMIT 3"), run.err());
        } finally {
            pg.sql("postgres", "drop role " + role);
        }
    }

    /** The spool, the pooler and /proc each keep one stream; databases dumped at once share the spool and the connections. */
    @Test
    void theSpoolPoolerAndConcurrencyDecide() {
        List<UserTables.Table> tables = List.of(new UserTables.Table("s", "a", "r", 1, 300L << 20), new UserTables.Table("s", "b", "r", 1, 200L << 20));
        ConnectionBudget.Free plenty = new ConnectionBudget.Free(100, "max_connections");
        List<String> notes = new ArrayList<>();
        long big = 10L << 30;
        long above = 1L << 30;
        int cores = ParallelChoice.autoWorkers(Runtime.getRuntime().availableProcessors());
        // Room for the largest tables (300 + 200 MiB + headroom, or + the next ones with more cores): the directory format.
        assertEquals(cores, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(big, 1, false, plenty, tables, 2L << 30), notes::add));
        // 500 MiB free cannot hold 564 MiB: one stream, naming the spool.
        notes.clear();
        assertEquals(0, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(big, 1, false, plenty, tables, 500L << 20), notes::add));
        assertTrue(notes.get(0).contains("the spool /spool has 500.0 MiB free"), notes.toString());
        // Two databases at once need room for both.
        notes.clear();
        assertEquals(0, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(big, 2, false, plenty, tables, 1L << 30), notes::add));
        assertTrue(notes.get(0).contains("2 at once"), notes.toString());
        // A pooler: one stream, and the budget is not even asked.
        notes.clear();
        assertEquals(0, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(big, 1, true, null, tables, 2L << 30), notes::add));
        assertTrue(notes.get(0).contains("pooler"), notes.toString());
        // 9 free connections for 2 databases: 4 each, less the leader and the lock watch, leaves 2 workers.
        notes.clear();
        assertEquals(2, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(big, 2, false, new ConnectionBudget.Free(9, "max_connections"), tables,
                4L << 30), notes::add));
        // Below the threshold nothing is asked and nothing said; forced values are taken as given.
        notes.clear();
        assertEquals(0, ParallelChoice.choose(ParallelChoice.AUTO, above, facts(above - 1, 1, true, null, null, 0), notes::add));
        assertEquals(List.of(), notes);
        assertEquals(3, ParallelChoice.choose(3, Long.MAX_VALUE, facts(1, 1, false, null, null, 0), notes::add));
        assertEquals(0, ParallelChoice.choose(1, 0, facts(big, 1, false, plenty, tables, 2L << 30), notes::add));
    }

    @Test
    void optionValues() {
        assertEquals(ParallelChoice.AUTO, ParallelChoice.parse("auto"));
        assertEquals(0, ParallelChoice.parse("0"));
        assertEquals(4, ParallelChoice.parse("4"));
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ParallelChoice.parse("-2")).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ParallelChoice.parse("many")).exitCode);
        assertEquals(1L << 20, ParallelChoice.parseAbove("1MB"));
        assertEquals(10L << 30, ParallelChoice.parseAbove("10GiB"));
        assertEquals(500L << 20, ParallelChoice.parseAbove("500m"));
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ParallelChoice.parseAbove("big")).exitCode);
        assertEquals(2, ParallelChoice.autoWorkers(1));
        assertEquals(4, ParallelChoice.autoWorkers(16));
    }

    private static ParallelChoice.Facts facts(long bytes, int concurrent, boolean pooled, ConnectionBudget.Free free, List<UserTables.Table> tables, long usable) {
        return new ParallelChoice.Facts(bytes, concurrent, pooled, true, () -> {
            if (free == null) throw new AssertionError("the budget was asked");
            return free;
        }, Path.of("/spool"), tables, () -> usable);
    }
}
