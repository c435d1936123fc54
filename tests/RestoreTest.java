import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * restore.java against a real PostgreSQL and the S3 emulator, with backups written by {@link TestBackups} in
 * the layout backup.java writes: round trips, selection, listing, corrupt and incomplete backups, refusals.
 */
class RestoreTest {
    static PgServer pg;
    static S3Server s3;
    static String sample;   // the sample database of the round-trip tests, created once
    static final List<String> databases = new ArrayList<>();

    static final Instant T1 = Instant.parse("2026-11-20T02:00:00Z");
    static final Instant T2 = Instant.parse("2026-11-21T02:00:00Z");
    static final Instant T3 = Instant.parse("2026-11-22T02:00:00Z");

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
        sample = SampleDatabase.create(pg, "restore_sample");
        databases.add(sample);
    }

    @AfterAll
    static void cleanUp() {
        for (String db : databases) pg.dropDatabase(db);
        assertFalse(Output.all().contains(PgServer.PASSWORD), "the database password appeared in some script output");
    }

    /** restore with the storage options for {@code bucket}, then the given arguments. */
    static Scripts.Run restore(String bucket, String... args) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(args));
        // Subcommand names must come first: move a leading subcommand in front of the storage options.
        if (args.length > 0 && List.of("list", "verify", "drill").contains(args[0])) {
            all.remove(6);
            all.add(0, args[0]);
        }
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static String newDatabaseName(String prefix) {
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        databases.add(name);
        return name;
    }

    static String emptyDatabase(String prefix) {
        String db = pg.createDatabase(prefix);
        databases.add(db);
        return db;
    }

    /** A small database whose table `marker` holds one value, so a restore shows which backup it came from. */
    static String markedDatabase(int marker) {
        String db = emptyDatabase("restore_marked");
        pg.sql(db, "create table marker (v int); insert into marker values (" + marker + ");"
                + " create table items (id int primary key, label text); insert into items select g, 'item ' || g from generate_series(1, 300) g; analyze;");
        return db;
    }

    static String marker(String db) { return pg.sql(db, "select v from marker"); }

    static long userTables(String db) {
        return Long.parseLong(pg.sql(db, "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"));
    }

    // ------------------------------------------------------------------------------------------------ round trips

    @Test
    void restoresTheSampleDatabaseExactlyAlsoWithTwoJobs() throws Exception {
        String bucket = s3.createBucket("restore-rt");
        TestBackups.create(pg, bucket, "pg-backups", "sample", sample, T1);
        Map<String, String> fingerprints = SampleDatabase.fingerprints(pg, sample);
        String schema = SampleDatabase.schema(pg, sample);

        String target = newDatabaseName("restored");
        Scripts.Run run = restore(bucket, "--target-url", pg.url(target), "--create", "--json");
        assertEquals(0, run.exit(), run.toString());
        assertEquals(fingerprints, SampleDatabase.fingerprints(pg, target));
        assertEquals(schema, SampleDatabase.schema(pg, target));
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals("restored", doc.get("outcome").asText());
        assertTrue(doc.get("created").asBoolean());
        assertEquals("pg-backups/sample/sample_2026-11-20T02-00-00Z.dump", doc.get("backup").get("dumpKey").asText());
        assertFalse(run.out().contains(PgServer.PASSWORD) || run.err().contains(PgServer.PASSWORD));

        String parallel = newDatabaseName("restored_j2");
        run = restore(bucket, "--target-url", pg.url(parallel), "--create", "--jobs", "2");
        assertEquals(0, run.exit(), run.toString());
        assertEquals(fingerprints, SampleDatabase.fingerprints(pg, parallel));
        assertEquals(schema, SampleDatabase.schema(pg, parallel));

        String streamed = newDatabaseName("restored_stream");
        run = restore(bucket, "--target-url", pg.url(streamed), "--create", "--stream");
        assertEquals(0, run.exit(), run.toString());
        assertEquals(fingerprints, SampleDatabase.fingerprints(pg, streamed));
    }

    @Test
    void aDroppedDownloadResumesWhereItStopped() throws Exception {
        String bucket = s3.createBucket("restore-resume");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "sample", sample, T1);
        assertTrue(made.dump().length > 600_000, "the sample dump is large enough to be cut twice: " + made.dump().length);
        try (CuttingProxy proxy = new CuttingProxy(s3.endpoint, 250_000, 2)) {
            Scripts.Run run = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION);
            assertEquals(0, run.exit(), run.toString());
            assertEquals(2, run.err().split("resuming", -1).length - 1, "two interruptions, two resumptions: " + run.err());
            assertTrue(proxy.cutsLeft.get() <= 0);
        }
    }

    // ------------------------------------------------------------------------------------------------ selection and listing

    @Test
    void selectsByDefaultAtAndKey() throws Exception {
        String bucket = s3.createBucket("restore-sel");
        TestBackups.create(pg, bucket, "pg-backups", "app", markedDatabase(1), T1);
        TestBackups.Made second = TestBackups.create(pg, bucket, "pg-backups", "app", markedDatabase(2), T2);
        TestBackups.Made third = TestBackups.create(pg, bucket, "pg-backups", "app", markedDatabase(3), T3);
        TestBackups.createIncomplete(pg, bucket, "pg-backups", "app", markedDatabase(4), T3.plusSeconds(86400));

        String latest = emptyDatabase("sel_latest");
        Scripts.Run run = restore(bucket, "--target-url", pg.url(latest));
        assertEquals(0, run.exit(), run.toString());
        assertEquals("3", marker(latest), "the newest complete backup, not the newer incomplete one");
        assertTrue(run.err().contains("incomplete"), run.err());

        String at = emptyDatabase("sel_at");
        run = restore(bucket, "--target-url", pg.url(at), "--at", "2026-11-21T23:59:59Z");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("2", marker(at));

        String atDate = emptyDatabase("sel_date");
        run = restore(bucket, "--target-url", pg.url(atDate), "--at", "2026-11-20");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("1", marker(atDate), "a date means up to the end of that day");

        String atOffset = emptyDatabase("sel_offset");
        run = restore(bucket, "--target-url", pg.url(atOffset), "--at", "2026-11-22T03:59:59+02:00");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("2", marker(atOffset), "01:59:59Z is before the third backup");

        String byKey = emptyDatabase("sel_key");
        run = restore(bucket, "--target-url", pg.url(byKey), "--key", second.manifestKey());
        assertEquals(0, run.exit(), run.toString());
        assertEquals("2", marker(byKey));

        String byDumpKey = emptyDatabase("sel_dumpkey");
        run = restore(bucket, "--target-url", pg.url(byDumpKey), "--key", third.dumpKey(), "--name", "app");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("3", marker(byDumpKey));

        String untouched = emptyDatabase("sel_refused");
        run = restore(bucket, "--target-url", pg.url(untouched), "--at", "2026-11-19T00:00:00Z");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("2026-11-20T02:00:00Z"), "names the nearest candidates: " + run.err());

        run = restore(bucket, "--target-url", pg.url(untouched), "--at", "2999-01-01");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("future"), run.err());
        run = restore(bucket, "--target-url", pg.url(untouched), "--at", "yesterday");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        run = restore(bucket, "--target-url", pg.url(untouched), "--at", "2026-11-21T02:00:00");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("time zone"), run.err());

        run = restore(bucket, "--target-url", pg.url(untouched), "--key", "pg-backups/app/something-else.dump");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        run = restore(bucket, "--target-url", pg.url(untouched), "--key", "pg-backups/app/app_2026-11-21T03-00-00Z.dump");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("2026-11-21T02:00:00Z"), "names the nearest candidates: " + run.err());
        run = restore(bucket, "--target-url", pg.url(untouched), "--key", "pg-backups/app/app_2026-11-23T02-00-00Z.dump");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("no manifest"), run.err());

        TestBackups.create(pg, bucket, "pg-backups", "other", markedDatabase(9), T2);
        run = restore(bucket, "--target-url", pg.url(untouched));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("app, other") && run.err().contains("--name"), run.err());
        run = restore(bucket, "--target-url", pg.url(untouched), "--name", "nope");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("names there: app, other"), run.err());
        assertEquals(0, userTables(untouched), "no refused restore touched the target");
    }

    @Test
    void listsNewestFirstAndShowsIncompleteOnlyWithAll() throws Exception {
        String bucket = s3.createBucket("restore-list");
        String db = markedDatabase(1);
        TestBackups.create(pg, bucket, "pg-backups", "app", db, T1);
        TestBackups.create(pg, bucket, "pg-backups", "app", db, T3);
        TestBackups.create(pg, bucket, "pg-backups", "billing", db, T2);
        BackupKey incomplete = TestBackups.createIncomplete(pg, bucket, "pg-backups", "app", db, T3.plusSeconds(3600));
        TestBackups.putObject(bucket, "pg-backups/app/notes.txt", "not ours".getBytes(StandardCharsets.UTF_8));

        Scripts.Run run = restore(bucket, "list");
        assertEquals(0, run.exit(), run.toString());
        List<String> lines = run.out().lines().toList();
        assertEquals(4, lines.size(), run.out());
        assertTrue(lines.get(0).startsWith("STARTED"), run.out());
        assertTrue(lines.get(1).startsWith("2026-11-22T02:00:00Z  app "), run.out());
        assertTrue(lines.get(2).startsWith("2026-11-21T02:00:00Z  billing "), run.out());
        assertTrue(lines.get(3).startsWith("2026-11-20T02:00:00Z  app "), run.out());
        assertFalse(run.out().contains("INCOMPLETE") || run.out().contains("notes.txt"), run.out());
        assertTrue(run.err().contains("1 incomplete not shown"), run.err());

        run = restore(bucket, "list", "--all");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().lines().toList().get(1).contains("INCOMPLETE") && run.out().contains(incomplete.dumpKey()), run.out());

        // Options typed before the subcommand count too; an option of the restore action is refused.
        run = Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "list", "--name", "billing", "--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals(1, doc.get("backups").size());
        assertEquals("billing", doc.get("backups").get(0).get("name").asText());
        assertFalse(doc.get("backups").get(0).get("verified").asBoolean());
        run = Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--jobs", "2", "list");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("--jobs"), run.err());

        run = restore(bucket, "list", "--json", "--all");
        doc = Json.MAPPER.readTree(run.out());
        List<String> order = new ArrayList<>();
        for (JsonNode b : doc.get("backups")) order.add(b.get("startedAt").asText() + " " + b.get("name").asText() + " " + b.get("complete").asBoolean());
        assertEquals(List.of("2026-11-22T03:00:00Z app false", "2026-11-22T02:00:00Z app true", "2026-11-21T02:00:00Z billing true",
                "2026-11-20T02:00:00Z app true"), order);
        assertTrue(TestBackups.getObject(bucket, "pg-backups/app/notes.txt").length > 0, "foreign objects are left alone");
    }

    // ------------------------------------------------------------------------------------------------ bad backups

    @Test
    void aCorruptDumpFailsVerifyAndRestoreWithoutTouchingTheTarget() throws Exception {
        String bucket = s3.createBucket("restore-corrupt");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", markedDatabase(1), T1);
        Scripts.Run run = restore(bucket, "verify");
        assertEquals(0, run.exit(), "a good backup verifies: " + run);

        TestBackups.flipByte(bucket, made.dumpKey(), made.dump().length / 2);
        run = restore(bucket, "verify");
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("checksum mismatch"), run.err());

        String target = emptyDatabase("corrupt_target");
        pg.sql(target, "create function public.canary() returns int language sql as 'select 1'");
        run = restore(bucket, "--target-url", pg.url(target));
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("checksum mismatch"), run.err());
        run = restore(bucket, "--target-url", pg.url(target), "--stream");
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertEquals(0, userTables(target), "the target is untouched");
        assertEquals("1", pg.sql(target, "select public.canary()"));

        String notCreated = newDatabaseName("corrupt_create");
        run = restore(bucket, "--target-url", pg.url(notCreated), "--create");
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertEquals("0", pg.sql("postgres", "select count(*) from pg_database where datname = '" + notCreated + "'"),
                "--create creates nothing for a backup that fails its check");
    }

    @Test
    void streamingStopsBeforeCommitWhenOnlyTheChecksumCanTell() throws Exception {
        String bucket = s3.createBucket("restore-stream");
        String db = emptyDatabase("restore_plain");
        pg.sql(db, "create table words (id int primary key, w text); insert into words select g, 'word-' || lpad(g::text, 6, '0') from generate_series(1, 20000) g; analyze;");
        // Uncompressed: changing one value keeps the archive perfectly readable, so only the checksum can tell.
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "plain", db, T1, "-Z0");
        TestBackups.replaceBytes(bucket, made.dumpKey(), "word-012345", "WORD-012345");
        byte[] altered = TestBackups.getObject(bucket, made.dumpKey());
        assertEquals(made.manifest().tocEntries(), TestBackups.tocEntries(pg, altered), "the altered archive still reads fine");

        String target = emptyDatabase("stream_target");
        Scripts.Run run = restore(bucket, "--target-url", pg.url(target), "--stream");
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
        assertTrue(run.err().contains("checksum mismatch") && run.err().contains("nothing from this backup was committed"), run.err());
        assertEquals(0, userTables(target), "pg_restore was stopped before its transaction committed");

        run = restore(bucket, "verify");
        assertEquals(Exit.DATA_INVALID, run.exit(), run.toString());
    }

    @Test
    void pgRestoreCannotFinishWhileTheTailIsHeldBack() throws Exception {
        // The mechanism behind --stream's promise: fed everything but the held-back tail, pg_restore (one
        // transaction) waits for more input, alive and with nothing committed; given the tail, it completes.
        String db = emptyDatabase("restore_hold");
        pg.sql(db, "create table words (id int primary key, w text); insert into words select g, 'word-' || lpad(g::text, 6, '0') from generate_series(1, 20000) g;");
        byte[] dump = TestBackups.dump(pg, db, "-Z0");
        String target = emptyDatabase("hold_target");
        ConnInfo conn = pg.conn(target);
        List<String> cmd = PgRestoreRun.command(pg.tool("pg_restore"), conn, new PgRestoreRun.Options(false, 1, true, true, true), null);
        try (PgTools.Streaming p = PgTools.start(cmd, conn.childEnvironment())) {
            HoldBackStream held = new HoldBackStream(p.stdin(), HoldBackStream.TAIL);
            held.write(dump, 0, dump.length);
            held.flush();
            String waiting = "select count(*) from pg_stat_activity where datname = '" + target + "' and wait_event = 'ClientRead' and state = 'active'";
            while (p.process().isAlive() && !pg.sql("postgres", waiting).equals("1")) Thread.sleep(20);
            assertTrue(p.process().isAlive(), "pg_restore finished without the last bytes: " + p.stderr());
            assertEquals(0, userTables(target), "nothing is committed while the tail is held back");
            held.release();
            held.close();
            assertEquals(0, p.waitFor(), p.stderr());
        }
        assertEquals("20000", pg.sql(target, "select count(*) from words"));
    }

    @Test
    void aBackupWithoutManifestIsNeverRestored() {
        String bucket = s3.createBucket("restore-nomanifest");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", markedDatabase(1), T1);
        TestBackups.deleteObject(bucket, made.manifestKey());
        String target = emptyDatabase("nomanifest_target");
        Scripts.Run run = restore(bucket, "--target-url", pg.url(target));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("no backups under") && run.err().contains("incomplete"), run.err());
        run = restore(bucket, "--target-url", pg.url(target), "--key", made.dumpKey());
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("has no manifest"), run.err());
        run = restore(bucket, "verify", "--key", made.dumpKey());
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertEquals(0, userTables(target));
    }

    // ------------------------------------------------------------------------------------------------ refusals

    @Test
    void refusesNonEmptyTargetsAndTheSourceItself() {
        String bucket = s3.createBucket("restore-refuse");
        String source = markedDatabase(7);
        TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);

        Scripts.Run run = restore(bucket, "--target-url", pg.url(source));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("came from"), run.err());

        String busy = emptyDatabase("busy_target");
        pg.sql(busy, "create table keep_me (x int); insert into keep_me values (42)");
        run = restore(bucket, "--target-url", pg.url(busy));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("not empty") && run.err().contains("public.keep_me") && run.err().contains("--clean"), run.err());
        assertEquals("42", pg.sql(busy, "select x from keep_me"));
        assertEquals(1, userTables(busy));

        // --clean replaces the backup's objects (and leaves others alone).
        pg.sql(busy, "create table marker (v int); insert into marker values (99)");
        run = restore(bucket, "--target-url", pg.url(busy), "--clean");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("7", marker(busy));
        assertEquals("42", pg.sql(busy, "select x from keep_me"));

        String missing = newDatabaseName("missing_target");
        run = restore(bucket, "--target-url", pg.url(missing));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("--create"), run.err());

        run = restore(bucket, "--target-url", pg.url(missing), "--stream", "--jobs", "2");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        run = Scripts.run(new Restore(), "--bucket", bucket, "--endpoint-url", s3.endpoint);
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("--target-url"), run.err());
    }

    @Test
    void aFailingPgRestoreFailsTheRestoreAndRollsBack() {
        String bucket = s3.createBucket("restore-pgfail");
        String source = emptyDatabase("restore_ext");
        pg.sql(source, "create table a (x int); insert into a values (1); create table z (y int); insert into z values (2);");
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        String target = emptyDatabase("pgfail_target");
        // A type with the name of a table in the backup: pg_restore's CREATE TABLE z fails.
        pg.sql(target, "create type z as (q int)");
        Scripts.Run run = restore(bucket, "--target-url", pg.url(target));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("pg_restore failed") && run.err().contains("nothing was committed"), run.err());
        assertEquals(0, userTables(target), "one transaction: table a was rolled back too");
        assertNotNull(made);
    }

    // ------------------------------------------------------------------------------------------------ pieces

    /** The host comparison behind the identity check, where no system identifier can be read: names, addresses, ports, Neon. */
    @Test
    void theSourceIsRecognisedWhateverTheSpelling() {
        Manifest m = TestBackups.withSource(ManifestTest.sample(), "EP-Cool-123-pooler.eu-central-1.aws.neon.tech", "neondb");
        ServerIdentity neondb = new ServerIdentity(null, null, "neondb", null, null);
        assertNotNull(ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u:p@ep-cool-123.eu-central-1.aws.neon.tech/neondb?sslmode=require"), neondb));
        assertEquals(null, ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u:p@ep-cool-123.eu-central-1.aws.neon.tech/neondb_restored"),
                new ServerIdentity(null, null, "neondb_restored", null, null)));
        assertEquals(null, ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u:p@ep-other-9.eu-central-1.aws.neon.tech/neondb"), neondb),
                "every Neon endpoint resolves to the region's proxy: the name is the identity there");
        Manifest local = TestBackups.withSource(m, "127.0.0.1:5432", "app");
        ServerIdentity app = new ServerIdentity(null, null, "app", null, null);
        assertNotNull(ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@127.0.0.1/app"), app));
        assertNotNull(ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@db1.invalid:5432,127.0.0.1:5432/app"), app));
        assertNotNull(ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@localhost/app"), app), "localhost is 127.0.0.1");
        assertNotNull(ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@[::1]:5432/app"), app), "so is ::1");
        assertNotNull(ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@elsewhere.invalid/app"),
                new ServerIdentity(null, null, "app", "127.0.0.1", 5432)), "the address the server answered on counts too");
        assertEquals(null, ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@127.0.0.1:5433/app"), app));
        assertEquals(null, ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@localhost/app2"), new ServerIdentity(null, null, "app2", null, null)));
        assertEquals(null, ServerIdentity.sameAsSource(local, ConnInfo.parse("postgresql://u@db.invalid/app"), app));
    }

    /** Same server by system identifier: a renamed database is still the source (its OID), another server is not, whatever its name. */
    @Test
    void theSourceIsRecognisedByItsIdentity() {
        Manifest m = withIdentity(ManifestTest.sample(), new Manifest.Source("db-old.invalid", 5432, "app", "7001", 16384L));
        ConnInfo url = ConnInfo.parse("postgresql://u@db-new.invalid/app");
        assertNotNull(ServerIdentity.sameAsSource(m, url, new ServerIdentity("7001", 16384L, "app", "10.0.0.9", 5432)), "the DNS name moved");
        assertNotNull(ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u@db-new.invalid/app_old"),
                new ServerIdentity("7001", 16384L, "app_old", null, null)), "renamed: the same OID");
        assertEquals(null, ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u@db-old.invalid/app"),
                new ServerIdentity("9999", 16384L, "app", null, null)), "another cluster behind the old name");
        assertEquals(null, ServerIdentity.sameAsSource(m, ConnInfo.parse("postgresql://u@db-old.invalid/app_restored"),
                new ServerIdentity("7001", 16999L, "app_restored", null, null)), "a new database next to the source");
    }

    static Manifest withIdentity(Manifest m, Manifest.Source source) {
        return new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), source.database(), source.host(), m.dumpKey(), m.startedAt(),
                m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(), m.encryption(),
                m.tocEntries(), m.tables(), m.pgDumpArgs(), source);
    }

    /**
     * restore --clean into the source reached as localhost (the backup says 127.0.0.1): refused, and the rows written
     * after the backup are still there. The same through a manifest whose source names another host but this server's
     * system identifier; a manifest naming this host with another server's identifier is not the source.
     */
    @Test
    void neverRestoresOverTheSourceWhateverTheURLSays() {
        String bucket = s3.createBucket("restore-identity");
        String source = markedDatabase(5);
        TestBackups.Made made = TestBackups.create(pg, bucket, "pg-backups", "app", source, T1);
        assertEquals("127.0.0.1:" + pg.port, made.manifest().host());
        pg.sql(source, "insert into items values (301, 'written after the backup')");
        String viaLocalhost = pg.url(source).replace("@127.0.0.1:", "@localhost:");

        Scripts.Run run = restore(bucket, "--target-url", viaLocalhost, "--clean");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("the target is the database this backup came from") && run.err().contains("the same server"), run.err());
        assertEquals("301", pg.sql(source, "select count(*) from items"), "nothing was restored over the source");

        String sid = pg.sql(source, "select system_identifier from pg_control_system()");
        long oid = Long.parseLong(pg.sql(source, "select oid from pg_database where datname = current_database()"));
        TestBackups.putManifest(bucket, made.key(), withIdentity(made.manifest(), new Manifest.Source("db-that-moved.invalid", 5432, source, sid, oid)));
        run = restore(bucket, "--target-url", pg.url(source), "--clean");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("system identifier " + sid), run.err());
        assertEquals("301", pg.sql(source, "select count(*) from items"));

        // The URL's host is the manifest's, but the server there is another cluster: not the source, --clean may replace the tables.
        TestBackups.putManifest(bucket, made.key(), withIdentity(made.manifest(), new Manifest.Source("127.0.0.1", pg.port, source, "1" + sid, oid)));
        run = restore(bucket, "--target-url", pg.url(source), "--clean");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("300", pg.sql(source, "select count(*) from items"));
    }

    /** Every --json document of restore and its subcommands starts with lib/JsonDocument's envelope: ok, then exitCode. */
    @Test
    void jsonDocumentsStartWithOkAndExitCode() throws Exception {
        String bucket = s3.createBucket("restore-envelope");
        TestBackups.create(pg, bucket, "pg-backups", "marked", markedDatabase(7), T1);
        Path key = tempFile();
        List<Scripts.Run> runs = List.of(
                restore(bucket, "--target-url", pg.url(newDatabaseName("envelope")), "--create", "--json"),
                restore(bucket, "list", "--json"),
                restore(bucket, "verify", "--json"),
                Scripts.run(new Restore(), "keygen", "--output", key.toString(), "--json"));
        for (Scripts.Run run : runs) {
            assertEquals(0, run.exit(), run.toString());
            List<String> fields = new ArrayList<>();
            Json.MAPPER.readTree(run.out()).fieldNames().forEachRemaining(fields::add);
            assertEquals(List.of("ok", "exitCode"), fields.subList(0, 2), run.out());
            assertTrue(Json.MAPPER.readTree(run.out()).get("ok").asBoolean(), run.out());
        }
        Files.deleteIfExists(key);
        Scripts.Run failed = restore(bucket, "verify", "--json", "--name", "nothing-here");
        assertEquals(Exit.FAILED, failed.exit(), failed.toString());
        JsonNode doc = Json.MAPPER.readTree(failed.out());
        assertFalse(doc.get("ok").asBoolean());
        assertEquals(Exit.FAILED, doc.get("exitCode").asInt());
    }

    /** Shell completion comes from picocli's generate-completion subcommand and knows the subcommands and their options. */
    @Test
    void generateCompletionPrintsAScriptForEverySubcommand() {
        Scripts.Run run = Scripts.run(new Restore(), "generate-completion");
        assertEquals(0, run.exit(), run.toString());
        for (String word : List.of("list", "verify", "drill", "keygen", "--target-url", "--scratch-url", "--identity")) {
            assertTrue(run.out().contains(word), word + " missing from the completion script");
        }
    }

    @Test
    void pgRestoreGetsNoPasswordInItsArguments() {
        ConnInfo target = pg.conn("anything");
        List<String> cmd = PgRestoreRun.command(pg.tool("pg_restore"), target, new PgRestoreRun.Options(true, 1, true, true, true), Path.of("/tmp/x.dump"));
        assertFalse(String.join(" ", cmd).contains(ConnInfo.encode(PgServer.PASSWORD)) || String.join(" ", cmd).contains(PgServer.PASSWORD), cmd.toString());
        assertTrue(cmd.containsAll(List.of("--exit-on-error", "--single-transaction", "--no-owner", "--no-acl", "--clean", "--if-exists")), cmd.toString());
        assertEquals(PgServer.PASSWORD, target.childEnvironment().get("PGPASSWORD"));
    }

    static Path tempFile() throws Exception {
        Path p = Files.createTempFile("restore-test", ".dump");
        Files.delete(p);
        return p;
    }
}
