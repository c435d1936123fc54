import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * Bad input, one test each: the exit code design.md gives it, the error as one line (no stack trace, no
 * secret), and nothing changed: after every test (@AfterEach) the bucket holds exactly the same objects and
 * uploads, the server the same databases, and the source database the same rows.
 */
@ExtendWith(FaultLedger.class)
class FaultBadInputTest {
    static PgServer pg;
    static S3Server s3;
    static String source;       // backed up as 'app'
    static String unnameable;   // a database whose name sanitises to nothing
    static String bucket;
    static String appKey;       // the dump key of app's backup
    static final List<String> dropLater = new ArrayList<>();

    BucketState bucketBefore;
    List<String> databasesBefore;
    String sourceBefore;
    boolean changesExpected;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = pg.createDatabase("badinput_src");
        dropLater.add(source);
        pg.sql(source, "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 2000) g; analyze;");
        unnameable = "???" + UUID.randomUUID().toString().substring(0, 4).replaceAll("[0-9a-f]", "!");
        pg.sql("postgres", "create database \"" + unnameable + "\"");
        dropLater.add(unnameable);
        bucket = s3.createBucket("bad-input");
        // A real backup by backup.java, and odd backups beside it under other names.
        Scripts.Run run = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(source), "--name", "app", "--json");
        assertEquals(0, run.exit(), run.toString());
        appKey = Json.MAPPER.readTree(run.out()).get("backups").get(0).get("dumpKey").asText();
        Instant at = Instant.parse("2026-11-20T02:00:00Z");
        TestBackups.Made broken = TestBackups.create(pg, bucket, "pg-backups", "broken", source, at);
        TestBackups.putObject(bucket, broken.manifestKey(), "{\"formatVersion\": 1, \"dumpKey\": \"pg-backups/broken/".getBytes(StandardCharsets.UTF_8));
        TestBackups.Made future = TestBackups.create(pg, bucket, "pg-backups", "future", source, at);
        TestBackups.putObject(bucket, future.manifestKey(), future.manifest().toJson().replace("\"formatVersion\" : 1", "\"formatVersion\" : 3") // 2 is the directory format
                .getBytes(StandardCharsets.UTF_8));
        TestBackups.Made liar = TestBackups.create(pg, bucket, "pg-backups", "liar", source, at);
        Manifest m = liar.manifest();
        TestBackups.putManifest(bucket, liar.key(), new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(),
                appKey, m.startedAt(), m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(),
                m.encryption(), m.tocEntries(), m.tables(), m.pgDumpArgs()));
        TestBackups.putObject(bucket, "pg-backups/app/latest.dump", "not ours".getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void tearDown() {
        for (String db : dropLater) pg.dropDatabase(db);
    }

    @BeforeEach
    void snapshot() {
        changesExpected = false;
        bucketBefore = BucketState.of(bucket);
        databasesBefore = databases();
        sourceBefore = fingerprint();
    }

    @AfterEach
    void nothingChanged() {
        if (changesExpected) return;
        BucketState.of(bucket).assertUnchangedSince(bucketBefore);
        assertEquals(databasesBefore, databases(), "databases created or dropped");
        assertEquals(sourceBefore, fingerprint(), "the source database changed");
    }

    static List<String> databases() { return pg.sql("postgres", "select datname from pg_database order by 1").lines().toList(); }

    static String fingerprint() { return pg.sql(source, "select count(*) || ' ' || sum(hashtext(v)) from t"); }

    static String newName() { return "badinput_new_" + Long.toHexString(System.nanoTime()); }

    static List<String> storage(String bucketName) {
        return List.of("--bucket", bucketName, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
    }

    static Scripts.Run backup(String... args) { return run(new Backup(), null, args); }

    static Scripts.Run prune(String... args) { return run(new Prune(), null, args); }

    static Scripts.Run restore(String... args) { return run(new Restore(), null, args); }

    static Scripts.Run restoreSub(String sub, String... args) { return run(new Restore(), sub, args); }

    /** In-process, with the storage options of the test bucket unless the arguments give --bucket themselves. */
    static Scripts.Run run(Object command, String sub, String... args) {
        List<String> all = new ArrayList<>();
        if (sub != null) all.add(sub);
        List<String> given = List.of(args);
        if (!given.contains("--bucket")) all.addAll(storage(bucket));
        all.addAll(given);
        return Scripts.run(command, all.toArray(String[]::new));
    }

    /** Rejected: the exit code, a one-line error naming {@code fragment}, no stack trace, no secret. */
    static void assertRejected(Scripts.Run run, int exit, String fragment) {
        assertEquals(exit, run.exit(), run.toString());
        List<String> errors = run.err().lines().filter(l -> l.contains(": error: ") || l.matches("^(backup|prune|restore|restore \\w+): .*")).toList();
        assertTrue(errors.stream().anyMatch(l -> l.contains(fragment)), "expected '" + fragment + "' in:\n" + run.err());
        assertEquals(1, run.err().lines().filter(l -> l.contains(": error: ")).count() + (run.err().contains("--help' for usage") ? 1 : 0),
                "one error line:\n" + run.err());
        assertFalse(run.err().contains("\tat ") || run.err().contains("Exception"), "no stack trace:\n" + run.err());
        for (String secret : Secrets.forms()) {
            assertFalse(run.out().contains(secret) || run.err().contains(secret), "a secret in the output:\n" + run);
        }
    }

    // ---- database URLs --------------------------------------------------------------------------------------

    @Test
    void malformedDatabaseUrl() {
        assertRejected(backup("--database-url", "postgresql//127.0.0.1/" + source), Exit.USAGE, "not a PostgreSQL URL");
        assertRejected(backup("--database-url", "postgresql://u:pa%zzss@127.0.0.1/db"), Exit.USAGE, "malformed %-escape in the password");
        assertRejected(restore("--target-url", "mysql://root@127.0.0.1/" + newName(), "--create"), Exit.USAGE, "not a PostgreSQL URL");
    }

    /** The password as typed, not percent-encoded: refused, and never shown (not even the part after an '@' in it). */
    @Test
    void unencodedPasswordInTheUrl() {
        String raw = "postgresql://postgres:" + PgServer.PASSWORD + "@127.0.0.1:" + pg.port + "/" + source;
        assertRejected(backup("--database-url", raw), Exit.USAGE, "not a PostgreSQL URL");
        String atSign = "postgresql://postgres:pa@ss-word@127.0.0.1:" + pg.port + "/" + source;
        Scripts.Run run = backup("--database-url", atSign);
        assertRejected(run, Exit.USAGE, "more than one '@'");
        assertFalse(run.err().contains("ss-word"), run.err());
    }

    @Test
    void unknownHost() {
        assertRejected(backup("--database-url", "postgresql://postgres:pw@no-such-host.invalid:5432/app"), Exit.UNAVAILABLE, "could not translate host name");
        assertRejected(restore("--name", "app", "--target-url", "postgresql://postgres:pw@no-such-host.invalid:5432/" + newName(), "--create"), Exit.UNAVAILABLE,
                "could not translate host name");
    }

    @Test
    void wrongPassword() {
        String url = "postgresql://postgres:" + ConnInfo.encode("not-the-" + PgServer.PASSWORD) + "@127.0.0.1:" + pg.port + "/";
        assertRejected(backup("--database-url", url + source), Exit.NO_PERMISSION, "password authentication failed");
        assertRejected(restore("--name", "app", "--target-url", url + newName(), "--create"), Exit.NO_PERMISSION, "password authentication failed");
    }

    @Test
    void missingDatabase() {
        assertRejected(backup("--database-url", pg.url("no_such_database_here")), Exit.USAGE, "does not exist");
        assertRejected(restore("--name", "app", "--target-url", pg.url(newName())), Exit.USAGE, "add --create");
    }

    /**
     * A password with every character that needs encoding ({@code @ : / ? # & % '} and spaces) works when it is
     * percent-encoded by a standard encoder: a backup as that user, and a restore with --create as that user.
     */
    @Test
    void passwordWithSpecialCharactersWorksWhenEncoded() throws Exception {
        changesExpected = true;
        String role = "special_" + UUID.randomUUID().toString().substring(0, 8);
        String password = Secrets.register("p@ss :/?#&%' w0rd " + UUID.randomUUID().toString().substring(0, 6));
        pg.sql("postgres", "create role " + role + " login createdb password '" + password.replace("'", "''") + "'");
        String target = newName();
        String otherBucket = s3.createBucket("bad-input-pw");
        try {
            pg.sql(source, "grant select on all tables in schema public to " + role);
            String encoded = URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20");
            String base = "postgresql://" + role + ":" + encoded + "@127.0.0.1:" + pg.port + "/";
            Scripts.Run run = Scripts.run(new Backup(), "--bucket", otherBucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--database-url", base + source, "--name", "special");
            assertEquals(0, run.exit(), run.toString());
            Scripts.Run restored = Scripts.run(new Restore(), "--bucket", otherBucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                    "--target-url", base + target, "--create");
            assertEquals(0, restored.exit(), restored.toString());
            assertEquals(fingerprint(), pg.sql(target, "select count(*) || ' ' || sum(hashtext(v)) from t"));
            for (Scripts.Run r : List.of(run, restored)) {
                assertFalse(r.err().contains(password) || r.err().contains(encoded), r.err());
            }
        } finally {
            pg.dropDatabase(target);
            pg.sql(source, "revoke select on all tables in schema public from " + role);
            pg.sql("postgres", "drop role " + role);
        }
    }

    // ---- where the backups are ------------------------------------------------------------------------------

    @Test
    void missingBucket() {
        String none = "no-such-bucket-" + Long.toHexString(System.nanoTime());
        assertRejected(backup("--bucket", none, "--endpoint-url", s3.endpoint, "--database-url", pg.url(source)), Exit.CONFIG, "bucket does not exist");
        assertRejected(prune("--bucket", none, "--endpoint-url", s3.endpoint, "--keep-days", "7"), Exit.CONFIG, "bucket does not exist");
        assertRejected(restoreSub("list", "--bucket", none, "--endpoint-url", s3.endpoint), Exit.CONFIG, "bucket does not exist");
    }

    @Test
    void invalidBucketName() {
        assertRejected(backup("--bucket", "Bad_Bucket", "--database-url", pg.url(source)), Exit.USAGE, "invalid bucket name");
        assertRejected(prune("--bucket", "ab", "--keep-days", "7"), Exit.USAGE, "invalid bucket name");
        assertRejected(restoreSub("list", "--bucket", "-dash-first"), Exit.USAGE, "invalid bucket name");
    }

    @Test
    void prefixWithDotDot() {
        assertRejected(backup("--prefix", "pg-backups/../elsewhere", "--database-url", pg.url(source)), Exit.USAGE, "'..'");
        assertRejected(prune("--prefix", "..", "--keep-days", "7"), Exit.USAGE, "'..'");
        assertRejected(restoreSub("list", "--prefix", "a/../../b"), Exit.USAGE, "'..'");
    }

    @Test
    void prefixWithALeadingSlash() {
        assertRejected(backup("--prefix", "/pg-backups", "--database-url", pg.url(source)), Exit.USAGE, "must not start with '/'");
        assertRejected(prune("--prefix", "/pg-backups", "--keep-days", "7"), Exit.USAGE, "must not start with '/'");
        assertRejected(restoreSub("verify", "--prefix", "/"), Exit.USAGE, "invalid S3 prefix '/'");
    }

    @Test
    void nameThatSanitisesToNothing() {
        assertRejected(backup("--database-url", pg.url(source), "--name", "***"), Exit.USAGE, "no usable characters");
        assertRejected(backup("--database-url", pg.url(unnameable)), Exit.USAGE, "give one with --name");
        assertRejected(prune("--name", "---", "--keep-days", "7"), Exit.USAGE, "no usable characters");
        assertRejected(restoreSub("list", "--name", "..."), Exit.USAGE, "no usable characters");
    }

    /**
     * A URL where a name belongs (a pasted secret, a shifted argument): refused, and neither it nor a "sanitised"
     * suggestion made from it (the password lowercased) is printed, on stderr or in --json's error document.
     */
    @Test
    void nameThatMayHoldAUrlIsNeverEchoed() throws Exception {
        String secret = Secrets.register("Name-Secret%Pw" + UUID.randomUUID().toString().substring(0, 6));
        String url = "postgresql://app:" + secret + "@db.example.com/app?sslmode=require";
        List<Scripts.Run> runs = List.of(
                backup("--database-url", pg.url(source), "--name", url, "--json"),
                prune("--name", url, "--keep-days", "7", "--json"),
                restoreSub("list", "--name", url, "--json"),
                restore("--name", url, "--target-url", pg.url(newName()), "--create", "--json"));
        for (Scripts.Run run : runs) {
            assertRejected(run, Exit.USAGE, "not shown");
            String all = (run.out() + run.err()).toLowerCase(java.util.Locale.ROOT);
            assertFalse(all.contains("name-secret"), "the password, lowercased, in:\n" + run);
            assertFalse(all.contains("e.g."), "no suggestion made from it:\n" + run);
            assertEquals(Exit.USAGE, Json.MAPPER.readTree(run.out()).get("error").get("exitCode").asInt(), run.out());
        }
    }

    /** 1,100 characters: backup allows names of at most 128 (BackupKey.MAX_NAME); prune and restore refuse keys over S3's 1024 bytes. */
    @Test
    void nameTooLong() {
        String longName = "a".repeat(1100);
        assertRejected(backup("--database-url", pg.url(source), "--name", longName), Exit.USAGE, "1100 characters long, at most 128");
        assertRejected(backup("--database-url", pg.url(source), "--name", "a".repeat(129)), Exit.USAGE, "at most 128");
        assertRejected(prune("--name", longName, "--keep-days", "7"), Exit.USAGE, "S3 allows 1024");
        assertRejected(restoreSub("list", "--name", longName), Exit.USAGE, "S3 allows 1024");
        assertRejected(restore("--name", longName, "--target-url", pg.url(newName()), "--create"), Exit.USAGE, "S3 allows 1024");
    }

    // ---- fleet files -------------------------------------------------------------------------------------------

    /** A directory, a binary, a huge file given as --databases-file: 64 and one line, not an I/O error (1). */
    @Test
    void fleetFileThatIsNotAFleetFile() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("fleet-dir");
        java.nio.file.Path binary = java.nio.file.Files.createTempFile("fleet", ".bin");
        java.nio.file.Path notUtf8 = java.nio.file.Files.createTempFile("fleet", ".txt");
        java.nio.file.Path huge = java.nio.file.Files.createTempFile("fleet", ".txt");
        try {
            byte[] bytes = new byte[4096];
            new java.util.Random(1).nextBytes(bytes);
            bytes[10] = 0;
            java.nio.file.Files.write(binary, bytes);
            java.nio.file.Files.write(notUtf8, "app=postgresql://u@h/caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
            java.nio.file.Files.write(huge, ("# " + "x".repeat(100) + "\n").repeat(11_000).getBytes(StandardCharsets.UTF_8));
            assertRejected(backup("--databases-file", dir.toString()), Exit.USAGE, "is a directory");
            assertRejected(backup("--databases-file", binary.toString()), Exit.USAGE, "fleet file");
            assertRejected(backup("--databases-file", notUtf8.toString()), Exit.USAGE, "is not UTF-8 text");
            assertRejected(backup("--databases-file", huge.toString()), Exit.USAGE, "bigger than 1.0 MiB");
            assertRejected(backup("--databases-file", dir.resolve("missing.txt").toString()), Exit.USAGE, "cannot read --databases-file");
        } finally {
            for (java.nio.file.Path p : List.of(binary, notUtf8, huge, dir)) java.nio.file.Files.deleteIfExists(p);
        }
    }

    /**
     * Fleet lines that hold a URL in a form the parser does not take as one (jdbc:, a missing ':', a user:password
     * without a scheme): refused by line number, with no part of the line and no name suggested from it, on stderr
     * and in --json's error document. Before, the "e.g." suggestion was the password lowercased, '%' turned into '-'.
     */
    @Test
    void fleetLineThatHoldsAUrlIsNeverEchoed() throws Exception {
        String secret = Secrets.register("Fleet-Secret%Pw" + UUID.randomUUID().toString().substring(0, 6));
        String lower = "fleet-secret";
        java.nio.file.Path fleet = java.nio.file.Files.createTempFile("fleet", ".txt");
        try {
            for (String line : List.of("jdbc:postgresql://app:" + secret + "@db.example.com/app?sslmode=require",
                    "\uFEFFjdbc:postgresql://app:" + secret + "@db.example.com/app?sslmode=require",
                    "postgresql//app:" + secret + "@db.example.com/app?sslmode=require",
                    "app:" + secret + "@db.example.com/app?sslmode=require",
                    "app=jdbc:postgresql://db.example.com/app?user=app&password=" + secret)) {
                java.nio.file.Files.writeString(fleet, "# fleet\n" + line + "\n", StandardCharsets.UTF_8);
                Scripts.Run run = backup("--databases-file", fleet.toString(), "--json");
                assertRejected(run, Exit.USAGE, "line 2");
                String all = (run.out() + run.err()).toLowerCase(java.util.Locale.ROOT);
                assertFalse(all.contains(lower) || all.contains("db.example.com"), "part of the line in:\n" + run);
                assertFalse(all.contains("e.g."), "a suggestion made from the line:\n" + run);
                assertEquals(Exit.USAGE, Json.MAPPER.readTree(run.out()).get("error").get("exitCode").asInt(), run.out());
                if (line.contains("jdbc:")) assertTrue(run.err().contains("drop the jdbc: prefix"), run.err());
            }
        } finally {
            java.nio.file.Files.deleteIfExists(fleet);
        }
    }

    // ---- URL parameters ----------------------------------------------------------------------------------------

    /** A parameter libpq does not know, or a port out of range: 64 before anything runs (was: every child failed, 1). */
    @Test
    void unknownUrlParameterAndPortOutOfRange() {
        assertRejected(backup("--database-url", pg.url(source) + "?sslmdoe=require"), Exit.USAGE, "unknown parameter 'sslmdoe'");
        assertRejected(restore("--name", "app", "--target-url", pg.url(newName()) + "?connect_timeuot=5", "--create"), Exit.USAGE, "unknown parameter");
        String url = "postgresql://postgres:" + ConnInfo.encode(PgServer.PASSWORD) + "@127.0.0.1:";
        assertRejected(backup("--database-url", url + "0/" + source), Exit.USAGE, "port that is not a number from 1 to 65535");
        assertRejected(backup("--database-url", url + "70000/" + source), Exit.USAGE, "port that is not a number from 1 to 65535");
        assertRejected(restoreSub("drill", "--name", "app", "--scratch-url", url + "0/postgres"), Exit.USAGE, "port");
    }

    // ---- retention ------------------------------------------------------------------------------------------

    @Test
    void negativeRetention() throws Exception {
        assertRejected(prune("--keep-days", "-1"), Exit.USAGE, "--keep-days must be 0 or more");
        assertRejected(prune("--keep-last", "-3"), Exit.USAGE, "--keep-last must be 0 or more");
        assertRejected(prune("--keep-daily", "7", "--max-delete", "-1"), Exit.USAGE, "--max-delete must be 0 or more");
        Map<String, String> env = new HashMap<>(s3.env());
        env.put("S3_BUCKET", bucket);
        env.put("RETENTION", "-7");
        assertRejected(Scripts.runProcess("Prune", env), Exit.USAGE, "must be 0 or more");
    }

    /** Zero: --min-keep 0 is refused; --keep-days 0 is a valid policy under which the newest backup is still never deleted. */
    /** Durations no one means: 64 (100 years at most), before overflowing Instant's range (was: exit 1, or accepted). */
    @Test
    void absurdDurations() {
        assertRejected(prune("--keep-days", "7", "--max-age", "999999999d"), Exit.USAGE, "more than 100 years");
        assertRejected(prune("--keep-days", "7", "--max-age", "9223372036854775807s"), Exit.USAGE, "more than 100 years");
        assertRejected(prune("--keep-days", "7", "--max-age", "99999999999999999999d"), Exit.USAGE, "too large");
        assertRejected(prune("--keep-days", "7", "--max-age", "9223372036854775807w"), Exit.USAGE, "too large");
        assertRejected(prune("--keep-days", "7", "--grace", "P999999999D"), Exit.USAGE, "more than 100 years");
        assertRejected(prune("--keep-days", "7", "--max-age=-5d"), Exit.USAGE, "is not a duration");
        assertRejected(prune("--keep-days", "7", "--max-age", "PT-5H"), Exit.USAGE, "must not be negative");
    }

    /** NaN or infinite row tolerances would make every count pass: 64 (was: accepted). */
    @Test
    void nanTolerances() {
        for (String bad : List.of("NaN", "Infinity", "-Infinity")) {
            assertRejected(restoreSub("drill", "--name", "app", "--scratch-url", pg.url("postgres"), "--row-tolerance-percent", bad, "--no-record"),
                    Exit.USAGE, "--row-tolerance-percent must be a number");
        }
    }

    @Test
    void zeroRetention() {
        assertRejected(prune("--keep-days", "7", "--min-keep", "0"), Exit.USAGE, "--min-keep must be 1 or more");
        assertRejected(prune("--keep-days", "7", "--grace", "-1h"), Exit.USAGE, "is not a duration");
        Scripts.Run zero = prune("--keep-days", "0");
        assertEquals(0, zero.exit(), zero.toString());
        assertTrue(zero.out().contains("newest"), zero.toString()); // each name's only backup, kept as its newest
    }

    // ---- options that contradict each other ------------------------------------------------------------------

    @Test
    void conflictingOptions() {
        assertRejected(restore("--target-url", pg.url(newName()), "--create", "--key", appKey, "--at", "2026-11-20"), Exit.USAGE, "give only one of them");
        assertRejected(restore("--name", "app", "--target-url", pg.url(newName()), "--create", "--owner", "--no-owner"), Exit.USAGE, "contradict");
        assertRejected(restore("--name", "app", "--target-url", pg.url(newName()), "--create", "--stream", "--jobs", "2"), Exit.USAGE, "--jobs needs the downloaded file");
        assertRejected(restore("--target-url", pg.url(newName()), "--create", "--key", appKey, "--name", "broken"), Exit.USAGE, "--key is a backup of 'app'");
        assertRejected(backup("--database-url", pg.url(source), "--database-url", pg.url("postgres"), "--name", "one"), Exit.USAGE, "--name applies to a single database");
        assertRejected(restoreSub("list", "--create"), Exit.USAGE, "Unknown option: '--create'");
    }

    @Test
    void atInTheFuture() {
        assertRejected(restore("--name", "app", "--at", Instant.now().plusSeconds(3600).toString(), "--target-url", pg.url(newName()), "--create"),
                Exit.USAGE, "is in the future");
        assertRejected(restoreSub("verify", "--name", "app", "--at", "2999-01-01"), Exit.USAGE, "is in the future");
    }

    @Test
    void atUnparseable() {
        assertRejected(restore("--name", "app", "--at", "yesterday", "--target-url", pg.url(newName()), "--create"), Exit.USAGE, "cannot read --at");
        assertRejected(restoreSub("verify", "--name", "app", "--at", "2026-11-20T02:00:00"), Exit.USAGE, "has no time zone");
    }

    // ---- what is in the bucket -------------------------------------------------------------------------------

    /** A manifest that is not JSON: restore and verify refuse the backup (65) before touching a database; list still works. */
    @Test
    void manifestWithInvalidJson() {
        assertRejected(restore("--name", "broken", "--target-url", pg.url(newName()), "--create"), Exit.DATA_INVALID, "is not valid JSON");
        assertRejected(restoreSub("verify", "--name", "broken"), Exit.DATA_INVALID, "is not valid JSON");
        Scripts.Run list = restoreSub("list");
        assertEquals(0, list.exit(), list.toString());
        assertTrue(list.out().contains("pg-backups/app/") && list.out().contains("broken"), list.out());
    }

    @Test
    void manifestFromANewerFormatVersion() {
        assertRejected(restore("--name", "future", "--target-url", pg.url(newName()), "--create"), Exit.CONFIG, "has formatVersion 3");
        assertRejected(restoreSub("drill", "--name", "future", "--scratch-url", pg.url("postgres")), Exit.CONFIG, "upgrade");
    }

    /** --key that is not a backup key of ours, and a manifest that names another backup's dump. */
    @Test
    void dumpKeyNotMatchingTheLayout() {
        assertRejected(restore("--key", "pg-backups/app/latest.dump", "--target-url", pg.url(newName()), "--create"), Exit.USAGE, "is not a backup key");
        assertRejected(restore("--key", "elsewhere/app/app_2026-11-20T02-00-00Z.dump", "--target-url", pg.url(newName()), "--create"), Exit.USAGE,
                "is not a backup key");
        assertRejected(restoreSub("verify", "--key", "pg-backups/app/app_2026-11-20T02:00:00Z.dump"), Exit.USAGE, "is not a backup key");
        assertRejected(restore("--name", "liar", "--target-url", pg.url(newName()), "--create"), Exit.DATA_INVALID, "not its own");
    }

    @Test
    void restoreTargetIsTheSource() {
        assertRejected(restore("--name", "app", "--target-url", pg.url(source)), Exit.USAGE, "the target is the database this backup came from");
        assertRejected(restore("--name", "app", "--target-url", pg.url(source), "--clean"), Exit.USAGE, "the target is the database this backup came from");
    }

    // ---- the machine -----------------------------------------------------------------------------------------------

    /**
     * The disk fills up while restore writes its temp dump (the free-space check up front passed: another writer
     * filled it meanwhile). Exit 78, an environment problem like the up-front check's, with what to do; not
     * "cannot write the download: No space left on device" and 1. The restore runs as a child in a private mount
     * namespace (unshare) on a small tmpfs; the download stalls after 2 MiB while a filler takes the rest.
     */
    @Test
    void diskFullWhileWritingTheTempDump() throws Exception {
        String big = pg.createDatabase("badinput_big");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("disk-full");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            pg.sql(big, "create table t (id int, v text); insert into t select g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text)"
                    + " from generate_series(1, 100000) g;");
            String otherBucket = s3.createBucket("disk-full");
            TestBackups.Made made = TestBackups.create(pg, otherBucket, "pg-backups", "big", big, Instant.parse("2026-11-20T02:00:00Z"));
            assertTrue(made.dump().length > (3 << 20), "a dump of " + made.dump().length + " bytes");
            long size = made.dump().length + (68L << 20); // passes the check up front (the dump and 64 MiB)
            proxy.stallInResponse("hold the download", FaultProxy.Request::isDumpGet, 1, 2 << 20, java.time.Duration.ofSeconds(5));
            String script = "mount -t tmpfs -o size=" + size + " tmpfs \"$1\" || exit 97\n"
                    + "( i=0; while [ -z \"$(find \"$1\" -name '*.dump' -size +0)\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done;"
                    + " cat /dev/zero > \"$1/filler\" 2>/dev/null; true ) &\n"
                    + "shift; exec \"$@\"\n";
            List<String> cmd = new ArrayList<>(List.of("unshare", Proc.isRoot() ? "-m" : "-Urm", "sh", "-c", script, "sh", dir.toString(),
                    java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"), "Restore",
                    "--bucket", otherBucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION, "--name", "big",
                    "--target-url", pg.url(newName()), "--create", "--temp-dir", dir.toString()));
            PgTools.Result r = Proc.exec(cmd, s3.env(), null, 600);
            Output.record(r.stdout(), r.stderr());
            assertTrue(r.exitCode() != 97, "cannot mount a tmpfs in a private mount namespace (unshare -m needs root, -Urm user namespaces): " + r.stderr());
            Scripts.Run run = new Scripts.Run(r.exitCode(), r.stdout(), r.stderr());
            assertRejected(run, Exit.CONFIG, "no space left in " + dir);
            assertTrue(run.err().contains("--temp-dir"), run.err());
            assertEquals(1, proxy.log().stream().filter(l -> l.contains("hold the download")).count(), "the download was held: " + proxy.log());
        } finally {
            pg.dropDatabase(big);
            java.nio.file.Files.deleteIfExists(dir);
        }
    }

    // ---- AWS credentials ---------------------------------------------------------------------------------------

    @Test
    void noAwsCredentials() throws Exception {
        Map<String, String> env = Map.of("AWS_ENDPOINT_URL", s3.endpoint, "AWS_REGION", S3Server.REGION, "S3_BUCKET", bucket,
                "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", "AWS_CONFIG_FILE", "/nonexistent/config", "AWS_EC2_METADATA_DISABLED", "true");
        var backupRun = CompletableFuture.supplyAsync(() -> process("Backup", env, "--database-url", pg.url(source)));
        var pruneRun = CompletableFuture.supplyAsync(() -> process("Prune", env, "--keep-days", "7"));
        var listRun = CompletableFuture.supplyAsync(() -> process("Restore", env, "list"));
        for (Scripts.Run run : List.of(backupRun.get(), pruneRun.get(), listRun.get())) assertRejected(run, Exit.CONFIG, "no AWS credentials");
    }

    static Scripts.Run process(String main, Map<String, String> env, String... args) {
        try {
            return Scripts.runProcess(main, env, args);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Expired credentials. moto checks neither a session's expiry nor the request's date (moto 5.2's
     * access_control has no such check), so the answer real S3 gives, 400 ExpiredToken, comes from the fault
     * proxy in front of the emulator, for every request.
     */
    @Test
    void expiredCredentials() throws Exception {
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.error("expired", r -> true, -1, 400, "ExpiredToken", "The provided token has expired.");
            List<String> at = List.of("--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION);
            List<String> b = new ArrayList<>(at);
            b.addAll(List.of("--database-url", pg.url(source)));
            assertRejected(Scripts.run(new Backup(), b.toArray(String[]::new)), Exit.NO_PERMISSION, "the AWS credentials have expired");
            List<String> p = new ArrayList<>(at);
            p.addAll(List.of("--keep-days", "7"));
            assertRejected(Scripts.run(new Prune(), p.toArray(String[]::new)), Exit.NO_PERMISSION, "the AWS credentials have expired");
            List<String> l = new ArrayList<>(List.of("list"));
            l.addAll(at);
            assertRejected(Scripts.run(new Restore(), l.toArray(String[]::new)), Exit.NO_PERMISSION, "the AWS credentials have expired");
        }
    }

    /**
     * Session credentials whose token is not valid (a stale or mangled AWS_SESSION_TOKEN), checked for real by
     * moto with IAM enforcement on: S3 answers 400 InvalidToken, which is a credentials problem (77).
     */
    @Test
    void invalidSessionToken() throws Exception {
        try (PrivateMoto moto = PrivateMoto.start()) {
            String user = "backup-" + UUID.randomUUID().toString().substring(0, 8);
            String privateBucket = "bad-token-" + UUID.randomUUID().toString().substring(0, 8);
            Map<String, String> env;
            try (var iam = moto.iam(); var admin = moto.s3()) {
                admin.createBucket(r -> r.bucket(privateBucket));
                iam.createUser(r -> r.userName(user));
                iam.putUserPolicy(r -> r.userName(user).policyName("all").policyDocument(
                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"));
                var key = iam.createAccessKey(r -> r.userName(user)).accessKey();
                env = moto.env(AwsSessionCredentials.create(key.accessKeyId(), key.secretAccessKey(), "FQoGZXIvYXdzEExpiredOrMangledToken"));
            }
            moto.enforceIam();
            Map<String, String> withBucket = new HashMap<>(env);
            withBucket.put("S3_BUCKET", privateBucket);
            assertRejected(process("Backup", withBucket, "--database-url", pg.url(source)), Exit.NO_PERMISSION, "the AWS credentials are not valid");
        }
    }
}
