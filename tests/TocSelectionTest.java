import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One table (or schema) out of a real archive, with what belongs to it: ArchiveToc reads pg_dump's TOC exactly
 * (unicode names with spaces, dependencies), TocSelection builds the pg_restore list, and pg_restore -L with it
 * gives a table identical to the source's (definition compared with pg_dump --schema-only, data by checksum).
 */
class TocSelectionTest {
    static PgServer pg;
    static String src;
    static byte[] dump;
    static Path archive;
    static String owner, reader, policyRole;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PgServer.get();
        String u = UUID.randomUUID().toString().substring(0, 6);
        owner = "ts_owner_" + u;
        reader = "ts Lesër " + u; // a role name that needs quoting
        policyRole = "ts_pol_" + u;
        src = pg.createDatabase("tocsel");
        pg.sql(src, String.join("\n",
                "create role " + owner + "; create role \"" + reader + "\"; create role " + policyRole + ";",
                "create table regions (id int primary key, name text);",
                "create table accounts (id serial primary key, region_id int references regions(id), parent_id int references accounts(id),",
                "  email text not null check (email like '%@%'), note text);",
                "create index accounts_email_idx on accounts (email);",
                "alter table accounts enable row level security;",
                "create policy own on accounts for select to " + policyRole + " using (id > 0);",
                "create function lower_email() returns trigger language plpgsql as $$ begin new.email := lower(new.email); return new; end $$;",
                "create trigger accounts_lower before insert on accounts for each row execute function lower_email();",
                "comment on table accounts is 'the accounts'; comment on column accounts.email is 'where we write';",
                "grant select on accounts to \"" + reader + "\"; grant usage on sequence accounts_id_seq to \"" + reader + "\";",
                "alter table accounts owner to " + owner + ";",
                "create table orders (id bigint generated always as identity primary key, account_id int references accounts(id));",
                "insert into regions values (1, 'eu'), (2, 'us');",
                "insert into accounts (region_id, email) select 1 + g % 2, 'User' || g || '@Example.com' from generate_series(1, 300) g;",
                "update accounts set parent_id = id - 1 where id > 1;",
                "insert into orders (account_id) select 1 + g % 300 from generate_series(1, 500) g;",
                "create view accounts_v as select id, email from accounts;",
                "create schema \"Zäh lung €\"; create table \"Zäh lung €\".\"Tä ble\" (\"Schlüs sel\" int primary key, v text);",
                "insert into \"Zäh lung €\".\"Tä ble\" select g, 'wert ✓ ' || g from generate_series(1, 50) g;",
                "create sequence \"Zäh lung €\".nummer start 100; select setval('\"Zäh lung €\".nummer', 4242);"));
        dump = TestBackups.dump(pg, src);
        archive = Files.createTempFile("tocsel", ".dump");
        Files.write(archive, dump);
    }

    @Test
    void readsTheTocExactlyAsPgRestoreListsIt() {
        ArchiveToc toc = ArchiveToc.read(new ByteArrayInputStream(dump));
        // the same entries pg_restore --list shows (its count is what backup records in the manifest)
        PgTools.Result list = PgTools.run(List.of(pg.tool("pg_restore").path().toString(), "--list", archive.toString()), java.util.Map.of(), null, 60);
        java.util.regex.Matcher count = java.util.regex.Pattern.compile(";\\s+TOC Entries: (\\d+)").matcher(list.stdout());
        assertTrue(count.find(), list.stdout());
        assertEquals(Integer.parseInt(count.group(1)), toc.entries.size());
        Set<Integer> listed = new java.util.TreeSet<>();
        for (String line : list.stdout().split("\n")) if (TocEntries.isEntry(line)) listed.add(Integer.parseInt(line.substring(0, line.indexOf(';'))));
        Set<Integer> read = new java.util.TreeSet<>();
        toc.entries.forEach(e -> read.add(e.dumpId()));
        assertTrue(read.containsAll(listed), "every entry pg_restore lists: " + listed + " vs " + read);
        assertEquals(src, toc.database);
        assertTrue(toc.pgDumpMajor() >= 14, toc.pgDumpVersion);
        ArchiveToc.Entry t = toc.entries.stream().filter(e -> e.desc().equals("TABLE") && e.tag().equals("Tä ble")).findFirst().orElseThrow();
        assertEquals("Zäh lung €", t.namespace()); // spaces and unicode: exact, which pg_restore --list's line cannot say
        ArchiveToc.Entry acl = toc.entries.stream().filter(e -> e.desc().equals("ACL") && e.tag().equals("TABLE accounts")).findFirst().orElseThrow();
        assertEquals(owner, acl.owner());
        ArchiveToc.Entry accounts = toc.entries.stream().filter(e -> e.desc().equals("TABLE") && e.tag().equals("accounts")).findFirst().orElseThrow();
        assertTrue(acl.deps().contains(accounts.dumpId()), "the grant depends on its table");
        // only the TOC is read: the first bytes are enough
        byte[] head = java.util.Arrays.copyOf(dump, Math.min(dump.length, 64 * 1024));
        assertEquals(toc.entries.size(), ArchiveToc.read(new ByteArrayInputStream(head)).entries.size());
        Failure notArchive = assertThrows(Failure.class, () -> ArchiveToc.read(new ByteArrayInputStream("hello".getBytes(StandardCharsets.UTF_8))));
        assertEquals(Exit.DATA_INVALID, notArchive.exitCode);
        Failure cut = assertThrows(Failure.class, () -> ArchiveToc.read(new ByteArrayInputStream(java.util.Arrays.copyOf(dump, 200))));
        assertEquals(Exit.DATA_INVALID, cut.exitCode);
    }

    @Test
    void oneTableIntoANewDatabaseKeepsEverythingThatIsPartOfIt() throws Exception {
        ArchiveToc toc = ArchiveToc.read(archive);
        TocSelection.Result sel = TocSelection.choose(toc, List.of("accounts"), List.of(), false);
        Set<String> kinds = new java.util.TreeSet<>();
        sel.entries().forEach(e -> kinds.add(e.desc()));
        for (String k : List.of("TABLE", "TABLE DATA", "CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT", "INDEX", "TRIGGER", "ROW SECURITY", "POLICY",
                "COMMENT", "ACL", "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET", "DEFAULT", "FUNCTION")) {
            if (k.equals("CHECK CONSTRAINT")) continue; // a check written inline is part of the table's CREATE
            assertTrue(kinds.contains(k), k + " missing from " + kinds);
        }
        assertTrue(sel.entries().stream().noneMatch(e -> e.tag().equals("orders") || e.tag().equals("regions") || e.tag().equals("accounts_v")),
                "other tables and views are not restored");
        // the foreign key to regions cannot exist without regions: left out, and said
        assertTrue(sel.leftOut().stream().anyMatch(l -> l.contains("accounts_region_id_fkey") && l.contains("public.regions")), sel.leftOut().toString());
        assertTrue(sel.leftOut().stream().anyMatch(l -> l.contains("orders_account_id_fkey")), sel.leftOut().toString());

        String db = pg.createDatabase("tocsel_new");
        restore(db, sel, true);
        String expected = definition(src, "public.accounts").replaceAll("(?m)^ALTER TABLE ONLY public.accounts\\s+ADD CONSTRAINT accounts_region_id_fkey[^;]*;\\n*", "");
        assertTrue(expected.contains("accounts_parent_id_fkey") && expected.contains("CREATE POLICY") && expected.contains("GRANT SELECT"), expected);
        assertFalse(expected.contains("accounts_region_id_fkey"));
        assertEquals(expected, definition(db, "public.accounts"));
        assertEquals(data(src, "accounts"), data(db, "accounts"));
        assertEquals(pg.sql(src, "select last_value from accounts_id_seq"), pg.sql(db, "select last_value from accounts_id_seq"));
        assertEquals(owner, pg.sql(db, "select tableowner from pg_tables where tablename = 'accounts'"));
        assertEquals("t", pg.sql(db, "select relrowsecurity from pg_class where relname = 'accounts'"));
        assertEquals("", pg.sql(db, "select string_agg(tablename, ',') from pg_tables where schemaname = 'public' and tablename <> 'accounts'"));
    }

    @Test
    void withCleanOverAnExistingDatabaseTheTableIsReplacedWhole() throws Exception {
        String db = pg.createDatabase("tocsel_clean");
        restoreAll(db);
        pg.sql(db, "delete from orders; delete from accounts where id > 10; drop index accounts_email_idx; drop policy own on accounts;"
                + " revoke all on accounts from \"" + reader + "\"; insert into regions values (3, 'ap');");
        ArchiveToc toc = ArchiveToc.read(archive);
        TocSelection.Result alone = TocSelection.choose(toc, List.of("public.accounts"), List.of(), true);
        assertEquals(List.of("public.accounts_v"), alone.dependents()); // --clean cannot drop the table under it: restore says so
        Failure noClean = assertThrows(Failure.class, () -> SelectiveTarget.refuse(pg.psql(), pg.conn(db), alone, toc, false));
        assertTrue(noClean.getMessage().contains("already has public.accounts") && noClean.getMessage().contains("--clean"), noClean.getMessage());
        Failure view = assertThrows(Failure.class, () -> SelectiveTarget.refuse(pg.psql(), pg.conn(db), alone, toc, true));
        assertTrue(view.getMessage().contains("public.accounts_v") && view.getMessage().contains("add --table"), view.getMessage());
        TocSelection.Result sel = TocSelection.choose(toc, List.of("public.accounts", "accounts_v"), List.of(), true);
        SelectiveTarget.refuse(pg.psql(), pg.conn(db), sel, toc, true); // with the view chosen too: nothing stands in the way
        assertTrue(sel.leftOut().isEmpty(), sel.leftOut().toString());
        assertTrue(sel.dependents().isEmpty(), sel.dependents().toString());
        restore(db, sel, true, "--clean", "--if-exists");
        assertEquals(definition(src, "public.accounts"), definition(db, "public.accounts"));
        assertEquals(data(src, "accounts"), data(db, "accounts"));
        // only that table: the other tables keep what they hold now
        assertEquals("0", pg.sql(db, "select count(*) from orders"));
        assertEquals("3", pg.sql(db, "select count(*) from regions"));
        assertEquals("1", pg.sql(db, "select count(*) from pg_constraint where conname = 'orders_account_id_fkey'"));
    }

    @Test
    void aUnicodeSchemaAloneWithItsSequenceValue() throws Exception {
        ArchiveToc toc = ArchiveToc.read(archive);
        TocSelection.Result sel = TocSelection.choose(toc, List.of(), List.of("Zäh lung €"), false);
        String db = pg.createDatabase("tocsel_schema");
        SelectiveTarget.refuse(pg.psql(), pg.conn(db), sel, toc, false); // nothing there yet
        restore(db, sel, true);
        Failure again = assertThrows(Failure.class, () -> SelectiveTarget.refuse(pg.psql(), pg.conn(db), sel, toc, false));
        assertTrue(again.getMessage().contains("Zäh lung €.Tä ble"), again.getMessage());
        assertEquals(pg.sql(src, "select md5(string_agg(t::text, '|' order by 1)) from \"Zäh lung €\".\"Tä ble\" t"),
                pg.sql(db, "select md5(string_agg(t::text, '|' order by 1)) from \"Zäh lung €\".\"Tä ble\" t"));
        assertEquals("4242", pg.sql(db, "select last_value from \"Zäh lung €\".nummer"));
        assertEquals("1", pg.sql(db, "select count(*) from pg_constraint where conname = 'Tä ble_pkey'"));
        assertEquals("0", pg.sql(db, "select count(*) from pg_tables where schemaname = 'public'"));
        // a qualified name with quotes finds the same table
        assertEquals(1, TocSelection.matchRelation(toc, "\"Zäh lung €\".\"Tä ble\"").size());
    }

    @Test
    void namesAreExactAndAMissOffersTheCloseOnes() {
        ArchiveToc toc = ArchiveToc.read(archive);
        Failure f = assertThrows(Failure.class, () -> TocSelection.choose(toc, List.of("Accounts"), List.of(), false));
        assertEquals(Exit.USAGE, f.exitCode);
        assertTrue(f.getMessage().contains("no table, view or sequence \"Accounts\"") && f.getMessage().contains("public.accounts"), f.getMessage());
        Failure s = assertThrows(Failure.class, () -> TocSelection.choose(toc, List.of(), List.of("zäh lung €"), false));
        assertTrue(s.getMessage().contains("Zäh lung €"), s.getMessage());
        assertArrayEquals(new String[] {"a.b", "c"}, TocSelection.splitQualified("\"a.b\".c"));
        assertArrayEquals(new String[] {"public", "x\"y"}, TocSelection.splitQualified("public.\"x\"\"y\""));
        assertNull(TocSelection.splitQualified("accounts"));
    }

    @Test
    void rolesTheArchiveNamesAndTheDecision() {
        ArchiveToc toc = ArchiveToc.read(archive);
        ArchiveRoles roles = ArchiveRoles.of(toc.entries);
        assertTrue(roles.owners.contains(owner), roles.owners.toString());
        assertTrue(roles.grantees.contains(reader), roles.grantees.toString());
        assertTrue(roles.policyRoles.contains(policyRole), roles.policyRoles.toString());
        assertFalse(roles.grantees.contains("public"));

        ArchiveRoles.TargetRoles here = ArchiveRoles.target(pg.psql(), pg.conn(src));
        ArchiveRoles.Decision keep = roles.decide(here, null, null);
        assertTrue(keep.keepOwners() && keep.keepAcl(), keep.message());
        assertTrue(keep.message().startsWith("keeping owners and grants"), keep.message());

        Set<String> without = new java.util.TreeSet<>(here.existing());
        without.remove(reader);
        ArchiveRoles.Decision not = roles.decide(without, Set.of(), true, null, null);
        assertFalse(not.keepOwners() || not.keepAcl());
        assertTrue(not.message().contains("WITHOUT owners and grants") && not.message().contains(reader) && not.message().contains("pg_dumpall --roles-only"),
                not.message());
        // a user who is neither superuser nor member of the owner cannot give objects to it
        ArchiveRoles.Decision member = roles.decide(here.existing(), Set.of(), false, null, null);
        assertFalse(member.keepOwners());
        assertTrue(member.message().contains(owner), member.message());
        // said explicitly, the operator's word stands
        assertTrue(roles.decide(without, Set.of(), true, true, true).keepAcl());
        assertEquals(List.of("app", "Weird \"Role\"", "x y"), ArchiveRoles.roleList(" app, \"Weird \"\"Role\"\"\", PUBLIC, \"x y\", CURRENT_USER"));
    }

    // ---------------------------------------------------------------------------------------------------------

    private static void restore(String db, TocSelection.Result sel, boolean keepOwnersAndAcl, String... extra) throws Exception {
        Path list = Files.createTempFile("tocsel", ".list");
        Files.writeString(list, sel.listFile());
        PgTools.Tool pgRestore = pg.tool("pg_restore");
        List<String> cmd = new ArrayList<>(List.of(pgRestore.path().toString(), "--exit-on-error", "--single-transaction", "-L", list.toString(),
                "-d", pg.conn(db).withoutPassword()));
        if (!keepOwnersAndAcl) cmd.addAll(List.of("--no-owner", "--no-acl"));
        cmd.addAll(List.of(extra));
        cmd.add(archive.toString());
        PgTools.Result r = PgTools.run(cmd, pg.conn(db).childEnvironment(), null, 300);
        assertEquals(0, r.exitCode(), r.stderr() + "\n" + sel.listFile());
    }

    private static void restoreAll(String db) {
        PgTools.Tool pgRestore = pg.tool("pg_restore");
        PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--exit-on-error", "--single-transaction", "-d", pg.conn(db).withoutPassword(),
                archive.toString()), pg.conn(db).childEnvironment(), null, 300);
        assertEquals(0, r.exitCode(), r.stderr());
    }

    /** pg_dump --schema-only of one table (with its owner, grants, policies, owned sequence), comments and restrict keys dropped. */
    static String definition(String db, String table) { return definitionOf(pg, db, table); }

    static String definitionOf(PgServer pg, String db, String table) {
        PgTools.Tool pgDump = pg.tool("pg_dump");
        ConnInfo c = pg.conn(db);
        PgTools.Result r = PgTools.run(List.of(pgDump.path().toString(), "--schema-only", "-t", table, "-d", c.withoutPassword()), c.childEnvironment(), null, 120);
        assertEquals(0, r.exitCode(), r.stderr());
        StringBuilder b = new StringBuilder();
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("\\restrict ") || line.startsWith("\\unrestrict ") || line.startsWith("--")) continue;
            b.append(line).append('\n');
        }
        return b.toString().replaceAll("\n{3,}", "\n\n");
    }

    static String data(String db, String table) {
        return pg.sql(db, "select count(*) || ':' || md5(string_agg(t::text, '|' order by t::text)) from " + table + " t");
    }
}
