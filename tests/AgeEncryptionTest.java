import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client-side encryption with age (issue 10), end to end with the real PostgreSQL, the S3 emulator and the
 * age CLI (Debian package `age`, which .ci/run installs): backup --encrypt-to stores a standard age file that
 * restore --identity (and the age CLI) decrypt; a file the age CLI encrypted restores too; a wrong key or a
 * flipped ciphertext byte is exit 65 with the target untouched; either of two recipients restores; the private
 * key is never in any output, any child's argv or any child's environment.
 */
class AgeEncryptionTest {
    static PgServer pg;
    static S3Server s3;
    static Path dir;
    static Key key1;
    static Key key2;
    static Key stranger;
    static final List<String> databases = new ArrayList<>();

    /** A key pair made by `restore keygen`: the file, its private key line, its public key. */
    record Key(Path file, String identity, String recipient) {}

    @BeforeAll
    static void start() throws Exception {
        pg = PgServer.get();
        s3 = S3Server.get();
        assertNotNull(PgTools.which("age", System.getenv("PATH")), "the age CLI is needed (Debian package age: apt-get install -y age; .ci/run installs it)");
        dir = Files.createTempDirectory("age-test");
        key1 = keygen("key1.txt");
        key2 = keygen("key2.txt");
        stranger = keygen("stranger.txt");
    }

    @AfterAll
    static void cleanUp() {
        for (String db : databases) pg.dropDatabase(db);
        PgServer.deleteTree(dir);
        for (Key k : List.of(key1, key2, stranger)) {
            assertFalse(Output.all().contains(k.identity()), "a private key appeared in some script output");
        }
    }

    static Key keygen(String name) throws Exception {
        Path file = dir.resolve(name);
        Scripts.Run run = Scripts.run(new Restore(), "keygen", "--output", file.toString());
        assertEquals(0, run.exit(), run.toString());
        String recipient = run.out().strip();
        assertTrue(recipient.matches("age1[02-9ac-hj-np-z]{58}"), run.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String identity = Files.readAllLines(file).stream().filter(l -> l.startsWith("AGE-SECRET-KEY-1")).findFirst().orElseThrow();
        assertFalse(run.out().contains(identity) || run.err().contains(identity));
        // The age CLI reads the file and derives the same public key: a standard age identity file.
        assertEquals(recipient, cli("age-keygen", "-y", file.toString()).strip());
        return new Key(file, identity, recipient);
    }

    static String cli(String... cmd) {
        PgTools.Result r = Proc.exec(List.of(cmd), Map.of(), null, 120);
        assertEquals(0, r.exitCode(), String.join(" ", cmd) + ": " + r.stderr());
        return r.stdout();
    }

    static List<String> storage(String bucket) {
        return List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
    }

    static Scripts.Run backup(String bucket, String... more) {
        List<String> all = new ArrayList<>(storage(bucket));
        all.addAll(List.of(more));
        return Scripts.run(new Backup(), all.toArray(String[]::new));
    }

    /** restore [SUBCOMMAND] with the storage options, then the arguments. */
    static Scripts.Run restore(String bucket, String... args) {
        List<String> all = new ArrayList<>();
        List<String> rest = new ArrayList<>(List.of(args));
        if (!rest.isEmpty() && List.of("list", "verify", "drill").contains(rest.get(0))) all.add(rest.remove(0));
        all.addAll(storage(bucket));
        all.addAll(rest);
        return Scripts.run(new Restore(), all.toArray(String[]::new));
    }

    static String database(String prefix) {
        String db = pg.createDatabase(prefix);
        databases.add(db);
        return db;
    }

    static String newName(String prefix) {
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        databases.add(name);
        return name;
    }

    static long userTables(String db) {
        return Long.parseLong(pg.sql(db, "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"));
    }

    static boolean exists(String db) {
        return pg.sql("postgres", "select count(*) from pg_database where datname = '" + db + "'").equals("1");
    }

    /** The single backup in the bucket: its manifest and stored bytes. */
    record Stored(BackupKey key, Manifest manifest, byte[] bytes) {}

    static Stored stored(String bucket) {
        String manifestKey = s3.keys(bucket).stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow();
        Manifest m = Manifest.parse(new String(TestBackups.getObject(bucket, manifestKey), StandardCharsets.UTF_8), manifestKey);
        BackupKey key = BackupKey.parse("pg-backups", m.dumpKey()).orElseThrow().backup();
        return new Stored(key, m, TestBackups.getObject(bucket, m.dumpKey()));
    }

    static Manifest withStored(Manifest m, byte[] bytes, Manifest.Encryption encryption) {
        return new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(), m.dumpKey(), m.startedAt(),
                m.finishedAt(), bytes.length, TestBackups.sha256(bytes), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(),
                encryption, m.tocEntries(), m.tables(), m.pgDumpArgs());
    }

    /** A database of ~1 MB of poorly compressible rows: its dump spans many 64 KiB age chunks. */
    static String chunkyDatabase(int marker) {
        String db = database("age_src");
        pg.sql(db, "create schema gated; create table gated.marker (v int); insert into gated.marker values (" + marker + ");"
                + " create table items (id int primary key, label text);"
                + " insert into items select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, 12000) g; analyze;");
        return db;
    }

    // ------------------------------------------------------------------------------------------------ round trip

    @Test
    void encryptedBackupRestoresExactlyAndIsAStandardAgeFile() throws Exception {
        String sample = SampleDatabase.create(pg, "age_sample");
        databases.add(sample);
        String bucket = s3.createBucket("age-rt");
        Scripts.Run run = backup(bucket, "--database-url", pg.url(sample), "--encrypt-to", key1.recipient(), "--json");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("encrypted with age to 1 recipient"), run.err());

        // The manifest: scheme and public recipients, and the size and SHA-256 of the bytes S3 stores (the age file).
        Stored st = stored(bucket);
        assertEquals(new Manifest.Encryption("age", List.of(key1.recipient())), st.manifest().encryption());
        assertEquals(st.bytes().length, st.manifest().sizeBytes());
        assertEquals(TestBackups.sha256(st.bytes()), st.manifest().sha256());
        assertTrue(new String(st.bytes(), 0, 22, StandardCharsets.US_ASCII).equals("age-encryption.org/v1\n"), "an age file");
        assertEquals(-1, TestBackups.indexOf(st.bytes(), "PGDMP".getBytes(StandardCharsets.US_ASCII)), "no plaintext archive header stored");
        JsonNode report = Json.MAPPER.readTree(run.out());
        assertEquals(st.manifest().sha256(), report.get("backups").get(0).get("sha256").asText());

        // Interop: the age CLI decrypts the stored object, and plain pg_restore restores the result.
        Path enc = dir.resolve("rt.age"), plain = dir.resolve("rt.dump");
        Files.write(enc, st.bytes());
        cli("age", "-d", "-i", key1.file().toString(), "-o", plain.toString(), enc.toString());
        PgTools.Result toc = PgTools.run(List.of(pg.tool("pg_restore").path().toString(), "--list", plain.toString()), Map.of(), null, 60);
        assertEquals(toc.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith(";")).count(), (long) st.manifest().tocEntries(),
                "the TOC count was taken from the plaintext");
        String viaCli = database("age_cli");
        SampleDatabase.pgRestore(pg, plain, viaCli);
        Map<String, String> fingerprints = SampleDatabase.fingerprints(pg, sample);
        assertEquals(fingerprints, SampleDatabase.fingerprints(pg, viaCli));

        // restore --identity: decrypted on the way, same data and schema.
        String target = newName("age_restored");
        run = restore(bucket, "--identity", key1.file().toString(), "--target-url", pg.url(target), "--create");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("decrypted with age"), run.err());
        assertEquals(fingerprints, SampleDatabase.fingerprints(pg, target));
        assertEquals(SampleDatabase.schema(pg, sample), SampleDatabase.schema(pg, target));

        // list shows it encrypted, verify decrypts and reads the archive, verify --output keeps the decrypted dump (0600).
        run = restore(bucket, "list");
        assertTrue(run.out().contains("complete, encrypted (age)"), run.out());
        JsonNode listed = Json.MAPPER.readTree(restore(bucket, "list", "--json").out()).get("backups").get(0);
        assertTrue(listed.get("encrypted").asBoolean());
        assertEquals(key1.recipient(), listed.get("recipients").get(0).asText());
        run = restore(bucket, "verify", "--identity", key1.file().toString());
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("decrypted with age, pg_restore reads " + st.manifest().tocEntries() + " TOC entries"), run.err());
        Path kept = dir.resolve("kept.dump");
        run = restore(bucket, "verify", "--identity", key1.file().toString(), "--output", kept.toString());
        assertEquals(0, run.exit(), run.toString());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(kept)), "--output holds the decrypted archive");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kept)));

        // Without a key: a clear usage error naming both ways to give it, before anything is downloaded or touched.
        String untouched = newName("age_nokey");
        for (String[] args : List.of(new String[] {"--target-url", pg.url(untouched), "--create"}, new String[] {"verify"},
                new String[] {"drill", "--target-url", pg.url("postgres")})) {
            run = restore(bucket, args);
            assertEquals(64, run.exit(), run.toString());
            assertTrue(run.err().contains("is encrypted with age to " + key1.recipient()) && run.err().contains("--identity FILE")
                    && run.err().contains("BACKUP_AGE_IDENTITY"), run.err());
        }
        assertFalse(exists(untouched));
    }

    /** A dump that the age CLI encrypted, uploaded with its manifest, restores (--stream) and drills. */
    @Test
    void aFileEncryptedByTheAgeCliRestoresAndDrills() throws Exception {
        String src = chunkyDatabase(7);
        String bucket = s3.createBucket("age-cli");
        BackupKey key = new BackupKey("pg-backups", "cli", Instant.parse("2026-11-20T02:00:00Z"));
        byte[] dump = TestBackups.dump(pg, src);
        Path plain = dir.resolve("cli.dump"), enc = dir.resolve("cli.age");
        Files.write(plain, dump);
        cli("age", "-r", key2.recipient(), "-o", enc.toString(), plain.toString());
        byte[] encrypted = Files.readAllBytes(enc);
        TestBackups.putObject(bucket, key.dumpKey(), encrypted);
        TestBackups.putManifest(bucket, key, withStored(TestBackups.manifest(pg, src, key, dump), encrypted,
                new Manifest.Encryption("age", List.of(key2.recipient()))));

        String target = newName("age_cli_stream");
        Scripts.Run run = restore(bucket, "--identity", key2.file().toString(), "--target-url", pg.url(target), "--create", "--stream");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("7", pg.sql(target, "select v from gated.marker"));
        assertEquals("12000", pg.sql(target, "select count(*) from items"));

        run = restore(bucket, "drill", "--identity", key2.file().toString(), "--target-url", pg.url("postgres"));
        assertEquals(0, run.exit(), run.toString());
        VerifyRecord record = VerifyRecord.parse(new String(TestBackups.getObject(bucket, key.verifyKey()), StandardCharsets.UTF_8), "test");
        assertTrue(record.passed(), record.toJson());
    }

    // ------------------------------------------------------------------------------------------------ refusals

    /** Wrong key, flipped ciphertext (with a manifest that matches it, so only age can tell): 65, target untouched. */
    @Test
    void wrongKeyAndTamperedCiphertextAre65AndTheTargetIsUntouched() throws Exception {
        String src = chunkyDatabase(1);
        String bucket = s3.createBucket("age-bad");
        // Uncompressed, so the dump spans many age chunks and a late chunk can be damaged.
        Scripts.Run run = backup(bucket, "--database-url", pg.url(src), "--encrypt-to", key1.recipient(), "--compress", "0");
        assertEquals(0, run.exit(), run.toString());
        Stored st = stored(bucket);
        assertTrue(st.bytes().length > 5 * 65536, "several chunks: " + st.bytes().length);
        String empty = database("age_target");

        // The wrong key: 65 naming the backup's recipients and the key given; nothing created, nothing restored.
        String created = newName("age_wrong");
        for (String[] mode : List.of(new String[] {"--target-url", pg.url(empty)}, new String[] {"--target-url", pg.url(created), "--create"},
                new String[] {"--target-url", pg.url(created), "--create", "--stream"})) {
            List<String> args = new ArrayList<>(List.of("--identity", stranger.file().toString()));
            args.addAll(List.of(mode));
            run = restore(bucket, args.toArray(String[]::new));
            assertEquals(65, run.exit(), run.toString());
            assertTrue(run.err().contains("wrong key") && run.err().contains(key1.recipient()) && run.err().contains(stranger.recipient()), run.err());
        }
        assertEquals(0, userTables(empty));
        assertFalse(exists(created));
        run = restore(bucket, "verify", "--identity", stranger.file().toString());
        assertEquals(65, run.exit(), run.toString());

        // One flipped byte in the last chunks, the manifest updated to match: the checksum passes, age authentication does not.
        byte[] tampered = st.bytes().clone();
        int at = tampered.length - 40_000;
        tampered[at] = (byte) ~tampered[at];
        TestBackups.putObject(bucket, st.manifest().dumpKey(), tampered);
        TestBackups.putManifest(bucket, st.key(), withStored(st.manifest(), tampered, st.manifest().encryption()));
        for (String[] mode : List.of(new String[] {}, new String[] {"--stream"})) {
            List<String> args = new ArrayList<>(List.of("--identity", key1.file().toString(), "--target-url", pg.url(empty)));
            args.addAll(List.of(mode));
            run = restore(bucket, args.toArray(String[]::new));
            assertEquals(65, run.exit(), run.toString());
            assertTrue(run.err().contains("is damaged or was altered: age authentication failed"), run.err());
            assertEquals(0, userTables(empty), "target untouched after " + List.of(mode));
        }
        run = restore(bucket, "verify", "--identity", key1.file().toString());
        assertEquals(65, run.exit(), run.toString());
        run = restore(bucket, "drill", "--identity", key1.file().toString(), "--target-url", pg.url("postgres"));
        assertEquals(65, run.exit(), run.toString());
        VerifyRecord record = VerifyRecord.parse(new String(TestBackups.getObject(bucket, st.key().verifyKey()), StandardCharsets.UTF_8), "test");
        assertFalse(record.passed());
        assertTrue(record.reasons().get(0).contains("age authentication failed"), record.reasons().toString());

        // A flipped byte in the header's recipient stanza: the right key cannot unwrap the file key any more.
        byte[] header = st.bytes().clone();
        header[60] = (byte) (header[60] == 'A' ? 'B' : 'A');
        TestBackups.putObject(bucket, st.manifest().dumpKey(), header);
        TestBackups.putManifest(bucket, st.key(), withStored(st.manifest(), header, st.manifest().encryption()));
        run = restore(bucket, "verify", "--identity", key1.file().toString());
        assertEquals(65, run.exit(), run.toString());
        assertTrue(run.err().contains("age header is damaged or was altered (your key " + key1.recipient()), run.err());

        // Flipped without touching the manifest: the checksum of the stored bytes catches it first.
        TestBackups.putObject(bucket, st.manifest().dumpKey(), tampered);
        TestBackups.putManifest(bucket, st.key(), st.manifest());
        run = restore(bucket, "--identity", key1.file().toString(), "--target-url", pg.url(empty));
        assertEquals(65, run.exit(), run.toString());
        assertTrue(run.err().contains("checksum mismatch"), run.err());
        assertEquals(0, userTables(empty));
    }

    @Test
    void badRecipientsAndIdentitiesAreUsageErrorsThatNeverEchoAKey() throws Exception {
        String bucket = s3.createBucket("age-usage");
        Scripts.Run run = backup(bucket, "--database-url", pg.url("postgres"), "--encrypt-to", key1.recipient() + ",age1notakey");
        assertEquals(64, run.exit(), run.toString());
        assertTrue(run.err().contains("invalid age recipient 'age1notakey'"), run.err());
        // A typo in a real key fails its checksum.
        String typo = key1.recipient().substring(0, 20) + (key1.recipient().charAt(20) == 'q' ? 'p' : 'q') + key1.recipient().substring(21);
        run = backup(bucket, "--database-url", pg.url("postgres"), "--encrypt-to", typo);
        assertEquals(64, run.exit(), run.toString());
        run = backup(bucket, "--database-url", pg.url("postgres"), "--encrypt-to", key1.identity());
        assertEquals(64, run.exit(), run.toString());
        assertTrue(run.err().contains("PRIVATE key was given as a recipient"), run.err());
        assertFalse(run.err().contains(key1.identity().substring(16)), "the private key is not echoed: " + run.err());
        assertEquals(List.of(), s3.keys(bucket));

        // keygen never overwrites a key.
        String before = Files.readString(key1.file());
        run = Scripts.run(new Restore(), "keygen", "--output", key1.file().toString());
        assertEquals(64, run.exit(), run.toString());
        assertEquals(before, Files.readString(key1.file()));

        // Identity text: a bare key and age-keygen's file both parse; a public key or junk is refused without echoing it.
        assertEquals(List.of(key1.recipient()), Age.Identities.parse(key1.identity(), "test").publicKeys());
        assertEquals(List.of(key1.recipient(), key2.recipient()),
                Age.Identities.parse(Files.readString(key1.file()) + Files.readString(key2.file()), "test").publicKeys());
        Failure f = org.junit.jupiter.api.Assertions.assertThrows(Failure.class, () -> Age.Identities.parse(key1.recipient(), "BACKUP_AGE_IDENTITY"));
        assertEquals(64, f.exitCode);
        assertTrue(f.getMessage().contains("that is a public key"), f.getMessage());
        String damaged = key1.identity().substring(0, 30) + (key1.identity().charAt(30) == 'Q' ? 'P' : 'Q') + key1.identity().substring(31);
        f = org.junit.jupiter.api.Assertions.assertThrows(Failure.class, () -> Age.Identities.parse(damaged, "BACKUP_AGE_IDENTITY"));
        assertTrue(f.getMessage().contains("damaged") && !f.getMessage().contains(damaged.substring(16, 40)), f.getMessage());
        assertFalse(Age.Identities.parse(key1.identity(), "test").toString().contains(key1.identity()));
        assertEquals("AGE-SECRET-KEY-1*** x", Redact.text(key1.identity() + " x"));
    }

    // ------------------------------------------------------------------------------------------------ two recipients, env, secrecy

    /**
     * backup and restore as child processes configured through the environment (BACKUP_AGE_RECIPIENTS with two
     * recipients, BACKUP_AGE_IDENTITY holding the second key's file): either key restores, and while pg_restore is
     * held mid-restore, no process below the test has the private key in its argv or environment.
     */
    @Test
    void twoRecipientsEitherKeyRestoresAndTheKeyIsInNoArgvOrChildEnvironment() throws Exception {
        String src = chunkyDatabase(2);
        String bucket = s3.createBucket("age-two");
        Map<String, String> env = new LinkedHashMap<>(s3.env());
        env.put("BACKUP_AGE_RECIPIENTS", key1.recipient() + ", " + key2.recipient());
        Scripts.Run run = Scripts.runProcess("Backup", env, "--bucket", bucket, "--database-url", pg.url(src));
        assertEquals(0, run.exit(), run.toString());
        Stored st = stored(bucket);
        assertEquals(List.of(key1.recipient(), key2.recipient()), st.manifest().encryption().recipients());

        String first = newName("age_first");
        run = restore(bucket, "--identity", key1.file().toString(), "--target-url", pg.url(first), "--create");
        assertEquals(0, run.exit(), run.toString());
        assertEquals("2", pg.sql(first, "select v from gated.marker"));

        // The second key, from the environment, in a child JVM; pg_restore is held at CREATE SCHEMA gated by our
        // uncommitted CREATE SCHEMA gated in the (empty) target, so its argv and environment can be read from /proc.
        String second = database("age_second");
        env = new LinkedHashMap<>(s3.env());
        env.put("BACKUP_AGE_IDENTITY", Files.readString(key2.file()));
        ConnInfo conn = pg.conn(second);
        try (PgTools.Streaming gate = PgTools.start(List.of(pg.psql().path().toString(), "-X", "-q", "-d", conn.withoutPassword()), conn.childEnvironment())) {
            OutputStream sql = gate.stdin();
            sql.write("begin; create schema gated;\n".getBytes(StandardCharsets.UTF_8));
            sql.flush();
            env.put("RESTORE_DATABASE_URL", pg.url(second)); // the target (with its password) from the environment
            Process child = Scripts.start("Restore", env, List.of("--bucket", bucket));
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            Thread o = new Thread(() -> copy(child.getInputStream(), out)), e = new Thread(() -> copy(child.getErrorStream(), err));
            o.start();
            e.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (pg.sql("postgres", "select count(*) from pg_stat_activity where datname = '" + second + "' and wait_event_type = 'Lock'").equals("0")) {
                assertTrue(child.isAlive(), "restore ended before pg_restore reached the gate: " + err);
                assertTrue(System.nanoTime() < deadline, "pg_restore never reached the gate");
                Thread.sleep(100);
            }
            List<ProcessHandle> below = child.toHandle().descendants().toList();
            assertTrue(below.stream().anyMatch(p -> p.info().command().orElse("").endsWith("/pg_restore")), "pg_restore is running");
            for (ProcessHandle p : List.of(child.toHandle())) assertFalse(proc(p, "cmdline").contains("AGE-SECRET-KEY"), "key in the restore's argv");
            for (ProcessHandle p : below) {
                assertFalse(proc(p, "cmdline").contains("AGE-SECRET-KEY"), "key in a child's argv: " + proc(p, "cmdline"));
                assertFalse(proc(p, "environ").contains("AGE-SECRET-KEY"), "key in the environment of " + proc(p, "cmdline"));
                assertFalse(proc(p, "environ").contains("RESTORE_DATABASE_URL="), "the target URL inherited by " + proc(p, "cmdline"));
            }
            sql.write("rollback;\n".getBytes(StandardCharsets.UTF_8));
            sql.flush();
            assertTrue(child.waitFor(120, TimeUnit.SECONDS));
            o.join();
            e.join();
            Output.record(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
            assertEquals(0, child.exitValue(), err.toString(StandardCharsets.UTF_8));
            assertFalse(out.toString(StandardCharsets.UTF_8).contains(key2.identity()) || err.toString(StandardCharsets.UTF_8).contains(key2.identity()));
        }
        assertEquals("2", pg.sql(second, "select v from gated.marker"));
        assertEquals("12000", pg.sql(second, "select count(*) from items"));
    }

    static void copy(java.io.InputStream in, OutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException ignored) {
            // the child is gone
        }
    }

    /** /proc/PID/FILE with NULs as spaces; "" once the process is gone. */
    static String proc(ProcessHandle p, String file) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/" + file)), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException gone) {
            return "";
        }
    }
}
