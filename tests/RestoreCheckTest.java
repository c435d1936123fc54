import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code restore check}, the watchdog, as a user runs it: against the S3 emulator holding backups that backup.java made
 * of a real PostgreSQL database (re-keyed copies of them where a test needs history or age: the same bytes and
 * manifest, started earlier), drilled by restore drill, with its outputs read back: the --json document, the lines on
 * stderr, the GitHub step summary and annotations, the Prometheus textfile (through a strict parser of the exposition
 * format), pings and the webhook (received by a local HTTP server). The verdicts as a pure function are BackupHealthTest.
 */
class RestoreCheckTest {
    static final String PREFIX = "pg-backups";
    static PgServer pg;
    static S3Server s3;
    static HttpRecorder http;
    static String sample;
    static final List<String> dropLater = new ArrayList<>();
    /** A bucket with one name, "app": a backup made by backup.java just now, and a passed restore drill of it. */
    static String green;
    static TestBackups.Made appBackup;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PgServer.get();
        s3 = S3Server.get();
        http = new HttpRecorder();
        sample = SampleDatabase.create(pg, "check_src");
        dropLater.add(sample);
        green = s3.createBucket("check-green");
        backup(green, sample, "app");
        Scripts.Run drill = Scripts.run(new Restore(), args("drill", green, "--target-url", pg.url("postgres"), "--name", "app"));
        assertEquals(0, drill.exit(), drill.toString());
        appBackup = stored(green, "app");
    }

    @AfterAll
    static void tearDown() {
        if (http != null) http.close();
        for (String db : dropLater) pg.dropDatabase(db);
        assertFalse(Output.all().contains(PgServer.PASSWORD), "the database password appeared in some output");
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    static String[] args(String command, String bucket, String... more) {
        List<String> all = new ArrayList<>(List.of(command, "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static Scripts.Run check(String bucket, String... more) { return Scripts.run(new Restore(), args("check", bucket, more)); }

    static void backup(String bucket, String db, String name) {
        Scripts.Run run = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(db), "--name", name);
        assertEquals(0, run.exit(), run.toString());
    }

    /** The newest complete backup of NAME as stored: its key, manifest and dump bytes. */
    static TestBackups.Made stored(String bucket, String name) {
        try (S3Client c = s3.s3()) {
            BackupListing.Entry e = BackupListing.list(c, bucket, PREFIX, name).stream().filter(BackupListing.Entry::complete)
                    .max(Comparator.comparing((BackupListing.Entry x) -> x.key().startedAt())).orElseThrow();
            byte[] dump = c.getObjectAsBytes(b -> b.bucket(bucket).key(e.key().dumpKey())).asByteArray();
            return new TestBackups.Made(e.key(), e.status().manifest(), dump);
        }
    }

    /** A backup.java backup stored again under NAME, started {@code ago} before now. */
    static TestBackups.Made copy(String bucket, TestBackups.Made from, String name, Duration ago) {
        return TestBackups.copy(bucket, from, name, Instant.now().minus(ago).truncatedTo(ChronoUnit.SECONDS));
    }

    static void delete(String bucket, TestBackups.Made backup) {
        TestBackups.deleteObject(bucket, backup.dumpKey());
        TestBackups.deleteObject(bucket, backup.manifestKey());
        TestBackups.deleteObject(bucket, backup.key().verifyKey());
    }

    static Map<String, String> verdicts(JsonNode doc) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode n : doc.get("names")) out.put(n.get("name").asText(), n.get("verdict").asText());
        return out;
    }

    static String problems(JsonNode doc, String name) {
        for (JsonNode n : doc.get("names")) if (n.get("name").asText().equals(name)) return n.get("problems").toString();
        throw new AssertionError("no " + name + " in " + doc);
    }

    /** Per name, the verdict series that is 1 in the Prometheus file. */
    static Map<String, String> verdicts(Map<String, PrometheusTextParser.Family> families) {
        Map<String, String> out = new TreeMap<>();
        for (PrometheusTextParser.Sample s : families.get("pgdump_s3_backup_verdict").samples) {
            if (s.value() == 1) assertEquals(null, out.put(s.labels().get("name"), s.labels().get("verdict")), "one verdict per name");
        }
        return out;
    }

    static Double sample(Map<String, PrometheusTextParser.Family> families, String metric, String name) {
        for (PrometheusTextParser.Sample s : families.get(metric).samples) if (name.equals(s.labels().get("name"))) return s.value();
        return null;
    }

    // ---- tests ----------------------------------------------------------------------------------------------

    /**
     * The "done when": one bucket, one name per way of going wrong, one check, run as a child process the way a
     * GitHub Actions step runs it. Every name gets its own verdict and reason, in every output.
     */
    @Test
    void eachProblemTurnsTheWatchdogRedWithItsReasonThroughEveryOutput(@TempDir Path dir) throws Exception {
        String bucket = s3.createBucket("check-red");
        // fresh: backed up an hour ago, proven by the drill.
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "fresh", Duration.ofHours(1)), VerifyRecord.PASSED);
        // stale: the backups stopped two days ago (the last one was drilled).
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "stale", Duration.ofHours(50)), VerifyRecord.PASSED);
        // unproven: fresh, but its drill failed.
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "unproven", Duration.ofHours(2)), VerifyRecord.FAILED,
                "sales.orders: 19000 rows restored, the manifest says 20000");
        // shrunk: a week of nightly backups of a database, then tables dropped, then backup.java again.
        String shrinking = SampleDatabase.create(pg, "check_shrink");
        dropLater.add(shrinking);
        backup(bucket, shrinking, "shrunk");
        TestBackups.Made full = stored(bucket, "shrunk");
        for (int day = 1; day <= 7; day++) copy(bucket, full, "shrunk", Duration.ofDays(day));
        pg.sql(shrinking, "drop table sales.orders cascade; truncate public.customers, public.audit_log cascade");
        backup(bucket, shrinking, "shrunk");
        TestBackups.Made small = stored(bucket, "shrunk");
        assertTrue(small.manifest().sizeBytes() * 2 < full.manifest().sizeBytes(), small.manifest().sizeBytes() + " vs " + full.manifest().sizeBytes());
        TestBackups.putDrillRecord(bucket, small, VerifyRecord.PASSED);
        // leftover: fine, but a dump without a manifest from 30 hours ago (and one from an hour ago: still running, not a problem).
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "leftover", Duration.ofHours(3)), VerifyRecord.PASSED);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        TestBackups.putObject(bucket, new BackupKey(PREFIX, "leftover", now.minus(Duration.ofHours(30))).dumpKey(), appBackup.dump());
        TestBackups.putObject(bucket, new BackupKey(PREFIX, "leftover", now.minus(Duration.ofHours(1))).dumpKey(), appBackup.dump());
        // cutoff: fine, but a backup cut off mid-upload 30 hours ago left an open multipart upload and no object (and
        // one started an hour ago is still uploading).
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "cutoff", Duration.ofHours(3)), VerifyRecord.PASSED);
        try (S3Client c = s3.s3()) {
            for (Duration ago : List.of(Duration.ofHours(30), Duration.ofHours(1))) {
                String key = new BackupKey(PREFIX, "cutoff", now.minus(ago)).dumpKey();
                c.createMultipartUpload(b -> b.bucket(bucket).key(key));
            }
        }
        // gone: expected, never backed up (--expect).

        http.clear();
        Path summary = dir.resolve("summary.md"), prom = dir.resolve("pg_backups.prom");
        Map<String, String> env = new LinkedHashMap<>(s3.env());
        env.put("GITHUB_ACTIONS", "true");
        env.put("GITHUB_STEP_SUMMARY", summary.toString());
        // Through the environment, as the docs say: these URLs are keys.
        env.put("WATCH_PING_URL", http.base() + "/ping/{name} " + http.base() + "/whole");
        env.put("WATCH_WEBHOOK_URL", http.base() + "/hook/T000/B000/s3cr3tw3bh00k");
        Instant before = Instant.now();
        Scripts.Run run = Scripts.runProcess("Restore", env, "check", "--bucket", bucket, "--expect", "gone", "--prometheus", prom.toString(), "--json");
        Instant after = Instant.now();

        assertEquals(Exit.FAILED, run.exit(), run.toString());
        JsonNode doc = Json.MAPPER.readTree(run.out()); // stdout is the document alone
        assertFalse(doc.get("ok").asBoolean());
        assertEquals(1, doc.get("exitCode").asInt());
        Map<String, String> expected = Map.of("fresh", "ok", "stale", "stale", "unproven", "unverified", "shrunk", "anomaly", "leftover", "anomaly",
                "cutoff", "anomaly", "gone", "missing");
        assertEquals(new TreeMap<>(expected), verdicts(doc), run.toString());
        assertEquals("[]", problems(doc, "fresh"));
        assertTrue(problems(doc, "stale").contains("the newest complete backup is 2d 2h old") && problems(doc, "stale").contains("more than --max-age 1d 2h"), problems(doc, "stale"));
        assertTrue(problems(doc, "unproven").contains("FAILED: sales.orders: 19000 rows restored"), problems(doc, "unproven"));
        assertTrue(problems(doc, "shrunk").contains("smaller than the median of the 7 before it") && !problems(doc, "shrunk").contains("unverified"), problems(doc, "shrunk"));
        assertTrue(problems(doc, "leftover").contains("1 dump without a manifest older than --max-incomplete-age 1d"), problems(doc, "leftover"));
        assertTrue(problems(doc, "cutoff").contains("1 upload of a dump never completed, older than --max-incomplete-age 1d"), problems(doc, "cutoff"));
        assertTrue(problems(doc, "gone").contains("no backup at all under its prefix, though it is expected"), problems(doc, "gone"));

        // One line per problem on stderr, verdict then name, each saying what to do; an annotation each (stdout is the JSON's).
        List<String> lines = run.err().lines().filter(l -> l.matches("(stale|unverified|anomaly|missing): [a-z]+: .*")).toList();
        assertEquals(Set.of("stale", "unproven", "shrunk", "leftover", "cutoff", "gone"), new TreeSet<>(lines.stream().map(l -> l.split(": ")[1]).toList()), run.err());
        assertEquals(6, lines.size(), run.err());
        assertTrue(run.err().contains("::error title=backup stale::stale: the newest complete backup"), run.err());
        assertTrue(run.err().contains("7 names: 1 ok, 1 unverified, 3 anomaly, 1 stale, 1 missing: PROBLEMS"), run.err());

        String md = Files.readString(summary);
        assertTrue(md.contains("PROBLEMS: 7 names") && md.contains("| `stale` | **stale** |") && md.contains("| `fresh` | ok |")
                && md.contains("- missing: gone: no backup at all"), md);

        // The Prometheus file: valid exposition format, the same verdicts, ages and the time of the check.
        Map<String, PrometheusTextParser.Family> families = PrometheusTextParser.parse(Files.readString(prom), true);
        assertEquals(new TreeMap<>(expected), verdicts(families));
        double checkedAt = families.get("pgdump_s3_check_timestamp_seconds").samples.get(0).value();
        assertTrue(checkedAt >= before.getEpochSecond() - 1 && checkedAt <= after.getEpochSecond(), checkedAt + " not in [" + before + ", " + after + "]");
        assertTrue(sample(families, "pgdump_s3_backup_newest_age_seconds", "stale") >= 50 * 3600, families.toString());
        assertTrue(sample(families, "pgdump_s3_backup_newest_age_seconds", "fresh") < 2 * 3600);
        assertEquals(null, sample(families, "pgdump_s3_backup_newest_age_seconds", "gone"), "no age where there is no backup");
        assertEquals((double) small.manifest().sizeBytes(), sample(families, "pgdump_s3_backup_size_bytes", "shrunk"));

        // Pings: success for the good name, /fail for the others and for the whole check; each body says why.
        Map<String, String> pings = new TreeMap<>();
        for (HttpRecorder.Request r : http.requests()) if (!r.path().startsWith("/hook/")) pings.put(r.path(), r.body());
        assertEquals(Set.of("/ping/fresh", "/ping/stale/fail", "/ping/unproven/fail", "/ping/shrunk/fail", "/ping/leftover/fail", "/ping/cutoff/fail", "/ping/gone/fail",
                "/whole/fail"),
                pings.keySet());
        assertTrue(pings.get("/ping/stale/fail").contains("stale: stale: the newest complete backup"), pings.toString());
        assertTrue(pings.get("/whole/fail").startsWith("6 of 7 backup names need attention"), pings.get("/whole/fail"));
        // The webhook: one JSON POST, Slack's text field naming every problem.
        List<HttpRecorder.Request> hooks = http.requests().stream().filter(r -> r.path().startsWith("/hook/")).toList();
        assertEquals(1, hooks.size(), hooks.toString());
        assertEquals("POST", hooks.get(0).method());
        assertEquals("application/json", hooks.get(0).contentType());
        String text = Json.MAPPER.readTree(hooks.get(0).body()).get("text").asText();
        assertTrue(text.startsWith("pgdump-s3: 6 of 7 backup names in s3://" + bucket + "/pg-backups/ need attention"), text);
        for (String name : List.of("stale", "unproven", "shrunk", "leftover", "cutoff", "gone")) assertTrue(text.contains(": " + name + ": "), name + " in " + text);
        // The URLs are keys: never printed.
        assertFalse((run.out() + run.err() + md).contains("s3cr3tw3bh00k") || (run.out() + run.err() + md).contains("/ping/"), run.toString());
    }

    /**
     * All well: exit 0, the table, a success ping, no webhook. Then the backups stop (the newest is gone, the one before
     * is 30 hours old): the next check is red, with the reason, and the ping turns to /fail.
     */
    @Test
    void greenUntilTheBackupsStopThenRedWithinOneCheck(@TempDir Path dir) throws Exception {
        String bucket = s3.createBucket("check-stop");
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "app", Duration.ofHours(30)), VerifyRecord.PASSED);
        TestBackups.Made last = copy(bucket, appBackup, "app", Duration.ofHours(6));
        TestBackups.putDrillRecord(bucket, last, VerifyRecord.PASSED);
        Path prom = dir.resolve("app.prom");
        String ping = http.base() + "/stop/{name}", hook = http.base() + "/stop-hook";

        http.clear();
        Scripts.Run ok = check(bucket, "--prometheus", prom.toString(), "--ping-url", ping, "--webhook-url", hook);
        assertEquals(Exit.OK, ok.exit(), ok.toString());
        assertTrue(ok.out().lines().anyMatch(l -> l.matches("app +ok +\\S+ +6h .*")), ok.out());
        assertTrue(ok.err().contains("restore check: s3://" + bucket + "/pg-backups/: 1 name: 1 ok") && !ok.err().contains("PROBLEMS"), ok.err());
        assertEquals(List.of("/stop/app"), http.paths(), "a success ping and no webhook");
        assertEquals(Map.of("app", "ok"), verdicts(PrometheusTextParser.parse(Files.readString(prom), true)));

        delete(bucket, last);
        http.clear();
        Scripts.Run red = check(bucket, "--prometheus", prom.toString(), "--ping-url", ping, "--webhook-url", hook);
        assertEquals(Exit.FAILED, red.exit(), red.toString());
        assertTrue(red.err().lines().anyMatch(l -> l.startsWith("stale: app: the newest complete backup is 1d 6h old")
                && l.contains("look at the backup job's recent runs")), red.err());
        assertTrue(red.out().lines().anyMatch(l -> l.matches("app +stale +\\S+ +1d 6h .*")), red.out());
        assertEquals(Set.of("/stop/app/fail", "/stop-hook"), Set.copyOf(http.paths()));
        assertEquals(Map.of("app", "stale"), verdicts(PrometheusTextParser.parse(Files.readString(prom), true)));
    }

    /** The backup.java backup, never drilled, is unverified; after restore drill the same check is green. */
    @Test
    void aDrillIsWhatMakesAFreshBackupGreen() {
        String bucket = s3.createBucket("check-drill");
        backup(bucket, sample, "app");
        Scripts.Run before = check(bucket);
        assertEquals(Exit.FAILED, before.exit(), before.toString());
        assertTrue(before.err().contains("unverified: app: no complete backup has a passed restore drill: run 'restore drill --name app'"), before.err());
        assertTrue(check(bucket, "--max-unverified-age", "off").exit() == Exit.OK, "off: drills are not required");

        Scripts.Run drill = Scripts.run(new Restore(), args("drill", bucket, "--target-url", pg.url("postgres"), "--name", "app"));
        assertEquals(0, drill.exit(), drill.toString());
        Scripts.Run after = check(bucket);
        assertEquals(Exit.OK, after.exit(), after.toString());
    }

    /** A name whose backups are all deleted leaves nothing to list: the --state file remembers it, and it is missing. */
    @Test
    void aNameWhoseBackupsAreAllGoneIsMissingWhenRemembered(@TempDir Path dir) throws Exception {
        String bucket = s3.createBucket("check-state");
        Path state = dir.resolve("watch-state.json");
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "keep", Duration.ofHours(2)), VerifyRecord.PASSED);
        TestBackups.Made doomed = copy(bucket, appBackup, "doomed", Duration.ofHours(2));
        TestBackups.putDrillRecord(bucket, doomed, VerifyRecord.PASSED);
        assertEquals(Exit.OK, check(bucket, "--state", state.toString()).exit());
        assertTrue(Files.readString(state).contains("\"doomed\""), Files.readString(state));

        delete(bucket, doomed);
        Scripts.Run run = check(bucket, "--state", state.toString(), "--json");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals(Map.of("doomed", "missing", "keep", "ok"), verdicts(doc));
        assertTrue(problems(doc, "doomed").contains("no backup at all under its prefix, though it had one when this check last ran"), problems(doc, "doomed"));
        // Still missing on the next check (not forgotten because it was missing once), until --ignore'd.
        assertEquals(Exit.FAILED, check(bucket, "--state", state.toString()).exit());
        assertEquals(Exit.OK, check(bucket, "--state", state.toString(), "--ignore", "doomed").exit());
        assertEquals(Exit.OK, check(bucket, "--state", state.toString()).exit(), "forgotten once ignored");
    }

    /** Thresholds are options with environment defaults; the option wins. */
    @Test
    void thresholdsFromOptionsAndTheEnvironment() throws Exception {
        String bucket = s3.createBucket("check-limits");
        TestBackups.putDrillRecord(bucket, copy(bucket, appBackup, "app", Duration.ofHours(5)), VerifyRecord.PASSED);
        assertEquals(Exit.OK, check(bucket).exit());
        Scripts.Run tight = check(bucket, "--max-age", "4h");
        assertEquals(Exit.FAILED, tight.exit(), tight.toString());
        assertTrue(tight.err().contains("stale: app: the newest complete backup is 5h old"), tight.err());

        Map<String, String> env = new LinkedHashMap<>(s3.env());
        env.put("WATCH_MAX_AGE", "4h");
        Scripts.Run fromEnv = Scripts.runProcess("Restore", env, "check", "--bucket", bucket);
        assertEquals(Exit.FAILED, fromEnv.exit(), fromEnv.toString());
        assertTrue(fromEnv.err().contains("more than --max-age 4h"), fromEnv.err());
        Scripts.Run optionWins = Scripts.runProcess("Restore", env, "check", "--bucket", bucket, "--max-age", "6h");
        assertEquals(Exit.OK, optionWins.exit(), optionWins.toString());

        Scripts.Run bad = check(bucket, "--max-age", "26 hours");
        assertEquals(Exit.USAGE, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("--max-age '26 hours' is not a duration"), bad.err());
    }

    /** S3 unreachable: 69, no verdict on any name, and the whole-check ping says the check failed. */
    @Test
    void anUnreachableBucketIs69AndTheWholeCheckPingFails() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        http.clear();
        Scripts.Run run = Scripts.run(new Restore(), "check", "--bucket", green, "--endpoint-url", "http://127.0.0.1:" + port, "--region", S3Server.REGION,
                "--ping-url", http.base() + "/down", "--ping-url", http.base() + "/down/{name}");
        assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        assertEquals(List.of("/down/fail"), http.paths(), "only the whole-check ping: no name was judged");
        assertTrue(http.requests().get(0).body().startsWith("the check failed: "), http.requests().get(0).body());
    }

    /**
     * A role that may not list the bucket: 77. One that may read backups but not list multipart uploads (the restorer
     * role): the check stands, and says what it could not look at.
     */
    @Test
    void accessDeniedIs77AndUploadsNotListableIsANote() throws Exception {
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            FaultProxy.Rule uploads = proxy.error("no ListMultipartUploads", r -> r.method().equals("GET") && r.has("uploads"), -1, 403, "AccessDenied", "Access Denied");
            Scripts.Run partly = Scripts.run(new Restore(), "check", "--bucket", green, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION, "--json");
            assertEquals(Exit.OK, partly.exit(), partly.toString());
            assertTrue(uploads.applied() > 0);
            assertTrue(partly.err().contains("note: open multipart uploads not checked: ") && partly.err().contains("s3:ListBucketMultipartUploads"), partly.err());
            assertTrue(Json.MAPPER.readTree(partly.out()).get("uploadsNote").asText().startsWith("open multipart uploads not checked"), partly.out());

            proxy.error("deny", r -> true, -1, 403, "AccessDenied", "Access Denied");
            Scripts.Run run = Scripts.run(new Restore(), "check", "--bucket", green, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION);
            assertEquals(Exit.NO_PERMISSION, run.exit(), run.toString());
            assertTrue(run.err().contains("AccessDenied") || run.err().toLowerCase().contains("denied"), run.err());
        }
    }

    /** A ping endpoint that accepts the connection and never answers costs the timeout, is reported, and changes nothing. */
    @Test
    void aHangingPingIsBoundedByItsTimeoutAndNeverChangesTheVerdict() {
        http.clear();
        Scripts.Run run = assertTimeoutPreemptively(Duration.ofMinutes(3),
                () -> check(green, "--ping-url", http.base() + "/hang/{name}", "--ping-timeout", "2s", "--webhook-url", http.base() + "/hook"));
        assertEquals(Exit.OK, run.exit(), run.toString());
        assertTrue(run.err().contains("warning: ping for app (success) to 127.0.0.1:") && run.err().contains("no answer within 2s (the verdict stands)"), run.err());
        assertEquals(List.of("/hang/app"), http.paths(), "no webhook when all is well");
    }

    /** The same check against s3proxy, a second S3 implementation: the listing and records read the same way. */
    @Test
    void onS3ProxyToo() {
        S3Server proxy = S3Server.s3proxy();
        String bucket = proxy.createBucket("check-s3proxy");
        Scripts.Run b = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(sample), "--name", "app");
        assertEquals(0, b.exit(), b.toString());
        Scripts.Run before = Scripts.run(new Restore(), "check", "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION);
        assertEquals(Exit.FAILED, before.exit(), before.toString());
        assertTrue(before.err().contains("unverified: app: no complete backup has a passed restore drill"), before.err());
        Scripts.Run drill = Scripts.run(new Restore(), "drill", "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION,
                "--target-url", pg.url("postgres"), "--name", "app");
        assertEquals(0, drill.exit(), drill.toString());
        Scripts.Run after = Scripts.run(new Restore(), "check", "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION, "--json");
        assertEquals(Exit.OK, after.exit(), after.toString());
        assertTrue(after.out().contains("\"verdict\" : \"ok\"") || after.out().contains("\"verdict\":\"ok\""), after.out());
    }
}
