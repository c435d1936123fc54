import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A drill whose scratch server lacks what the backup needs (an extension, a role, the backup's server version) could
 * not test the backup: "could not test", exit 78, and no record, so a good backup's last "passed" record stands and no
 * FAILED record ever says a backup is damaged when the drill's environment is what fell short.
 */
class DrillEnvironmentTest {
    static PgServer pg;
    static S3Server s3;
    static LimitedPgServer noHstore;
    static final List<String> databases = new ArrayList<>();
    static final Instant T1 = Instant.parse("2026-11-20T02:00:00Z");

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
        noHstore = LimitedPgServer.without("hstore");
    }

    @AfterAll
    static void stop() {
        for (String db : databases) pg.dropDatabase(db);
        noHstore.close();
    }

    static Scripts.Run drill(String bucket, String scratchUrl, String... args) {
        List<String> all = new ArrayList<>(List.of("drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--scratch-url", scratchUrl));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static VerifyRecord record(String bucket, TestBackups.Made made) {
        return VerifyRecord.parse(new String(TestBackups.getObject(bucket, made.key().verifyKey()), StandardCharsets.UTF_8), "test");
    }

    static String scratchDatabasesOn(PgServer server) {
        return server.sql("postgres", "select count(*) from pg_database where datname like 'pgdump\\_s3\\_drill\\_%'");
    }

    @Test
    void aScratchServerWithoutTheExtensionCouldNotTestAndRecordsNothing() throws Exception {
        String db = pg.createDatabase("drill_hstore");
        databases.add(db);
        pg.sql(db, "create extension hstore; create table attrs (id int, a hstore); insert into attrs select g, hstore('k', g::text) from generate_series(1, 50) g; analyze;");
        String bucket = s3.createBucket("drill-noext");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "ext", db, T1);

        Scripts.Run run = drill(bucket, pg.url("postgres"));
        assertEquals(0, run.exit(), "on a server with hstore the backup passes: " + run);
        String passed = new String(TestBackups.getObject(bucket, made.key().verifyKey()), StandardCharsets.UTF_8);

        run = drill(bucket, noHstore.url("postgres"), "--json");
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        assertTrue(run.err().contains("COULD NOT TEST") && run.err().contains("lacks extension hstore") && run.err().contains("postgres:"), run.err());
        assertTrue(run.err().contains("nothing recorded"), run.err());
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals("untested", doc.get("outcome").asText());
        assertTrue(doc.get("recordKey").isNull() && doc.get("record").isNull(), run.out());
        assertTrue(doc.get("reasons").get(0).asText().contains("hstore"), run.out());
        assertEquals(passed, new String(TestBackups.getObject(bucket, made.key().verifyKey()), StandardCharsets.UTF_8),
                "the last record (passed) stands: the scratch server's lack is no verdict on the backup");
        assertEquals("0", scratchDatabasesOn(noHstore.server), "checked before any scratch database is created");

        // No earlier record: none is written either.
        TestBackups.deleteObject(bucket, made.key().verifyKey());
        run = drill(bucket, noHstore.url("postgres"));
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        assertFalse(s3.keys(bucket).contains(made.key().verifyKey()), "no FAILED record for a drill that could not test");
    }

    @Test
    void aMissingRoleCouldNotTestAndRecordsNothing() {
        String role = "drill_reader_" + UUID.randomUUID().toString().substring(0, 8);
        String db = pg.createDatabase("drill_role");
        databases.add(db);
        pg.sql("postgres", "create role " + role);
        pg.sql(db, "create table notes (id int, body text); insert into notes select g, 'n' || g from generate_series(1, 30) g;"
                + " alter table notes enable row level security; create policy readers on notes for select to " + role + " using (true); analyze;");
        String bucket = s3.createBucket("drill-norole");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "roles", db, T1);
        // The role exists where the database lives, not on the scratch server (here: it is gone from the one server we have).
        pg.sql(db, "drop policy readers on notes");
        pg.sql("postgres", "drop role " + role);

        Scripts.Run run = drill(bucket, pg.url("postgres"));
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        assertTrue(run.err().contains("COULD NOT TEST") && run.err().contains("lacks role " + role) && run.err().contains("CREATE ROLE"), run.err());
        assertFalse(s3.keys(bucket).contains(made.key().verifyKey()), "no FAILED record: the role is the scratch server's lack");
        assertEquals("0", scratchDatabasesOn(pg), "the scratch database is dropped");

        pg.sql("postgres", "create role " + role);
        try {
            run = drill(bucket, pg.url("postgres"));
            assertEquals(0, run.exit(), "with the role there the same backup passes: " + run);
            assertEquals(VerifyRecord.PASSED, record(bucket, made).outcome());
        } finally {
            pg.sql("postgres", "drop owned by " + role + "; drop role " + role);
        }
    }

    @Test
    void aScratchServerOlderThanTheBackupsServerCouldNotTestIt() {
        String db = pg.createDatabase("drill_newer");
        databases.add(db);
        pg.sql(db, "create table t (x int); insert into t select generate_series(1, 10); analyze;");
        String bucket = s3.createBucket("drill-older");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "newer", db, T1);
        int newer = pg.serverMajor() + 1;
        Manifest m = made.manifest();
        TestBackups.putManifest(bucket, made.key(), new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(),
                m.dumpKey(), m.startedAt(), m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), newer + ".2", m.format(),
                m.compression(), m.encryption(), m.tocEntries(), m.tables(), m.pgDumpArgs()));

        Scripts.Run run = drill(bucket, pg.url("postgres"));
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        assertTrue(run.err().contains("older than the backup's server (" + newer + ".2)") && run.err().contains("postgres:" + newer), run.err());
        assertFalse(run.err().contains("downloading"), "known before the download: " + run.err());
        assertFalse(s3.keys(bucket).contains(made.key().verifyKey()));
    }

    /** The wording of PostgreSQL 14-18 (14: no control file; 15+: not available), as pg_restore relays it. */
    @Test
    void pgRestoreMessagesThatMeanTheScratchServerLacksSomething() {
        String pg15 = "pg_restore: error: could not execute query: ERROR:  extension \"vector\" is not available | DETAIL:  Could not open extension"
                + " control file \"/usr/share/postgresql/15/extension/vector.control\": No such file or directory. | HINT:  The extension must first be"
                + " installed on the system where PostgreSQL is running. | Command was: CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;";
        String lack = ScratchServer.lackIn(pg15, 17);
        assertTrue(lack.contains("lacks extension vector") && lack.contains("pgvector/pgvector:pg17"), lack);
        String pg14 = "pg_restore: error: could not execute query: ERROR:  could not open extension control file"
                + " \"/usr/share/postgresql/14/extension/postgis.control\": No such file or directory";
        lack = ScratchServer.lackIn(pg14, 14);
        assertTrue(lack.contains("lacks extension postgis") && lack.contains("postgis/postgis:14-3.5"), lack);
        lack = ScratchServer.lackIn("ERROR:  extension \"ip4r\" is not available", 16);
        assertTrue(lack.contains("lacks extension ip4r") && lack.contains("FROM postgres:16"), lack);
        lack = ScratchServer.lackIn("ERROR:  role \"app_ro\" does not exist | Command was: CREATE POLICY p ON public.t TO app_ro", 15);
        assertTrue(lack.contains("lacks role app_ro"), lack);
        lack = ScratchServer.lackIn("ERROR:  could not access file \"$libdir/vector\": No such file or directory", 17);
        assertTrue(lack.contains("library vector"), lack);
        assertNull(ScratchServer.lackIn("ERROR:  relation \"public.t\" already exists", 17), "anything else is the backup's failure");
        assertNull(ScratchServer.lackIn("pg_restore: error: could not read from input file: end of file", 17));

        assertNull(ScratchServer.olderThanBackup(17, "17.6 (Debian 17.6-1)"));
        assertNull(ScratchServer.olderThanBackup(18, "17.6"));
        assertNull(ScratchServer.olderThanBackup(15, null), "an old manifest without the version: nothing to compare");
        assertTrue(ScratchServer.olderThanBackup(15, "17.6 (Debian 17.6-1)").contains("postgres:17"));
        assertEquals(List.of("hstore", "uuid-ossp"), ScratchServer.extensions(List.of(";     Dumped from database version: 15.18",
                "2; 3079 16386 EXTENSION - hstore ", "3459; 0 0 COMMENT - EXTENSION hstore ", "3; 3079 16390 EXTENSION - uuid-ossp ",
                "3450; 0 16515 TABLE DATA public EXTENSION - x postgres")));
    }
}
