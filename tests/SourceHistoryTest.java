import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One backup name holds one source's history: every manifest records its source (host and port as reached, the
 * database, the cluster's system identifier and the database's OID), and a backup of another database under a
 * name already in use is refused (exit 64) unless --source-moved says it is the same database moved.
 */
class SourceHistoryTest {
    static PgServer pg;
    static S3Server s3;
    static String first;
    static String second;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        first = pg.createDatabase("history_a");
        second = pg.createDatabase("history_b");
        for (String db : List.of(first, second)) pg.sql(db, "create table t as select generate_series(1, 10) id");
    }

    @AfterAll
    static void tearDown() {
        pg.dropDatabase(first);
        pg.dropDatabase(second);
    }

    static Scripts.Run backup(String bucket, String url, String... more) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", url, "--name", "neondb"));
        all.addAll(List.of(more));
        return Scripts.run(new Backup(), all.toArray(String[]::new));
    }

    static List<Manifest> manifests(String bucket) {
        List<Manifest> out = new ArrayList<>();
        for (String k : s3.keys(bucket).stream().filter(k -> k.endsWith(".manifest.json")).sorted(Comparator.naturalOrder()).toList()) {
            out.add(Manifest.parse(new String(TestBackups.getObject(bucket, k), StandardCharsets.UTF_8), k));
        }
        return out;
    }

    static long oid(String db) { return Long.parseLong(pg.sql("postgres", "select oid from pg_database where datname = '" + db + "'")); }

    /** Two databases, one name: the second is refused naming both and --name; --source-moved accepts it and records the move. */
    @Test
    void anotherDatabaseUnderTheSameNameIsRefusedUnlessMoved() throws Exception {
        String bucket = s3.createBucket("history");
        Scripts.Run a = backup(bucket, pg.url(first));
        assertEquals(0, a.exit(), a.toString());
        Thread.sleep(1100); // another second: another key
        Scripts.Run b = backup(bucket, pg.url(second));
        assertEquals(Exit.USAGE, b.exit(), b.toString());
        assertTrue(b.err().contains("backup name 'neondb' holds the history of another database") && b.err().contains(first + " on ")
                && b.err().contains(second + " on ") && b.err().contains("database oid " + oid(first)) && b.err().contains("its own --name")
                && b.err().contains("--source-moved"), b.err());
        assertEquals(2, s3.keys(bucket).size(), "nothing written: " + s3.keys(bucket));

        Manifest.Source source = manifests(bucket).get(0).source();
        assertEquals(first, source.database());
        assertEquals(oid(first), source.databaseOid());
        assertEquals(pg.sql("postgres", "select system_identifier from pg_control_system()"), source.systemIdentifier());
        assertEquals(pg.port, source.port());
        assertNull(source.movedFrom());

        Scripts.Run moved = backup(bucket, pg.url(second), "--source-moved");
        assertEquals(0, moved.exit(), moved.toString());
        assertTrue(moved.err().contains("--source-moved: recording that 'neondb' now comes from " + second), moved.err());
        Manifest m = manifests(bucket).get(1);
        assertEquals(oid(second), m.source().databaseOid());
        assertNotNull(m.source().movedFrom());
        assertEquals(oid(first), m.source().movedFrom().databaseOid());

        // From now on the name's history is the second database's.
        Thread.sleep(1100);
        Scripts.Run again = backup(bucket, pg.url(second));
        assertEquals(0, again.exit(), again.toString());
        assertNull(manifests(bucket).get(2).source().movedFrom());
    }

    /** The same database reached by another host name is the same source (identity, not host strings). */
    @Test
    void theSameDatabaseThroughAnotherHostNameIsTheSameSource() throws Exception {
        String bucket = s3.createBucket("history-host");
        assertEquals(0, backup(bucket, pg.url(first)).exit());
        Thread.sleep(1100);
        String viaName = pg.url(first).replace("@" + pg.host + ":", "@localhost:") + "?hostaddr=" + pg.host;
        Scripts.Run run = backup(bucket, viaName);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("same database as before") && run.err().contains("now reached at localhost:" + pg.port), run.err());
        assertEquals("localhost", manifests(bucket).get(1).source().host());
    }

    /** A manifest written before sources were recorded is no evidence either way; one the role may not read is no reason to fail. */
    @Test
    void oldManifestsDoNotBlock() {
        String bucket = s3.createBucket("history-old");
        TestBackups.create(pg, bucket, BackupKey.DEFAULT_PREFIX, "neondb", second, Instant.parse("2026-01-01T00:00:00Z"));
        Scripts.Run run = backup(bucket, pg.url(first));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(oid(first), manifests(bucket).stream().filter(m -> m.source() != null).findFirst().orElseThrow().source().databaseOid());
    }

    /** A role without superuser still records the system identifier (PostgreSQL 15: pg_control_system() is not restricted). */
    @Test
    void aPlainRoleRecordsTheSystemIdentifier() {
        String role = "plain_" + UUID.randomUUID().toString().substring(0, 8);
        String password = Secrets.register("Pl@in:" + UUID.randomUUID().toString().substring(0, 8));
        try {
            pg.sql("postgres", "create role " + role + " login password '" + password + "'");
            pg.sql(first, "grant select on t to " + role);
            String bucket = s3.createBucket("history-plain");
            String url = "postgresql://" + role + ":" + ConnInfo.encode(password) + "@" + pg.host + ":" + pg.port + "/" + first;
            Scripts.Run run = backup(bucket, url);
            assertEquals(0, run.exit(), run.toString());
            Manifest.Source s = manifests(bucket).get(0).source();
            assertEquals(pg.sql("postgres", "select system_identifier from pg_control_system()"), s.systemIdentifier());
            assertEquals(oid(first), s.databaseOid());
        } finally {
            pg.sql(first, "revoke all on t from " + role);
            pg.sql("postgres", "drop role if exists " + role);
        }
    }

    /** The comparison rule: identity when both sides have one, else host, port and database. */
    @Test
    void sameSourceRule() {
        var a = new Manifest.Source("h1", 5432, "neondb", "7001", 16384L);
        assertTrue(SourceHistory.same(a, new Manifest.Source("H2", 6543, "renamed", "7001", 16384L)));
        assertTrue(!SourceHistory.same(a, new Manifest.Source("h1", 5432, "neondb", "7002", 16384L)));
        assertTrue(!SourceHistory.same(a, new Manifest.Source("h1", 5432, "neondb", "7001", 16385L)));
        assertTrue(SourceHistory.same(a, new Manifest.Source("H1", null, "neondb", null, 16384L)));
        assertTrue(!SourceHistory.same(a, new Manifest.Source("h1", 5433, "neondb", null, null)));
        // Neon branches share a system identifier and OIDs; their timelines differ.
        var main = new Manifest.Source("ep-a", 5432, "neondb", "7001", 16384L, "aaaa", null);
        assertTrue(!SourceHistory.same(main, new Manifest.Source("ep-b", 5432, "neondb", "7001", 16384L, "bbbb", null)));
    }
}
