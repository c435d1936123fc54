import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * backup.java against a real PostgreSQL and the real S3 emulator: the round trip through plain pg_restore,
 * the manifest, a fleet with one bad database, and each configuration error as one line with its exit code
 * and nothing left in the bucket.
 */
class BackupTest {
    static PgServer pg;
    static S3Server s3;
    static String sample;
    static final List<String> dropLater = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        sample = SampleDatabase.create(pg, "backup_src");
        dropLater.add(sample);
    }

    @AfterAll
    static void tearDown() {
        for (String db : dropLater) pg.dropDatabase(db);
    }

    /** Storage options pointing at the emulator. */
    static List<String> storage(String bucket) {
        return List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
    }

    static String[] args(String bucket, String... more) {
        List<String> all = new ArrayList<>(storage(bucket));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static byte[] download(String bucket, String key) {
        try (S3Client c = S3Server.get().s3()) {
            return c.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        }
    }

    static S3Object object(String bucket, String key) {
        try (S3Client c = S3Server.get().s3()) {
            return c.listObjectsV2(b -> b.bucket(bucket).prefix(key)).contents().stream().filter(o -> o.key().equals(key)).findFirst().orElseThrow();
        }
    }

    /** Multipart uploads still in progress in the bucket: must be none after any run. */
    static List<String> uploadsInProgress(String bucket) {
        try (S3Client c = S3Server.get().s3()) {
            return c.listMultipartUploads(b -> b.bucket(bucket)).uploads().stream().map(u -> u.key()).toList();
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static List<String> tocList(Path dumpFile) {
        PgTools.Result r = PgTools.run(List.of(pg.tool("pg_restore").path().toString(), "--list", dumpFile.toString()), Map.of(), null, 60);
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith(";")).toList();
    }

    @Test
    void roundTripThroughPlainPgRestore() throws Exception {
        String bucket = s3.createBucket("roundtrip");
        // Query parameters (as in Neon's URLs) pass through to libpq unchanged.
        String url = pg.url(sample) + "?sslmode=prefer&application_name=pgdump-s3-test";
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", url, "--json"));
        assertEquals(0, run.exit(), run.toString());

        List<String> keys = s3.keys(bucket);
        assertEquals(2, keys.size(), keys.toString());
        String dumpKey = keys.stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow();
        String manifestKey = keys.stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow();
        String name = BackupKey.sanitizeName(sample);
        assertTrue(dumpKey.matches("pg-backups/" + name + "/" + name + "_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.dump"), dumpKey);
        assertEquals(dumpKey.replace(".dump", ".manifest.json"), manifestKey);
        assertEquals(List.of(), uploadsInProgress(bucket));

        // The stored bytes are what the manifest says, and the manifest was written after the dump object.
        byte[] dump = download(bucket, dumpKey);
        Manifest m = Manifest.parse(new String(download(bucket, manifestKey), java.nio.charset.StandardCharsets.UTF_8), manifestKey);
        assertEquals(dump.length, m.sizeBytes());
        assertEquals(sha256(dump), m.sha256());
        assertFalse(object(bucket, manifestKey).lastModified().isBefore(object(bucket, dumpKey).lastModified()));

        assertEquals(1, m.formatVersion());
        assertEquals(Version.TOOL, m.tool());
        assertEquals(name, m.name());
        assertEquals(sample, m.database());
        assertEquals("127.0.0.1:" + pg.port, m.host());
        assertEquals(dumpKey, m.dumpKey());
        assertEquals("custom", m.format());
        assertEquals("gzip:6", m.compression()); // the default of pg_dump 15, the suite's client
        assertNull(m.encryption());
        assertEquals(pg.tool("pg_dump").version(), m.pgDumpVersion());
        assertTrue(m.serverVersion().startsWith(String.valueOf(pg.serverMajor())), m.serverVersion());
        assertEquals(List.of(), m.pgDumpArgs());
        assertFalse(java.time.Instant.parse(m.finishedAt()).isBefore(java.time.Instant.parse(m.startedAt())), m.startedAt() + " " + m.finishedAt());
        assertTrue(dumpKey.contains(BackupKey.STAMP.format(java.time.Instant.parse(m.startedAt()))), m.startedAt());
        var orders = m.tables().stream().filter(t -> t.schema().equals("sales") && t.table().equals("orders")).findFirst().orElseThrow();
        assertEquals(20000, orders.rowEstimate()); // analysed by the sample script
        assertTrue(m.tables().stream().anyMatch(t -> t.table().equals("Täbelle ✓")), m.tables().toString());

        // Restore with plain pg_restore into a new database: same schema, same data.
        Path file = Files.createTempFile("roundtrip", ".dump");
        String target = pg.createDatabase("backup_dst");
        dropLater.add(target);
        try {
            Files.write(file, dump);
            assertEquals(tocList(file).size(), m.tocEntries());
            SampleDatabase.pgRestore(pg, file, target);
        } finally {
            Files.deleteIfExists(file);
        }
        assertEquals(SampleDatabase.fingerprints(pg, sample), SampleDatabase.fingerprints(pg, target));
        assertEquals(SampleDatabase.schema(pg, sample), SampleDatabase.schema(pg, target));

        // --json: one document on stdout, agreeing with the manifest.
        JsonNode json = Json.MAPPER.readTree(run.out());
        assertTrue(json.get("ok").asBoolean());
        JsonNode b = json.get("backups").get(0);
        assertEquals("ok", b.get("status").asText());
        assertEquals(dumpKey, b.get("dumpKey").asText());
        assertEquals(m.sha256(), b.get("sha256").asText());
        assertEquals(m.sizeBytes(), b.get("sizeBytes").asLong());
        assertFalse(run.out().contains(pg.password) || run.err().contains(pg.password) || run.out().contains(ConnInfo.encode(pg.password)));
    }

    /** A fleet run with one bad database: the good ones complete, exit 3, and every summary says so. */
    @Test
    void fleetWithOneBadDatabase() throws Exception {
        String alpha = pg.createDatabase("fleet_alpha");
        String beta = pg.createDatabase("fleet_beta");
        dropLater.add(alpha);
        dropLater.add(beta);
        for (String db : List.of(alpha, beta)) {
            pg.sql(db, "create table keep as select g, md5(g::text) from generate_series(1, 2000) g;"
                    + " create table noise as select g from generate_series(1, 1000) g");
        }
        String bucket = s3.createBucket("fleet");
        Path fleet = Files.createTempFile("fleet", ".txt");
        Path stepSummary = Files.createTempFile("step-summary", ".md");
        try {
            Files.writeString(fleet, String.join("\n",
                    "# the fleet: NAME=URL, or a URL (named after its database), ${VAR} from the environment",
                    "alpha=" + pg.url(alpha),
                    "",
                    "${BETA_URL}",
                    "broken=" + pg.url("no_such_database_here")));
            Map<String, String> env = new java.util.HashMap<>(s3.env());
            env.put("BETA_URL", pg.url(beta));
            env.put("GITHUB_STEP_SUMMARY", stepSummary.toString());
            // A DATABASE_URL secret that happens to be set does not join a fleet given by file.
            env.put("DATABASE_URL", pg.url("not_in_the_fleet"));
            // --verbose makes pg_dump chatty on stderr: none of that may end up in the dump.
            Scripts.Run run = Scripts.runProcess("Backup", env, "--bucket", bucket, "--databases-file", fleet.toString(), "--jobs", "2", "--json",
                    "--", "--verbose", "--exclude-table-data=public.noise");
            assertEquals(Exit.PARTIAL, run.exit(), run.toString());

            JsonNode json = Json.MAPPER.readTree(run.out());
            assertFalse(json.get("ok").asBoolean());
            assertEquals(3, json.get("exitCode").asInt());
            assertEquals(2, json.get("succeeded").asInt(), run.toString());
            assertEquals(1, json.get("failed").asInt());
            JsonNode backups = json.get("backups");
            assertEquals(List.of("alpha", BackupKey.sanitizeName(beta), "broken"),
                    List.of(backups.get(0).get("name").asText(), backups.get(1).get("name").asText(), backups.get(2).get("name").asText()));
            assertEquals("failed", backups.get(2).get("status").asText());
            assertEquals(Exit.USAGE, backups.get(2).get("exitCode").asInt());
            assertTrue(backups.get(2).get("error").asText().contains("does not exist"), backups.get(2).toString());

            // The two good ones are complete backups; the bad one left nothing.
            List<String> keys = s3.keys(bucket);
            assertEquals(4, keys.size(), keys.toString());
            assertTrue(keys.stream().noneMatch(k -> k.contains("broken")), keys.toString());
            assertEquals(List.of(), uploadsInProgress(bucket));
            for (int i = 0; i < 2; i++) {
                JsonNode b = backups.get(i);
                assertEquals("ok", b.get("status").asText(), b.toString());
                byte[] dump = download(bucket, b.get("dumpKey").asText());
                Manifest m = Manifest.parse(new String(download(bucket, b.get("manifestKey").asText()), java.nio.charset.StandardCharsets.UTF_8), "m");
                assertEquals(sha256(dump), m.sha256());
                assertEquals(List.of("--verbose", "--exclude-table-data=public.noise"), m.pgDumpArgs());
                Path file = Files.createTempFile("fleet", ".dump");
                try {
                    Files.write(file, dump);
                    List<String> toc = tocList(file);
                    assertEquals(toc.size(), m.tocEntries(), run.err());
                    assertTrue(toc.stream().anyMatch(l -> l.contains("TABLE DATA public keep")), toc.toString());
                    assertTrue(toc.stream().noneMatch(l -> l.contains("TABLE DATA public noise")), toc.toString());
                } finally {
                    Files.deleteIfExists(file);
                }
            }

            // The summary table on stderr, and the same in GitHub's job summary.
            assertTrue(run.err().lines().anyMatch(l -> l.startsWith("alpha ") && l.contains("s3://" + bucket + "/pg-backups/alpha/")), run.err());
            assertTrue(run.err().lines().anyMatch(l -> l.startsWith("broken ") && l.contains("failed (exit 64)")), run.err());
            assertTrue(run.err().contains("1 of 3 databases failed"), run.err());
            String md = Files.readString(stepSummary);
            assertTrue(md.contains("2 of 3 databases backed up"), md);
            assertTrue(md.contains("| alpha |") && md.contains("| broken |") && md.contains("❌"), md);
            for (String text : List.of(run.out(), run.err(), md)) {
                assertFalse(text.contains(pg.password) || text.contains(ConnInfo.encode(pg.password)), "password leaked:\n" + text);
            }
        } finally {
            Files.deleteIfExists(fleet);
            Files.deleteIfExists(stepSummary);
        }
    }

    @Test
    void allDatabasesFailingExitsOne() {
        String bucket = s3.createBucket("allfail");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url("missing_one"), "--database-url", pg.url("missing_two")));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("2 of 2 databases failed"), run.err());
        assertEquals(List.of(), s3.keys(bucket));
    }

    // ---- each problem: one line, its exit code, nothing in the bucket ----

    /** Asserts a clean failure: the exit code, one line on stderr containing {@code fragment}, an empty bucket. */
    static void assertCleanFailure(Scripts.Run run, int exit, String bucket, String fragment) {
        assertEquals(exit, run.exit(), run.toString());
        String err = run.err().strip();
        assertEquals(1, err.lines().count(), "one line:\n" + err);
        assertTrue(err.startsWith("backup: error: "), err);
        assertTrue(err.toLowerCase(java.util.Locale.ROOT).contains(fragment.toLowerCase(java.util.Locale.ROOT)), "expected '" + fragment + "' in: " + err);
        assertFalse(err.contains(pg.password) || err.contains(ConnInfo.encode(pg.password)), err);
        if (bucket != null) {
            assertEquals(List.of(), s3.keys(bucket));
            assertEquals(List.of(), uploadsInProgress(bucket));
        }
    }

    @Test
    void unreachableHost() {
        String bucket = s3.createBucket("unreach");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", "postgresql://postgres:secret@127.0.0.1:1/postgres"));
        assertCleanFailure(run, Exit.UNAVAILABLE, bucket, "connection refused");
    }

    @Test
    void badPassword() {
        String bucket = s3.createBucket("badpw");
        String url = "postgresql://postgres:" + ConnInfo.encode("wrong " + pg.password) + "@127.0.0.1:" + pg.port + "/postgres";
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", url));
        assertCleanFailure(run, Exit.NO_PERMISSION, bucket, "password authentication failed");
    }

    @Test
    void databaseMissing() {
        String bucket = s3.createBucket("nodb");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url("there_is_no_such_db")));
        assertCleanFailure(run, Exit.USAGE, bucket, "does not exist");
    }

    @Test
    void bucketMissing() {
        String bucket = "no-such-bucket-" + System.nanoTime();
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url(sample)));
        assertCleanFailure(run, Exit.CONFIG, null, "bucket does not exist");
    }

    @Test
    void pgDumpMissing() {
        String bucket = s3.createBucket("nodump");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url(sample), "--pg-dump", "/nonexistent/bin/pg_dump"));
        assertCleanFailure(run, Exit.CONFIG, bucket, "pg_dump not found");
    }

    @Test
    void pgDumpTooOld() throws Exception {
        String bucket = s3.createBucket("olddump");
        Path dir = Files.createTempDirectory("old-pg-dump");
        try {
            Path fake = BackupRulesTest.fakeTool(dir, "pg_dump", "13.4");
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url(sample), "--pg-dump", fake.toString()));
            assertCleanFailure(run, Exit.CONFIG, bucket, "older than the server");
            assertTrue(run.err().contains("postgresql-client-" + pg.serverMajor()), run.err());
        } finally {
            PgServer.deleteTree(dir);
        }
    }

    @Test
    void noCredentials() throws Exception {
        String bucket = s3.createBucket("nocreds");
        Map<String, String> env = Map.of("AWS_ENDPOINT_URL", s3.endpoint, "AWS_REGION", S3Server.REGION,
                "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", "AWS_CONFIG_FILE", "/nonexistent/config",
                "AWS_EC2_METADATA_DISABLED", "true");
        Scripts.Run run = Scripts.runProcess("Backup", env, "--bucket", bucket, "--database-url", pg.url(sample));
        assertCleanFailure(run, Exit.CONFIG, bucket, "no AWS credentials");
    }

    /**
     * A user whose policy does not allow writing backups. moto enforces IAM only after /moto-api/reset-auth;
     * it is switched back off in finally so the rest of the suite is unaffected. (moto also refuses listings
     * with an encoded '/' in the prefix under enforcement, so the refusal may come from the preflight listing
     * rather than from CreateMultipartUpload; either way it is AccessDenied, which is what we check.)
     */
    @Test
    void accessDenied() throws Exception {
        String bucket = s3.createBucket("denied");
        String user = "backup-denied-" + System.nanoTime();
        Map<String, String> env = new java.util.HashMap<>(s3.env());
        try (var iam = AwsClients.iam(s3.options())) {
            iam.createUser(b -> b.userName(user));
            iam.putUserPolicy(b -> b.userName(user).policyName("list-only").policyDocument(
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucket\"],\"Resource\":\"arn:aws:s3:::" + bucket + "\"}]}"));
            var key = iam.createAccessKey(b -> b.userName(user)).accessKey();
            env.put("AWS_ACCESS_KEY_ID", key.accessKeyId());
            env.put("AWS_SECRET_ACCESS_KEY", Secrets.register(key.secretAccessKey()));
        }
        Scripts.Run run;
        motoAuth("0");
        try {
            run = Scripts.runProcess("Backup", env, "--bucket", bucket, "--database-url", pg.url(sample));
        } finally {
            motoAuth("inf");
        }
        assertCleanFailure(run, Exit.NO_PERMISSION, bucket, "permission denied");
    }

    static void motoAuth(String initialNoAuthActionCount) throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(s3.endpoint + "/moto-api/reset-auth"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(initialNoAuthActionCount)).build();
        var response = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
    }

    @Test
    void contractBreakingPgDumpArgumentsAreRefused() {
        for (List<String> extra : List.of(List.of("-f", "/tmp/x.dump"), List.of("--format=plain"), List.of("-Fd"), List.of("--dbname=other"),
                List.of("-j", "4"), List.of("otherdb"), List.of("--fi=/tmp/x"), List.of("-Z", "9"), List.of("-W"))) {
            List<String> all = new ArrayList<>(List.of("--database-url", pg.url(sample), "--"));
            all.addAll(extra);
            Scripts.Run run = Scripts.run(new Backup(), args("any-bucket", all.toArray(String[]::new)));
            assertEquals(Exit.USAGE, run.exit(), extra + ": " + run);
            assertTrue(run.err().contains("is not allowed"), run.err());
        }
    }

    @Test
    void ambiguousNamesAreRefused() {
        // --name is for one database.
        Scripts.Run run = Scripts.run(new Backup(), args("any-bucket", "--database-url", pg.url("a"), "--database-url", pg.url("b"), "--name", "x"));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        // Two databases that would share NAME (Neon's databases are all called neondb) would overwrite each other.
        run = Scripts.run(new Backup(), args("any-bucket", "--database-url", "postgresql://u@host-one/neondb", "--database-url", "postgresql://u@host-two/neondb"));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("same name 'neondb'"), run.err());
        run = Scripts.run(new Backup(), args("any-bucket", "--database-url", pg.url(sample), "--name", "Not Valid"));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("'not-valid'"), run.err());
    }

    @Test
    void emptyDatabaseUnderAGivenName() {
        String empty = pg.createDatabase("backup_empty");
        dropLater.add(empty);
        String bucket = s3.createBucket("empty");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url(empty), "--name", "the-empty-one"));
        assertEquals(0, run.exit(), run.toString());
        List<String> keys = s3.keys(bucket);
        assertEquals(2, keys.size(), keys.toString());
        assertTrue(keys.get(0).startsWith("pg-backups/the-empty-one/the-empty-one_"), keys.toString());
        String manifestKey = keys.stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow();
        Manifest m = Manifest.parse(new String(download(bucket, manifestKey), java.nio.charset.StandardCharsets.UTF_8), manifestKey);
        assertEquals("the-empty-one", m.name());
        assertEquals(empty, m.database());
        assertEquals(0, m.tocEntries()); // pg_restore --list shows no entry for an empty database
        assertEquals(List.of(), m.tables());
    }

    /** --json still prints its one document when the one database fails; the error stays one line on stderr. */
    @Test
    void jsonOnFailure() throws Exception {
        String bucket = s3.createBucket("jsonfail");
        Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url("absent_db"), "--json"));
        assertCleanFailure(run, Exit.USAGE, bucket, "does not exist");
        JsonNode json = Json.MAPPER.readTree(run.out());
        assertFalse(json.get("ok").asBoolean());
        assertEquals(Exit.USAGE, json.get("exitCode").asInt());
        assertEquals("failed", json.get("backups").get(0).get("status").asText());
        assertTrue(json.get("backups").get(0).get("dumpKey").isNull());
    }
}
