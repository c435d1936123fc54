import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The backup side of "the data is all there": exact row counts taken in the dump's own snapshot
 * ({@code TableStat.rowCount}), the rows the archive holds ({@code archiveRows}, counted as it streams), the two
 * compared before anything is published, and an archive that cannot be read back never published. pg_dump
 * misbehaving is played by small wrapper scripts around the real one (--pg-dump).
 */
class RowCountTest {
    static PgServer pg;
    static S3Server s3;
    static String db;
    static final List<Path> cleanup = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("rowcount");
        pg.sql(db, String.join("\n",
                "create table public.small (id int primary key, v text);",
                "insert into public.small select g, 'v' || g from generate_series(1, 900) g;",
                "create table public.\"Odd \"\"Name\"\" ✓\" (id int);",
                "insert into public.\"Odd \"\"Name\"\" ✓\" select generate_series(1, 37);",
                "create table public.audit_log (id int, what text);",
                "insert into public.audit_log select g, 'event' from generate_series(1, 5000) g;",
                "create table public.empty (id int);",
                "create table public.parent (id int, note text);",
                "create table public.child (extra int) inherits (public.parent);",
                "insert into public.parent select g, 'p' from generate_series(1, 10) g;",
                "insert into public.child select g, 'c', g from generate_series(1, 20) g;",
                "create table public.measurements (at date not null, v int) partition by range (at);",
                "create table public.measurements_2025 partition of public.measurements for values from ('2025-01-01') to ('2026-01-01');",
                "create table public.measurements_2026 partition of public.measurements for values from ('2026-01-01') to ('2027-01-01');",
                "insert into public.measurements select date '2025-06-01' + (g % 400), g from generate_series(1, 3000) g;",
                "create table public.growing (id bigserial primary key, at timestamptz default clock_timestamp(), payload text);",
                "insert into public.growing (payload) select repeat('x', 200) from generate_series(1, 20000);",
                "analyze;"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        pg.dropDatabase(db);
        for (Path p : cleanup) PgServer.deleteTree(p);
    }

    static String[] args(String bucket, String... more) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION, "--database-url", pg.url(db)));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static Manifest manifest(String bucket) {
        String key = s3.keys(bucket).stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow();
        return Manifest.parse(new String(TestBackups.getObject(bucket, key), StandardCharsets.UTF_8), key);
    }

    static Manifest.TableStat table(Manifest m, String name) {
        return m.tables().stream().filter(t -> t.table().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name + " not in " + m.tables()));
    }

    static long count(String table) { return Long.parseLong(pg.sql(db, "select count(*) from only " + table)); }

    /** A pg_dump stand-in: a bash script given the real pg_dump as $REAL (and psql as $PSQL); --version goes to the real one. */
    static Path fakePgDump(String body) throws Exception {
        Path dir = Files.createTempDirectory("fake-pg-dump");
        cleanup.add(dir);
        Path script = dir.resolve("pg_dump");
        Files.writeString(script, "#!/usr/bin/env bash\nREAL='" + pg.tool("pg_dump").path() + "'\nPSQL='" + pg.psql().path() + "'\n"
                + "if [ \"$1\" = --version ]; then exec \"$REAL\" --version; fi\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    static void assertNothingPublished(String bucket) {
        assertEquals(List.of(), s3.keys(bucket), "no dump object, no manifest");
        assertEquals(List.of(), BackupTest.uploadsInProgress(bucket));
    }

    /** Every table's exact count and archive count, and what they are for the special cases. */
    @Test
    void exactCountsAndArchiveRowsAreRecorded() {
        String bucket = s3.createBucket("rowcounts");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--", "--exclude-table-data=public.audit_log"));
        assertEquals(0, run.exit(), run.toString());
        Manifest m = manifest(bucket);
        for (String t : List.of("small", "Odd \"Name\" ✓", "empty", "parent", "child", "measurements_2025", "measurements_2026", "growing")) {
            long actual = count("public." + UserTables.quoted(t));
            assertEquals(actual, table(m, t).rowCount(), t + " exact count");
            assertEquals(actual, table(m, t).archiveRows(), t + " rows in the archive");
        }
        assertEquals(10L, table(m, "parent").rowCount(), "an inheritance parent's own rows, as its COPY writes them");
        // A partitioned table has no rows of its own; data excluded from the dump: the archive holds none, so no count to compare.
        assertNull(table(m, "measurements").rowCount());
        assertEquals(0L, table(m, "measurements").archiveRows());
        assertNull(table(m, "audit_log").rowCount());
        assertEquals(0L, table(m, "audit_log").archiveRows());
        assertEquals(5000L, table(m, "audit_log").rowEstimate());
    }

    /** Above --exact-count-limit, a table is not counted in the database; the archive's count stands. --no-read-back: no archive count. */
    @Test
    void theCountLimitAndReadBackOptions() {
        String bucket = s3.createBucket("countlimit");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--exact-count-limit", "100KiB"));
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("table(s) larger than --exact-count-limit 100KiB not counted in the database"), run.err());
        Manifest m = manifest(bucket);
        assertNull(table(m, "growing").rowCount(), "4 MB: over the limit");
        assertEquals(count("public.growing"), table(m, "growing").archiveRows());
        assertEquals(900L, table(m, "small").rowCount());

        String plain = s3.createBucket("noreadback");
        Scripts.Run noRead = Scripts.run(new Backup(), args(plain, "--no-read-back"));
        assertEquals(0, noRead.exit(), noRead.toString());
        assertNull(table(manifest(plain), "small").archiveRows());
        assertEquals(900L, table(manifest(plain), "small").rowCount());
    }

    /**
     * Dumps as INSERT statements: their lines are not rows, so the archive's rows are not counted (null), whatever
     * the option's spelling; the archive is still read back. --serializable-deferrable: backup's own transaction
     * takes the safe snapshot and pg_dump imports it.
     */
    @Test
    void insertsAndSerializableDeferrableDumps() {
        for (String inserts : List.of("--inserts", "--column-ins", "--rows-per-insert=100")) {
            String bucket = s3.createBucket("inserts");
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--", inserts));
            assertEquals(0, run.exit(), inserts + ": " + run);
            Manifest m = manifest(bucket);
            assertNull(table(m, "small").archiveRows(), inserts);
            assertEquals(900L, table(m, "small").rowCount(), inserts);
        }
        String bucket = s3.createBucket("serializable");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--", "--serializable-deferrable"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(900L, table(manifest(bucket), "small").rowCount());
        assertEquals(900L, table(manifest(bucket), "small").archiveRows());
        assertEquals(List.of("--serializable-deferrable"), manifest(bucket).pgDumpArgs());
    }

    /**
     * Rows keep arriving while the backup runs: the exact count is taken in the dump's own snapshot, so it matches
     * the archive's rows exactly, whatever was inserted meanwhile.
     */
    @Test
    void countsAndDumpShareOneSnapshotWhileRowsArrive() throws Exception {
        String bucket = s3.createBucket("concurrent");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong inserted = new AtomicLong();
        PsqlSession writer = PsqlSession.open(pg.psql(), pg.conn(db));
        Thread t = Threads.start("writer", () -> {
            while (!stop.get()) {
                if (writer.run("insert into public.growing (payload) select repeat('y', 200) from generate_series(1, 50);").ok()) inserted.addAndGet(50);
            }
        });
        Scripts.Run run;
        long before = count("public.growing");
        try {
            run = Scripts.run(new Backup(), args(bucket, "--compress", "9"));
        } finally {
            stop.set(true);
            t.join(30_000);
            writer.close();
        }
        assertEquals(0, run.exit(), run.toString());
        Manifest.TableStat growing = table(manifest(bucket), "growing");
        assertEquals(growing.rowCount(), growing.archiveRows());
        assertTrue(growing.rowCount() > before && growing.rowCount() < count("public.growing"),
                "rows were inserted before and after the snapshot: " + before + " < " + growing.rowCount() + " < " + count("public.growing"));
    }

    /** A dump that does not hold the rows the database held (here: pg_dump run outside the shared snapshot, after an insert) fails with 65. */
    @Test
    void aDumpMissingOrAddingRowsIsNotPublished() throws Exception {
        String bucket = s3.createBucket("rows-differ");
        Path fake = fakePgDump(String.join("\n",
                "args=(); db=; prev=",
                "for a in \"$@\"; do",
                "  case \"$a\" in --snapshot=*) ;; *) args+=(\"$a\") ;; esac",
                "  [ \"$prev\" = --dbname ] && db=$a; prev=$a",
                "done",
                "\"$PSQL\" -X -q -d \"$db\" -c 'insert into public.small values (100000, $$late$$)' >/dev/null || exit 3",
                "exec \"$REAL\" \"${args[@]}\""));
        try {
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--pg-dump", fake.toString()));
            assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
            assertTrue(run.err().contains("the dump does not hold every row of the database (public.small: 900 rows in the database, 901 in the archive)"),
                    run.err());
            assertNothingPublished(bucket);
        } finally {
            pg.sql(db, "delete from public.small where id = 100000");
        }
    }

    /**
     * The pooled-session case without a pooler: pg_dump's row_security stays on (as when its SET landed on another
     * server connection) and a policy hides rows from the role: pg_dump exits 0 with 9 of 12 rows; the backup's
     * own count (row_security off) is refused, so the backup fails.
     */
    @Test
    void rowsHiddenByRowLevelSecurityFailTheBackup() throws Exception {
        String bucket = s3.createBucket("rls-hidden");
        String role = "rls_" + UUID.randomUUID().toString().substring(0, 8);
        String password = Secrets.register("R1s p@ss:" + UUID.randomUUID().toString().substring(0, 8));
        String rlsDb = pg.createDatabase("rls");
        try {
            pg.sql("postgres", "create role " + role + " login password '" + password + "'");
            pg.sql(rlsDb, "create table public.notes (id int, mine boolean); insert into public.notes select g, g > 3 from generate_series(1, 12) g;"
                    + " alter table public.notes enable row level security; create policy own on public.notes for select to " + role + " using (mine);"
                    + " grant select on public.notes to " + role);
            Path fake = fakePgDump("exec \"$REAL\" --enable-row-security \"$@\"");
            String url = "postgresql://" + role + ":" + ConnInfo.encode(password) + "@" + pg.host + ":" + pg.port + "/" + rlsDb;
            Scripts.Run run = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--database-url", url, "--pg-dump", fake.toString());
            assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
            assertTrue(run.err().contains("public.notes: row-level security hides rows from this role, yet the archive holds 9 rows of it"), run.err());
            assertTrue(run.err().contains("is the connection pooled"), run.err());
            assertNothingPublished(bucket);

            // Asked for explicitly (-- --enable-row-security), a dump of the visible rows is what the user wants: counted the same way, it passes.
            Scripts.Run asked = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--database-url", url, "--", "--enable-row-security");
            assertEquals(0, asked.exit(), asked.toString());
            assertEquals(9L, table(manifest(bucket), "notes").rowCount());
            assertEquals(9L, table(manifest(bucket), "notes").archiveRows());
        } finally {
            pg.dropDatabase(rlsDb);
            pg.sql("postgres", "drop role if exists " + role);
        }
    }

    /** pg_dump exits 0 but its output is cut short, or is not an archive at all: no manifest, no dump, 65. */
    @Test
    void anUnreadableArchiveIsNotPublished() throws Exception {
        Map<String, String> fakes = Map.of(
                "cut short", "\"$REAL\" \"$@\" | head -c 30000; exit 0",
                "garbage", "printf 'this is not a dump at all\\n'; exit 0");
        for (var fake : fakes.entrySet()) {
            String bucket = s3.createBucket("unreadable");
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--compress", "0", "--pg-dump", fakePgDump(fake.getValue()).toString()));
            assertEquals(Exit.DATA_INVALID, run.exit(), fake.getKey() + ": " + run);
            assertTrue(run.err().contains("pg_dump exited 0 but its output is not a readable archive: pg_restore cannot read it"), run.err());
            assertNothingPublished(bucket);
        }
    }

    /** The archive row counter on its own: quoted names, empty blocks, and the --load-via-partition-root comments. */
    @Test
    void archiveRowParsing() {
        assertEquals(List.of("public", "orders"), ArchiveRows.copyTarget("COPY public.orders (id, note) FROM stdin;"));
        assertEquals(List.of("Ünï schema", "Odd \"Name\" ✓"), ArchiveRows.copyTarget("COPY \"Ünï schema\".\"Odd \"\"Name\"\" ✓\" (id) FROM stdin;"));
        assertEquals(List.of("public", "nocols"), ArchiveRows.copyTarget("COPY public.nocols  FROM stdin;"));
        assertEquals(List.of("public", "measurements_2025"),
                ArchiveRows.dataComment("-- Data for Name: measurements_2025; Type: TABLE DATA; Schema: public; Owner: app"));
        assertNull(ArchiveRows.dataComment("-- Name: orders; Type: TABLE; Schema: public; Owner: app"));
        String statuses = RowCounts.combine(List.of(new UserTables.Table("public", "a", "r", 10, 8192)),
                Map.of(List.of("public", "a"), new DumpSnapshot.Count(10L, null, false)),
                new ArchiveRows.Result(Map.of(List.of("public", "a"), 9L), true, true, null)).disagreements().stream().collect(Collectors.joining());
        assertEquals("public.a: 10 rows in the database, 9 in the archive", statuses);
        assertFalse(RowCounts.combine(List.of(new UserTables.Table("public", "a", "r", 10, 8192)),
                Map.of(List.of("public", "a"), new DumpSnapshot.Count(10L, null, false)), null).disagreements().size() > 0);
    }

    /** Partitions dumped through their root: each partition's rows are still attributed to it (by pg_restore's comment). */
    @Test
    void loadViaPartitionRootKeepsPerPartitionCounts() {
        String bucket = s3.createBucket("viaroot");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--", "--load-via-partition-root"));
        assertEquals(0, run.exit(), run.toString());
        Manifest m = manifest(bucket);
        assertEquals(count("public.measurements_2025"), table(m, "measurements_2025").archiveRows());
        assertEquals(count("public.measurements_2026"), table(m, "measurements_2026").archiveRows());
        assertEquals(0L, table(m, "measurements").archiveRows());
    }
}
