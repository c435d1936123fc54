import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * backup and restore against PostgreSQL servers 14, 15, 16, 17 and 18 (tests/support/PgVersions; one throwaway
 * server per major, shared by the class, one sample database each): each backed up with backup.java and restored with
 * restore into a new database, on the same server where a pg_restore of that major exists here (15, 17, 18) and into
 * the next major (the upgrade path, dumped with the newer pg_dump as PostgreSQL advises), compared table by table, row
 * by row and object by object. What cannot work is refused up front, and that is tested too: an archive of a newer
 * pg_dump into an older server (pg_dump 18 dumps every server from 14, but its archives restore only into 18), and
 * pg_restore 17 or later into a server before 17 (it sets transaction_timeout). Servers 14 and 16 have no pg_dump or
 * pg_restore of their own here (no reachable Debian suite ships them), so they are dumped with the next major's
 * pg_dump and restored into that major.
 */
class PgVersionMatrixTest {
    static S3Server s3;
    static String bucket;
    static final Map<Integer, PgServer> servers = new TreeMap<>();

    @BeforeAll
    static void setUp() {
        for (int major : List.of(15, 17, 18)) PgVersions.client(major); // fail at once, with the fix, when the tools are missing
        s3 = S3Server.get();
        bucket = s3.createBucket("versions");
    }

    @AfterAll
    static void tearDown() {
        for (PgServer server : servers.values()) PgVersions.stop(server);
        servers.clear();
    }

    static PgServer server(int major) {
        return servers.computeIfAbsent(major, m -> {
            PgServer server = PgVersions.server(m);
            assertEquals(m, server.serverMajor(), "the server started for PostgreSQL " + m);
            return server;
        });
    }

    static List<String> storage(String... more) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(more));
        return all;
    }

    /** backup.java of {@code db} on {@code server} with pg_dump {@code pgDumpMajor}, as backup name {@code name}. */
    static void backup(PgServer server, String db, int pgDumpMajor, String name) {
        Scripts.Run run = Scripts.run(new Backup(), storage("--database-url", server.url(db), "--name", name, "--pg-dump", PgVersions.pgDump(pgDumpMajor))
                .toArray(String[]::new));
        assertEquals(0, run.exit(), run.toString());
    }

    /** restore of backup {@code name} into a new database on {@code server} with pg_restore {@code pgRestoreMajor}. */
    static Scripts.Run restore(String name, PgServer server, String db, int pgRestoreMajor) {
        return Scripts.run(new Restore(), storage("--name", name, "--create", "--target-url", server.url(db), "--pg-restore", PgVersions.pgRestore(pgRestoreMajor))
                .toArray(String[]::new));
    }

    static void restoresAsTheSource(String name, PgServer from, String sample, PgServer into, int pgRestoreMajor) {
        String db = "restored_" + name.replace('-', '_');
        Scripts.Run run = restore(name, into, db, pgRestoreMajor);
        assertEquals(0, run.exit(), run.toString());
        assertEquals(SampleDatabase.fingerprints(from, sample), SampleDatabase.fingerprints(into, db), "tables and rows of " + name);
        assertEquals(objects(from, sample), objects(into, db), "objects of " + name);
        if (from == into) assertEquals(schema(from, sample), schema(into, db), "pg_dump --schema-only of " + name);
    }

    static void refused(String name, PgServer into, int pgRestoreMajor, String... says) {
        String db = "refused_" + name.replace('-', '_');
        Scripts.Run run = restore(name, into, db, pgRestoreMajor);
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        for (String s : says) assertTrue(run.err().contains(s), s + " in\n" + run.err());
        assertFalse(run.err().contains("verified: size and SHA-256"), "refused before the download: " + run.err());
        assertEquals("0", into.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'"), "nothing created");
    }

    /**
     * The definitions a restore must carry, in forms that do not change between majors: columns with types, defaults and
     * nullability; indexes; constraints (primary, foreign, unique, check: 18 also lists NOT NULL ones); views; functions
     * with their source; triggers; types; sequences.
     */
    static String objects(PgServer server, String db) {
        return server.sql(db, String.join("\n",
                "select string_agg(x, E'\\n' order by x) from (",
                " select format('column %I.%I.%I %s %s %s', table_schema, table_name, column_name, data_type, column_default, is_nullable) x",
                "   from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema')",
                " union all select format('index %I.%I %s', schemaname, indexname, indexdef) from pg_indexes where schemaname not in ('pg_catalog', 'information_schema')",
                " union all select format('constraint %s %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) from pg_constraint",
                "   where contype in ('p', 'f', 'u', 'c') and connamespace::regnamespace::text not in ('pg_catalog', 'information_schema')",
                " union all select format('view %I.%I', schemaname, viewname) from pg_views where schemaname not in ('pg_catalog', 'information_schema')",
                " union all select format('function %I.%I(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc))",
                "   from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname not in ('pg_catalog', 'information_schema')",
                " union all select format('trigger %s %I', tgrelid::regclass, tgname) from pg_trigger where not tgisinternal",
                " union all select format('type %I.%I %s', n.nspname, t.typname, (select string_agg(enumlabel, ',' order by enumsortorder) from pg_enum where enumtypid = t.oid))",
                "   from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typtype = 'e'",
                " union all select format('sequence %I.%I %s', schemaname, sequencename, last_value) from pg_sequences",
                ") s"));
    }

    /** pg_dump 18 --schema-only (it dumps every server from 14), without the random restrict lines. */
    static String schema(PgServer server, String db) {
        ConnInfo conn = server.conn(db);
        PgTools.Result r = PgTools.run(List.of(PgVersions.pgDump(18), "--schema-only", "--no-owner", "--no-acl", "-d", conn.withoutPassword()),
                conn.childEnvironment(), null, 120);
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout().lines().filter(l -> !l.startsWith("\\restrict ") && !l.startsWith("\\unrestrict ")).reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void postgres14IsBackedUpByPgDump15And18AndRestoredInto15And18() {
        PgServer pg14 = server(14);
        String sample = SampleDatabase.create(pg14, "sample14");
        backup(pg14, sample, 15, "v14-pg15");
        restoresAsTheSource("v14-pg15", pg14, sample, server(15), 15);
        // Back into 14 it would need a pg_dump 14 archive: refused before anything happens.
        refused("v14-pg15", pg14, 15, "the backup was written by pg_dump 15.", "the target server is PostgreSQL 14.",
                "Restore into a PostgreSQL 15 or newer server, or use a backup made with pg_dump 14");
        // The oldest server dumped by the newest pg_dump, straight into the newest server (an upgrade from 14 to 18).
        backup(pg14, sample, 18, "v14-pg18");
        restoresAsTheSource("v14-pg18", pg14, sample, server(18), 18);
    }

    @Test
    void postgres15RestoresIntoItselfAndRefusesPgRestore17For16() {
        PgServer pg15 = server(15);
        String sample = SampleDatabase.create(pg15, "sample15");
        backup(pg15, sample, 15, "v15-pg15");
        restoresAsTheSource("v15-pg15", pg15, sample, pg15, 15);
        // Into 16 it would need a pg_restore 16 (none here): 17 sets transaction_timeout, which 16 rejects.
        refused("v15-pg15", server(16), 17, "cannot restore into PostgreSQL 16: pg_restore 17 and later set transaction_timeout",
                "Install postgresql-client-16");
    }

    @Test
    void postgres16IsBackedUpByPgDump17AndRestoredInto17() {
        PgServer pg16 = server(16);
        String sample = SampleDatabase.create(pg16, "sample16");
        backup(pg16, sample, 17, "v16-pg17");
        restoresAsTheSource("v16-pg17", pg16, sample, server(17), 17);
        refused("v16-pg17", pg16, 17, "the backup was written by pg_dump 17.", "the target server is PostgreSQL 16.",
                "(they set transaction_timeout, which PostgreSQL 16 rejects)");
    }

    @Test
    void postgres17RestoresIntoItselfAndInto18() {
        PgServer pg17 = server(17);
        String sample = SampleDatabase.create(pg17, "sample17");
        backup(pg17, sample, 17, "v17-pg17");
        restoresAsTheSource("v17-pg17", pg17, sample, pg17, 17);
        restoresAsTheSource("v17-pg17", pg17, sample, server(18), 18);
    }

    @Test
    void postgres18IsBackedUpByPgDump18AndRestoredIntoItself() {
        PgServer pg18 = server(18);
        String sample = SampleDatabase.create(pg18, "sample18");
        backup(pg18, sample, 18, "v18-pg18");
        restoresAsTheSource("v18-pg18", pg18, sample, pg18, 18);
    }

    @Test
    void aRealPgDump17ArchiveOfPostgres15IsRefusedBeforeAnyDownload() throws Exception {
        PgServer pg15 = server(15);
        String db = pg15.createDatabase("src17");
        pg15.sql(db, "create table t (id int primary key, v text); insert into t select g, 'row ' || g from generate_series(1, 100) g;");
        backup(pg15, db, 17, "v15-pg17");
        String target = "refused_real_17";
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            Scripts.Run run = Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                    "--name", "v15-pg17", "--create", "--target-url", pg15.url(target));
            assertEquals(Exit.CONFIG, run.exit(), run.toString());
            String pgDump17 = PgTools.probe(java.nio.file.Path.of(PgVersions.pgDump(17))).version();
            String server15 = pg15.sql("postgres", "show server_version");
            assertTrue(run.err().contains("the backup was written by pg_dump " + pgDump17 + " and the target server is PostgreSQL " + server15)
                    && run.err().contains("(they set transaction_timeout, which PostgreSQL 15 rejects)")
                    && run.err().contains("Restore into a PostgreSQL 17 or newer server, or use a backup made with pg_dump 15"), run.err());
            List<String> dumpReads = proxy.log().stream().filter(l -> l.startsWith("GET ") && l.contains(".dump")).toList();
            assertEquals(List.of(), dumpReads, "no byte of the dump read; requests: " + proxy.log());
            assertTrue(proxy.log().stream().anyMatch(l -> l.startsWith("GET ") && l.contains(".manifest.json")), "the manifest was read: " + proxy.log());
        }
        assertEquals("0", pg15.sql("postgres", "select count(*) from pg_database where datname = '" + target + "'"), "nothing created");
    }
}
