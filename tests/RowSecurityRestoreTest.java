import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: a restore by the role an operator has on Neon or RDS (not superuser, no BYPASSRLS; CREATEDB, owns the
 * objects) of a table with FORCE ROW LEVEL SECURITY under a materialized view. pg_restore's default row_security = off
 * made the REFRESH MATERIALIZED VIEW fail ("query would be affected by row-level security policy"); restore and drill
 * now pass --enable-row-security for such a role, and the view's rows are those of the source.
 */
class RowSecurityRestoreTest {
    static PgServer pg;
    static S3Server s3;
    static String bucket, src, app, appPassword;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        String u = UUID.randomUUID().toString().substring(0, 6);
        app = "rls_app_" + u;
        appPassword = Secrets.register("app p@ss " + u);
        pg.sql("postgres", "create role " + app + " login createdb nosuperuser nobypassrls password '" + appPassword + "'");
        src = pg.createDatabase("rlsrc");
        pg.sql("postgres", "alter database \"" + src + "\" owner to " + app);
        PgTools.query(pg.psql(), ConnInfo.parse(appUrl(src)), String.join("\n",
                "create table notes (id int primary key, author text not null, words int);",
                "insert into notes select g, case when g % 3 = 0 then current_user else 'someone else' end, g from generate_series(1, 300) g;",
                "alter table notes enable row level security;",
                "alter table notes force row level security;",
                "create policy mine on notes using (author = current_user);",
                "create materialized view note_totals as select count(*) as n, sum(words) as words from notes;",
                "create index on notes (author);"));
        bucket = s3.createBucket("rls");
        // Backed up with backup.java as the superuser (or a BYPASSRLS role), as a backup of every row must be: exact row counts.
        Scripts.Run backup = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(src), "--name", "notes");
        assertEquals(0, backup.exit(), backup.toString());
    }

    static String appUrl(String db) {
        return "postgresql://" + ConnInfo.encode(app) + ":" + ConnInfo.encode(appPassword) + "@" + pg.host + ":" + pg.port + "/" + ConnInfo.encode(db);
    }

    static Scripts.Run restore(String... args) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION, "--name", "notes"));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    /** The view's rows as the superuser reads them (no policy applies to it), and every row of the table. */
    static String contents(String db) {
        return pg.sql(db, "select n || ' ' || words from note_totals") + " / " + pg.sql(db, "select count(*) from notes")
                + " / " + pg.sql(db, "select relrowsecurity::text || relforcerowsecurity::text from pg_class where relname = 'notes'");
    }

    static void assertRestoredAsTheSource(Scripts.Run run, String db) {
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("restore: " + RowSecurity.WHY), run.err());
        assertTrue(run.err().contains(", --enable-row-security"), run.err());
        assertFalse(run.err().contains(RowSecurity.NOT_OWNERS), run.err());
        assertEquals(contents(src), contents(db));
        assertEquals("100 15150 / 300 / truetrue", contents(db)); // the owner's 100 rows in the view, all 300 in the table, RLS forced
    }

    @Test
    void aRoleWithoutBypassRlsRestoresAForcedTableUnderAMaterializedView() {
        String db = "rls_new_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--create", "--target-url", appUrl(db));
        assertRestoredAsTheSource(run, db);
        assertEquals(app, pg.sql(db, "select relowner::regrole::text from pg_class where relname = 'note_totals'"));

        // --clean over the restored database: the tables are dropped and recreated, the rows copied before RLS is on again.
        pg.sql(db, "delete from notes where id <= 30; refresh materialized view note_totals");
        Scripts.Run again = restore("--clean", "--target-url", appUrl(db));
        assertRestoredAsTheSource(again, db);
    }

    @Test
    void aSelectiveRestoreOfTheTableAndItsViewByThatRole() {
        String db = "rls_sel_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--table", "notes", "--table", "note_totals", "--create", "--target-url", appUrl(db));
        assertRestoredAsTheSource(run, db);
        assertTrue(pg.sql(db, "select count(*) from pg_policy where polname = 'mine'").equals("1"), run.err());

        // And with --clean over them in that database: just those objects dropped and restored again.
        pg.sql(db, "delete from notes where id > 100; refresh materialized view note_totals; create table other (id int)");
        Scripts.Run again = restore("--table", "notes", "--table", "note_totals", "--clean", "--target-url", appUrl(db));
        assertRestoredAsTheSource(again, db);
        assertEquals("1", pg.sql(db, "select count(*) from pg_class where relname = 'other'"), "the rest of the database untouched");
    }

    @Test
    void aSuperuserKeepingTheOwnersNeedsItToo() {
        // The refresh runs as the view's owner, who is subject to the policy: pg_restore alone fails here even for a superuser.
        String db = "rls_su_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--create", "--target-url", pg.url(db));
        assertRestoredAsTheSource(run, db);
    }

    @Test
    void withoutTheOwnersTheViewIsRefreshedAsTheRestoringUserAndRestoreSaysSo() {
        String db = "rls_noown_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--create", "--no-owner", "--target-url", pg.url(db));
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("restore: " + RowSecurity.NOT_OWNERS), run.err());
        // The superuser owns the view now and no policy applies to it: all 300 rows, where the source's owner saw 100.
        assertEquals("300 45150", pg.sql(db, "select n || ' ' || words from note_totals"));
    }

    @Test
    void theDrillByThatRolePassesWithEveryRowCounted() {
        Scripts.Run run = Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--name", "notes", "--scratch-url", appUrl("postgres"), "--no-record");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("drill: " + RowSecurity.WHY), run.err());
        assertTrue(run.err().contains("1 table exact"), run.err());
        assertTrue(run.err().contains("drill: PASSED") && run.err().contains("restores with all its rows"), run.err());
    }
}
