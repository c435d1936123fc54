import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 19 end to end, restore as an operator runs it at 3 a.m., on real PostgreSQL and the S3 emulator: one table
 * with PK, FK, index, RLS policy, trigger and grants alone into a new database and with --clean over an existing
 * one, identical to the source; a unicode schema alone; owners and grants kept when the roles exist and reported
 * when not; an archive of a newer pg_dump refused before any download; progress while pg_restore runs.
 */
class RestoreTableTest {
    static PgServer pg;
    static S3Server s3;
    static String bucket, src, owner, reader, policyRole;
    static TestBackups.Made made;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        String u = UUID.randomUUID().toString().substring(0, 6);
        owner = "rt_owner_" + u;
        reader = "rt Lesër " + u;
        policyRole = "rt_pol_" + u;
        src = pg.createDatabase("rtable");
        pg.sql(src, String.join("\n",
                "create role " + owner + "; create role \"" + reader + "\"; create role " + policyRole + ";",
                "create table regions (id int primary key, name text);",
                "create table accounts (id serial primary key, region_id int references regions(id), parent_id int references accounts(id),",
                "  email text not null, note text);",
                "create index accounts_email_idx on accounts (email);",
                "alter table accounts enable row level security;",
                "create policy own on accounts for select to " + policyRole + " using (id > 0);",
                "create function lower_email() returns trigger language plpgsql as $$ begin new.email := lower(new.email); return new; end $$;",
                "create trigger accounts_lower before insert on accounts for each row execute function lower_email();",
                "comment on table accounts is 'the accounts';",
                "grant select on accounts to \"" + reader + "\";",
                "alter table accounts owner to " + owner + ";",
                "create table orders (id bigint generated always as identity primary key, account_id int references accounts(id), total numeric);",
                "insert into regions values (1, 'eu'), (2, 'us');",
                "insert into accounts (region_id, email) select 1 + g % 2, 'User' || g || '@Example.com' from generate_series(1, 300) g;",
                "update accounts set parent_id = id - 1 where id > 1;",
                "insert into orders (account_id, total) select 1 + g % 300, g from generate_series(1, 2000) g;",
                "create view accounts_v as select id, email from accounts;",
                "create schema \"Zäh lung €\"; create table \"Zäh lung €\".\"Tä ble\" (\"Schlüs sel\" int primary key, v text);",
                "insert into \"Zäh lung €\".\"Tä ble\" select g, 'wert ✓ ' || g from generate_series(1, 50) g;"));
        bucket = s3.createBucket("rtable");
        made = TestBackups.create(pg, bucket, "pg-backups", "shop", src, Instant.parse("2026-11-20T02:00:00Z"));
    }

    static Scripts.Run restore(String... args) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    @Test
    void oneTableAloneIntoANewDatabaseIdenticalToTheSource() {
        String db = "rtable_new_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--name", "shop", "--table", "accounts", "--create", "--target-url", pg.url(db), "--json");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("restore: only TABLE public.accounts, with what belongs to it"), run.err());
        assertTrue(run.err().contains("restore: left out: FK CONSTRAINT public.accounts accounts_region_id_fkey (needs public.regions"), run.err());
        assertTrue(run.err().contains("restore: keeping owners and grants: every role the backup names exists on the target"), run.err());
        assertTrue(run.err().contains("only the chosen objects"), run.err());
        String expected = TocSelectionTest.definitionOf(pg, src, "public.accounts")
                .replaceAll("(?m)^ALTER TABLE ONLY public.accounts\\s+ADD CONSTRAINT accounts_region_id_fkey[^;]*;\\n*", "");
        assertTrue(expected.contains("CREATE POLICY own") && expected.contains("CREATE TRIGGER accounts_lower") && expected.contains("accounts_email_idx")
                && expected.contains("GRANT SELECT ON TABLE public.accounts TO \"" + reader + "\"") && expected.contains("OWNER TO " + owner), expected);
        assertEquals(expected, TocSelectionTest.definitionOf(pg, db, "public.accounts"));
        assertEquals(data(src, "accounts"), data(db, "accounts"));
        assertEquals("accounts", pg.sql(db, "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'"));
        JsonNode doc = json(run);
        assertTrue(doc.get("owners").asBoolean() && doc.get("grants").asBoolean());
        assertEquals("TABLE public.accounts", doc.get("only").get(0).asText());
        pg.dropDatabase(db);
    }

    @Test
    void withCleanOverAnExistingDatabaseOnlyThatTableIsReplaced() {
        String db = pg.createDatabase("rtable_clean");
        assertEquals(0, restore("--name", "shop", "--target-url", pg.url(db), "--clean").exit());
        pg.sql(db, "delete from orders; delete from accounts where id > 10; drop index accounts_email_idx; drop policy own on accounts;"
                + " revoke all on accounts from \"" + reader + "\"; insert into regions values (3, 'ap');");

        Scripts.Run refused = restore("--name", "shop", "--table", "accounts", "--table", "accounts_v", "--target-url", pg.url(db));
        assertEquals(Exit.USAGE, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("already has public.accounts, public.accounts_v: pass --clean"), refused.err());
        Scripts.Run view = restore("--name", "shop", "--table", "accounts", "--clean", "--target-url", pg.url(db));
        assertEquals(Exit.USAGE, view.exit(), view.toString());
        assertTrue(view.err().contains("public.accounts_v in the target depends on it: add --table"), view.err());
        assertFalse(view.err().contains("verified"), "refused before the download: " + view.err());

        Scripts.Run run = restore("--name", "shop", "--table", "accounts", "--table", "accounts_v", "--clean", "--target-url", pg.url(db));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(TocSelectionTest.definitionOf(pg, src, "public.accounts"), TocSelectionTest.definitionOf(pg, db, "public.accounts"));
        assertEquals(data(src, "accounts"), data(db, "accounts"));
        assertEquals("0", pg.sql(db, "select count(*) from orders"), "the other tables are not touched");
        assertEquals("3", pg.sql(db, "select count(*) from regions"));
        assertEquals("1", pg.sql(db, "select count(*) from pg_constraint where conname = 'orders_account_id_fkey'"));
        pg.dropDatabase(db);
    }

    @Test
    void aUnicodeSchemaAloneAndTheBackupsContents() throws Exception {
        Scripts.Run list = restore("--name", "shop", "--list-contents");
        assertEquals(0, list.exit(), list.toString());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("TABLE\\s+Zäh lung €\\s+Tä ble\\s+.*")), list.out());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("TABLE\\s+public\\s+accounts\\s+" + owner)), list.out());
        assertFalse(list.out().contains("TABLE DATA"), list.out());
        assertFalse(list.err().contains("verified"), "no download: " + list.err());
        JsonNode doc = Json.MAPPER.readTree(restore("--name", "shop", "--list-contents", "--json").out());
        assertTrue(doc.get("ok").asBoolean() && doc.get("objects").size() > 5, doc.toString());

        String db = "rtable_schema_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--name", "shop", "--schema", "Zäh lung €", "--create", "--target-url", pg.url(db));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(data(src, "\"Zäh lung €\".\"Tä ble\""), data(db, "\"Zäh lung €\".\"Tä ble\""));
        assertEquals("0", pg.sql(db, "select count(*) from pg_tables where schemaname = 'public'"));
        Scripts.Run miss = restore("--name", "shop", "--table", "Accounts", "--create", "--target-url", pg.url(db + "_x"));
        assertEquals(Exit.USAGE, miss.exit(), miss.toString());
        assertTrue(miss.err().contains("no table, view or sequence \"Accounts\" in this backup (did you mean public.accounts,"), miss.err());
        pg.dropDatabase(db);
    }

    @Test
    void ownersAndGrantsKeptWhenTheRolesExistReportedWhenNot() {
        String u = UUID.randomUUID().toString().substring(0, 6);
        String app = "rt_app_" + u, ro = "rt_ro_" + u;
        String own = pg.createDatabase("rtable_roles");
        pg.sql(own, "create role " + app + "; create role " + ro + "; create table t (id int primary key); insert into t values (1), (2);"
                + " alter table t owner to " + app + "; grant select on t to " + ro + ";");
        TestBackups.create(pg, bucket, "pg-backups", "roles", own, Instant.parse("2026-11-21T02:00:00Z"));

        String kept = "rtable_kept_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--name", "roles", "--create", "--target-url", pg.url(kept));
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("keeping owners and grants: every role the backup names exists on the target (" ), run.err());
        assertEquals(app, pg.sql(kept, "select tableowner from pg_tables where tablename = 't'"));
        assertEquals("t", pg.sql(kept, "select has_table_privilege('" + ro + "', 't', 'select')"));

        // The roles gone (another server, say): restored without owners and grants, and said which and how to get them back.
        pg.dropDatabase(kept);
        pg.dropDatabase(own);
        pg.sql("postgres", "drop role " + ro + "; drop role " + app);
        String without = "rtable_without_" + Long.toHexString(System.nanoTime());
        run = restore("--name", "roles", "--create", "--target-url", pg.url(without));
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("restoring WITHOUT owners and grants") && run.err().contains("Roles missing on the target: " + app + ", " + ro)
                && run.err().contains("pg_dumpall --roles-only"), run.err());
        assertTrue(run.err().contains("--no-owner, --no-acl"), run.err());
        assertEquals(pg.user, pg.sql(without, "select tableowner from pg_tables where tablename = 't'"));
        // insisting on them fails in pg_restore, in one transaction: the database created for it is dropped again
        String insist = "rtable_insist_" + Long.toHexString(System.nanoTime());
        run = restore("--name", "roles", "--create", "--owner", "--acl", "--target-url", pg.url(insist));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("roles missing on the target"), run.err());
        pg.dropDatabase(without);
    }

    @Test
    void aNewerPgDumpsArchiveIntoAnOlderServerIsRefusedBeforeAnyDownload() throws Exception {
        int serverMajor = pg.serverMajor();
        int newer = serverMajor + 2;
        // The manifest says which pg_dump wrote it: that is what the refusal reads, before touching the dump.
        Manifest m = made.manifest();
        BackupKey key = new BackupKey("pg-backups", "newer", Instant.parse("2026-11-22T02:00:00Z"));
        Manifest n = new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), "newer", m.database(), m.host(), key.dumpKey(), m.startedAt(),
                m.finishedAt(), m.sizeBytes(), m.sha256(), newer + ".6", m.serverVersion(), m.format(), m.compression(), null, m.tocEntries(),
                m.tables(), m.pgDumpArgs());
        TestBackups.putObject(bucket, key.dumpKey(), made.dump());
        TestBackups.putManifest(bucket, key, n);
        String db = "rtable_newer_" + Long.toHexString(System.nanoTime());
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("any read of the dump fails", FaultProxy.Request::isDumpGet, -1);
            List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                    "--name", "newer", "--create", "--target-url", pg.url(db)));
            Scripts.Run run = Scripts.run(new Restore(), all.toArray(String[]::new));
            assertEquals(Exit.CONFIG, run.exit(), run.toString());
            assertTrue(run.err().contains("the backup was written by pg_dump " + newer + ".6 and the target server is PostgreSQL " + serverMajor)
                    && run.err().contains("Restore into a PostgreSQL " + newer + " or newer server"), run.err());
        }
        assertEquals("0", pg.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'"), "nothing created");
    }

    @Test
    void progressLinesWhileARestoreOfManyTablesRuns() {
        String sample = SampleDatabase.create(pg, "rtable_progress");
        TestBackups.create(pg, bucket, "pg-backups", "progress", sample, Instant.parse("2026-11-23T02:00:00Z"));
        String db = "rtable_progress_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--name", "progress", "--create", "--target-url", pg.url(db));
        assertEquals(0, run.exit(), run.toString());
        List<String> lines = run.err().lines().filter(l -> l.startsWith("restore: pg_restore: ")).toList();
        assertFalse(lines.isEmpty(), run.err());
        String last = lines.get(lines.size() - 1);
        assertTrue(last.matches("restore: pg_restore: (\\d+) of \\1 objects \\(100%\\), [\\d.]+ [KMG]?i?B of [\\d.]+ [KMG]?i?B read, \\d+ s.*"), last);
        assertEquals(SampleDatabase.fingerprints(pg, sample), SampleDatabase.fingerprints(pg, db));
        pg.dropDatabase(db);
        pg.dropDatabase(sample);
    }

    @Test
    void aKeyThatIsNotThereNamesTheBucketThenTheNearestBackups() {
        String db = "rtable_nokey_" + Long.toHexString(System.nanoTime());
        Scripts.Run run = restore("--key", "pg-backups/shop/shop_2026-11-19T02-00-00Z.dump", "--create", "--target-url", pg.url(db));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("no backup pg-backups/shop/shop_2026-11-19T02-00-00Z in s3://" + bucket + "/pg-backups/; nearest complete backups of 'shop': "),
                run.err());
    }

    private static JsonNode json(Scripts.Run run) {
        try {
            return Json.MAPPER.readTree(run.out());
        } catch (Exception e) {
            throw new AssertionError(run.toString(), e);
        }
    }

    static String data(String db, String table) {
        return pg.sql(db, "select count(*) || ':' || md5(string_agg(t::text, '|' order by t::text)) from " + table + " t");
    }
}
