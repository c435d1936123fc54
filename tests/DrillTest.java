import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** restore drill: a backup restored into a throwaway database and compared with its manifest, the verdict recorded next to it. */
class DrillTest {
    static PgServer pg;
    static S3Server s3;
    static String sample;
    static final Instant T1 = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
        sample = SampleDatabase.create(pg, "drill_sample");
    }

    @AfterAll
    static void cleanUp() {
        pg.dropDatabase(sample);
        assertFalse(Output.all().contains(PgServer.PASSWORD), "the database password appeared in some script output");
    }

    static Scripts.Run drill(String bucket, String... args) {
        List<String> all = new ArrayList<>(List.of("drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--target-url", pg.url("postgres")));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static Scripts.Run list(String bucket, String... args) {
        List<String> all = new ArrayList<>(List.of("list", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static VerifyRecord record(String bucket, TestBackups.Made made) {
        return VerifyRecord.parse(new String(TestBackups.getObject(bucket, made.key().verifyKey()), StandardCharsets.UTF_8), "test");
    }

    static String scratchDatabasesLeft() {
        return pg.sql("postgres", "select count(*) from pg_database where datname like 'pgdump\\_s3\\_drill\\_%'");
    }

    @Test
    void aGoodBackupPassesAndTheRecordSaysSo() throws Exception {
        String bucket = s3.createBucket("drill-pass");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "sample", sample, T1);

        Scripts.Run run = drill(bucket, "--no-record");
        assertEquals(0, run.exit(), run.toString());
        assertFalse(s3.keys(bucket).contains(made.key().verifyKey()), "--no-record writes nothing");

        run = drill(bucket, "--json");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("PASSED"), run.err());
        assertEquals("0", scratchDatabasesLeft(), "the scratch database is dropped");

        VerifyRecord record = record(bucket, made);
        assertEquals(VerifyRecord.PASSED, record.outcome());
        assertTrue(record.vouchesFor(made.manifest()));
        assertEquals(List.of(), record.reasons());
        assertEquals(made.manifest().tocEntries(), record.tocEntriesFound());
        assertEquals(made.manifest().tables().size(), record.tables().size());
        assertTrue(record.tables().stream().allMatch(t -> t.verdict().equals("ok")), record.tables().toString());
        assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("Täbelle ✓") && t.restoredRows() == 500), record.tables().toString());
        assertTrue(record.durationsSeconds().containsKey("restore") && record.pgRestoreVersion() != null && record.toolVersion() != null);
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals("passed", doc.get("outcome").asText());
        assertEquals(made.key().verifyKey(), doc.get("recordKey").asText());

        run = list(bucket);
        assertTrue(run.out().lines().toList().get(1).contains("passed"), run.out());
        doc = Json.MAPPER.readTree(list(bucket, "--json").out());
        assertTrue(doc.get("backups").get(0).get("verified").asBoolean());
    }

    @Test
    void aManifestClaimingMoreThanTheDumpHoldsFailsTheDrill() throws Exception {
        String bucket = s3.createBucket("drill-fail");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "sample", sample, T1);
        List<Manifest.TableStat> claimed = new ArrayList<>();
        for (Manifest.TableStat t : made.manifest().tables()) {
            claimed.add(t.table().equals("orders") ? new Manifest.TableStat(t.schema(), t.table(), 50_000, null) : t);
        }
        claimed.add(new Manifest.TableStat("public", "ghost", 5_000, null));
        Manifest lying = TestBackups.withTables(made.manifest(), claimed);
        TestBackups.putManifest(bucket, made.key(), lying);

        Scripts.Run run = drill(bucket);
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("FAILED"), run.err());
        assertEquals("0", scratchDatabasesLeft(), "the scratch database is dropped after a failed drill too");

        VerifyRecord record = record(bucket, made);
        assertEquals(VerifyRecord.FAILED, record.outcome());
        assertFalse(record.vouchesFor(lying), "a failed drill vouches for nothing");
        assertEquals(2, record.reasons().size(), record.reasons().toString());
        assertTrue(record.reasons().stream().anyMatch(r -> r.contains("\"public\".\"ghost\"") && r.contains("not in the restored database")), record.reasons().toString());
        assertTrue(record.reasons().stream().anyMatch(r -> r.contains("\"sales\".\"orders\"") && r.contains("20000 rows restored") && r.contains("50000")),
                record.reasons().toString());

        run = list(bucket);
        assertTrue(run.out().lines().toList().get(1).contains("FAILED"), run.out());
        JsonNode doc = Json.MAPPER.readTree(list(bucket, "--json").out());
        assertFalse(doc.get("backups").get(0).get("verified").asBoolean());
        assertEquals("failed", doc.get("backups").get(0).get("drill").get("outcome").asText());
    }

    /** The manifest with exact counts per table (as backup records them: rowCount and/or archiveRows), from {@code counts}. */
    static Manifest withCounts(Manifest m, java.util.Map<String, Long> counts, boolean rowCount, boolean archiveRows) {
        List<Manifest.TableStat> tables = new ArrayList<>();
        for (Manifest.TableStat t : m.tables()) {
            Long n = counts.get(t.table());
            tables.add(new Manifest.TableStat(t.schema(), t.table(), t.rowEstimate(), rowCount ? n : null, archiveRows ? n : null));
        }
        return TestBackups.withTables(m, tables);
    }

    /** Exact row counts of the user tables of {@code db}, by table name, as backup counts them: own rows (FROM ONLY). */
    static java.util.Map<String, Long> exactCounts(String db) {
        java.util.Map<String, Long> counts = new java.util.TreeMap<>();
        for (String table : pg.sql(db, "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                + " where c.relkind in ('r', 'p') and n.nspname = 'public'").lines().toList()) {
            counts.put(table, Long.parseLong(pg.sql(db, "select count(*) from only \"" + table + "\"")));
        }
        return counts;
    }

    /**
     * One row missing from a table fails the drill when the manifest has exact counts: whether the backup counted rows in
     * the database (rowCount) or in the archive (archiveRows). The estimate (±20 % or ±1000 rows) would have let it pass.
     */
    @Test
    void aTableRestoredWithOneRowMissingFailsTheDrill() throws Exception {
        String db = pg.createDatabase("drill_exact");
        try {
            pg.sql(db, "create table accounts (id int primary key, name text); insert into accounts select g, 'a' || g from generate_series(1, 900) g;"
                    + " create table audit (id int); insert into audit select generate_series(1, 40);"
                    + " create table events (id int) partition by range (id); create table events_1 partition of events for values from (0) to (1000);"
                    + " create table events_2 partition of events for values from (1000) to (2000); insert into events select generate_series(1, 1500);"
                    + " create table base (id int); create table derived (extra text) inherits (base);"
                    + " insert into base select generate_series(1, 70); insert into derived select g, 'x' from generate_series(1, 30) g; analyze;");
            java.util.Map<String, Long> before = exactCounts(db);
            assertEquals(70L, before.get("base"), "a table's rows are its own, not its children's");
            assertEquals(0L, before.get("events"), "a partitioned table has no rows of its own: its partitions have them");
            assertEquals(1500L, before.get("events_1") + before.get("events_2"));

            // All there: passes, every table compared exactly.
            String good = s3.createBucket("drill-exact-good");
            TestBackups.Made made = TestBackups.create(pg, good, "pg-backups", "exact", db, T1);
            TestBackups.putManifest(good, made.key(), withCounts(made.manifest(), before, true, true));
            Scripts.Run run = drill(good);
            assertEquals(0, run.exit(), run.toString());
            int tables = made.manifest().tables().size();
            assertTrue(run.err().contains("tables: " + tables + " tables exact;"), run.err());
            VerifyRecord record = record(good, made);
            assertEquals(new VerifyRecord.Coverage(tables, 0, 0, 0), record.coverage());
            assertTrue(record.tables().stream().allMatch(t -> t.exact() && t.verdict().equals("ok")), record.tables().toString());

            // The dump holds one row fewer than the backup counted.
            pg.sql(db, "delete from accounts where id = 417");
            for (boolean byArchive : new boolean[] {false, true}) {
                String bucket = s3.createBucket("drill-exact-missing");
                TestBackups.Made short1 = TestBackups.create(pg, bucket, "pg-backups", "exact", db, T1);
                TestBackups.putManifest(bucket, short1.key(), withCounts(short1.manifest(), before, !byArchive, byArchive));
                run = drill(bucket);
                assertEquals(Exit.DATA_INVALID, run.exit(), (byArchive ? "archiveRows: " : "rowCount: ") + run);
                record = record(bucket, short1);
                assertEquals(VerifyRecord.FAILED, record.outcome());
                assertEquals(1, record.reasons().size(), record.reasons().toString());
                assertTrue(record.reasons().get(0).contains("\"public\".\"accounts\": 899 rows restored") && record.reasons().get(0).contains("(1 missing)")
                        && record.reasons().get(0).contains(byArchive ? "the archive holds 900" : "the backup counted 900"), record.reasons().toString());
                assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("accounts") && t.verdict().equals("rows differ") && t.restoredRows() == 899
                        && t.exact()), record.tables().toString());

                // The same backup with estimates only passes: 899 is within ±1000 of 900. That is what the verdict must say.
                TestBackups.putManifest(bucket, short1.key(), short1.manifest());
                run = drill(bucket);
                assertEquals(0, run.exit(), run.toString());
                int estimated = (int) short1.manifest().tables().stream().filter(t -> t.rowEstimate() >= 0 && !t.table().equals("events")).count();
                VerifyRecord.Coverage coverage = new VerifyRecord.Coverage(0, estimated, tables - estimated, 0);
                assertTrue(estimated >= 4, short1.manifest().tables().toString());
                assertTrue(run.err().contains("tables: " + coverage.describe()) && coverage.describe().contains("(no exact count in this manifest)")
                        && run.err().contains("compared with an estimate only") && run.err().contains("\"public\".\"accounts\""), run.err());
                assertEquals(coverage, record(bucket, short1).coverage());
            }
        } finally {
            pg.dropDatabase(db);
        }
    }

    /** Exact where the manifest counted, estimated where it did not, and the verdict says which. */
    @Test
    void theVerdictSaysWhichTablesWereExactAndWhichEstimated() throws Exception {
        String db = pg.createDatabase("drill_mixed");
        try {
            pg.sql(db, "create table a (x int); insert into a select generate_series(1, 10); create table b (x int); insert into b select generate_series(1, 20);"
                    + " create table c (x int); insert into c select generate_series(1, 30); analyze; create table never_analysed (x int);");
            String bucket = s3.createBucket("drill-mixed");
            TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "mixed", db, T1);
            List<Manifest.TableStat> tables = new ArrayList<>();
            for (Manifest.TableStat t : made.manifest().tables()) {
                tables.add(switch (t.table()) {
                    case "a" -> new Manifest.TableStat(t.schema(), t.table(), t.rowEstimate(), 10L, null);
                    case "b" -> new Manifest.TableStat(t.schema(), t.table(), t.rowEstimate(), null, 20L);
                    case "never_analysed" -> new Manifest.TableStat(t.schema(), t.table(), -1, null);
                    default -> t;
                });
            }
            TestBackups.putManifest(bucket, made.key(), TestBackups.withTables(made.manifest(), tables));
            Scripts.Run run = drill(bucket, "--json");
            assertEquals(0, run.exit(), run.toString());
            assertTrue(run.err().contains("2 tables exact, 1 estimated, 1 for presence only (no exact count in this manifest)"), run.err());
            VerifyRecord record = record(bucket, made);
            assertEquals(new VerifyRecord.Coverage(2, 1, 1, 0), record.coverage());
            assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("b") && t.exact() && t.archiveRows() == 20 && t.rowCount() == null));
            assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("c") && !t.exact() && t.verdict().equals("ok")));
            JsonNode doc = Json.MAPPER.readTree(run.out());
            assertEquals(2, doc.get("record").get("coverage").get("exact").asInt());
        } finally {
            pg.dropDatabase(db);
        }
    }

    @Test
    void tablesWhoseDataWasExcludedOnPurposeOnlyNeedToExist() {
        String bucket = s3.createBucket("drill-excluded");
        String db = pg.createDatabase("drill_excl");
        try {
            pg.sql(db, "create table kept (x int); insert into kept select generate_series(1, 3000);"
                    + " create table noisy (x int); insert into noisy select generate_series(1, 5000); analyze;");
            TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "excl", db, T1, "--exclude-table-data=public.noisy");
            Scripts.Run run = drill(bucket);
            assertEquals(0, run.exit(), run.toString());
            VerifyRecord record = record(bucket, made);
            assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("noisy") && t.verdict().equals("no data in dump") && t.restoredRows() == 0),
                    record.tables().toString());
            assertTrue(record.tables().stream().anyMatch(t -> t.table().equals("kept") && t.verdict().equals("ok") && t.restoredRows() == 3000),
                    record.tables().toString());

            // The same dump under a manifest that does not mention the exclusion: 5000 rows are missing.
            Manifest m = made.manifest();
            TestBackups.putManifest(bucket, made.key(), new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(),
                    m.dumpKey(), m.startedAt(), m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(),
                    m.compression(), m.encryption(), m.tocEntries(), m.tables(), List.of()));
            run = drill(bucket);
            assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
            assertTrue(record(bucket, made).reasons().get(0).contains("\"public\".\"noisy\": 0 rows restored"), record(bucket, made).reasons().toString());
        } finally {
            pg.dropDatabase(db);
        }
    }

    @Test
    void settingsComeFromTheEnvironmentAsInTheWorkflow() throws Exception {
        String bucket = s3.createBucket("drill-env");
        String db = pg.createDatabase("drill_env");
        try {
            pg.sql(db, "create table t (x int); insert into t select generate_series(1, 10); analyze;");
            TestBackups.Made made = TestBackups.create(pg, bucket, "nightly/pg", "envdb", db, T1);
            java.util.Map<String, String> env = new java.util.HashMap<>(s3.env());
            env.put("S3_BUCKET_NAME", bucket);
            env.put("S3_PREFIX", "nightly/pg");
            env.put("RESTORE_DATABASE_URL", pg.url("postgres"));
            Scripts.Run run = Scripts.runProcess("Restore", env, "drill");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(VerifyRecord.PASSED, record(bucket, made).outcome());
            assertFalse(run.err().contains(PgServer.PASSWORD));
        } finally {
            pg.dropDatabase(db);
        }
    }

    @Test
    void aCorruptDumpFailsTheDrillWithoutARestore() {
        String bucket = s3.createBucket("drill-corrupt");
        String db = pg.createDatabase("drill_small");
        try {
            pg.sql(db, "create table t (x int); insert into t select generate_series(1, 100); analyze;");
            TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "small", db, T1);
            TestBackups.flipByte(bucket, made.dumpKey(), made.dump().length - 10);
            Scripts.Run run = drill(bucket);
            assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
            VerifyRecord record = record(bucket, made);
            assertEquals(VerifyRecord.FAILED, record.outcome());
            assertTrue(record.reasons().get(0).contains("checksum mismatch"), record.reasons().toString());
            assertFalse(run.err().contains("created scratch database"), "no restore of a corrupt dump: " + run.err());

            // A drill that cannot reach its server is no verdict on the backup: nothing is recorded.
            TestBackups.deleteObject(bucket, made.key().verifyKey());
            run = drill(bucket, "--scratch-url", pg.url("no_such_database"));
            assertEquals(Exit.USAGE, run.exit(), run.toString());
            assertFalse(s3.keys(bucket).contains(made.key().verifyKey()));
        } finally {
            pg.dropDatabase(db);
        }
    }
}
