import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * prune.java against the S3 emulator: real listings, real DeleteObjects, real multipart uploads. Backups are
 * small fake dump bytes plus a valid manifest (prune never reads dumps); their times are relative to now.
 */
class PruneTest {
    static S3Server server;
    static S3Client s3;
    static final String PREFIX = "pg-backups";
    /** Every backup's time: whole hours, so "N days ago" never falls on a rule's boundary. */
    static final Instant BASE = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(1));

    @BeforeAll
    static void start() {
        server = S3Server.get();
        s3 = server.s3();
    }

    @AfterAll
    static void stop() { s3.close(); }

    // ---- fixtures ------------------------------------------------------------------------------------------

    static Instant daysAgo(int days) { return BASE.minus(Duration.ofDays(days)); }

    /** A backup as backup.java leaves it: the dump, then (if complete) its manifest, and a verify record if drilled. */
    static BackupKey putBackup(String bucket, String name, Instant at, boolean complete, boolean verified) {
        BackupKey key = new BackupKey(PREFIX, name, at);
        byte[] dump = ("PGDMP fake dump of " + name + " at " + at).getBytes(StandardCharsets.UTF_8);
        put(bucket, key.dumpKey(), dump);
        if (complete) {
            Manifest m = new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, name, name, "db.example.com", key.dumpKey(),
                    at.toString(), at.plusSeconds(30).toString(), dump.length, TestBackups.sha256(dump), "15.8", "15.8", "custom", "zstd:3", null, 3, List.of(), List.of());
            put(bucket, key.manifestKey(), m.toJson().getBytes(StandardCharsets.UTF_8));
        }
        if (verified) putVerify(bucket, key, "passed", TestBackups.sha256(dump));
        return key;
    }

    /** A drill record as restore.java's drill writes it (only the fields prune reads matter here). */
    static void putVerify(String bucket, BackupKey key, String outcome, String dumpSha256) {
        put(bucket, key.verifyKey(), ("{\"formatVersion\":1,\"outcome\":\"" + outcome + "\",\"dumpSha256\":\"" + dumpSha256 + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    static void put(String bucket, String key, byte[] body) {
        s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(body));
    }

    /**
     * prune with its least --grace lowered (a field, not an option: tests only), so that --grace 0s reaps the leftovers a
     * test has just made: prune waits for --grace by S3's LastModified too, and every object here was stored moments ago.
     */
    static Prune withoutGraceFloor() {
        Prune p = new Prune();
        p.graceFloor = Duration.ZERO;
        return p;
    }

    /** S3's LastModified has one-second resolution and prune's clock is truncated to the second: let one pass. */
    static void aSecondPasses() throws InterruptedException { Thread.sleep(1100); }

    static String[] args(String bucket, String... more) {
        List<String> a = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", server.endpoint, "--region", S3Server.REGION));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static JsonNode json(Scripts.Run run) throws Exception {
        return Json.MAPPER.readTree(run.out());
    }

    /** Every key a --json report says it deletes (backups and incomplete ones). */
    static Set<String> plannedKeys(JsonNode doc) {
        Set<String> keys = new TreeSet<>();
        for (JsonNode n : doc.get("names")) {
            for (String list : List.of("deleted", "incompleteRemoved")) {
                for (JsonNode b : n.get(list)) for (JsonNode k : b.get("keys")) keys.add(k.asText());
            }
        }
        return keys;
    }

    static List<String> keptTimes(JsonNode doc, String name) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : doc.get("names")) if (n.get("name").asText().equals(name)) for (JsonNode k : n.get("kept")) out.add(k.get("startedAt").asText());
        return out;
    }

    static Set<String> minus(List<String> a, List<String> b) {
        Set<String> s = new TreeSet<>(a);
        b.forEach(s::remove);
        return s;
    }

    // ---- the tests -----------------------------------------------------------------------------------------

    @Test
    void dryRunChangesNothingAndARealRunDeletesExactlyThePlan() throws Exception {
        String bucket = server.createBucket("prune-plan");
        // app: 40 nightly backups, a few drilled; shop: 6; plus incomplete ones, old and young.
        for (int d = 0; d < 40; d++) putBackup(bucket, "app", daysAgo(d), true, d % 10 == 3);
        for (int d = 0; d < 6; d++) putBackup(bucket, "shop", daysAgo(d).minus(Duration.ofMinutes(30)), true, false);
        BackupKey oldIncomplete = putBackup(bucket, "app", daysAgo(3).plus(Duration.ofMinutes(20)), false, false);
        // --grace 0s below (every object was stored just now): a backup that started, by its host's clock, minutes from now is younger.
        BackupKey youngIncomplete = putBackup(bucket, "app", Instant.now().plus(Duration.ofMinutes(10)), false, false);
        // Objects that are not ours: under the prefix but not matching the layout, and outside the prefix.
        BackupKey outside = new BackupKey("other-prefix", "app", daysAgo(100));
        List<String> foreign = List.of(
                PREFIX + "/README.txt",
                PREFIX + "/app/notes.txt",
                PREFIX + "/app/" + new BackupKey(PREFIX, "app", daysAgo(50)).dumpKey().substring(PREFIX.length() + 5) + ".bak",
                PREFIX + "/app/shop_" + BackupKey.STAMP.format(daysAgo(60)) + ".dump",
                PREFIX + "/Upper/Upper_" + BackupKey.STAMP.format(daysAgo(70)) + ".dump",
                PREFIX + "/app/sub/app_" + BackupKey.STAMP.format(daysAgo(80)) + ".manifest.json",
                outside.dumpKey(), outside.manifestKey());
        for (String k : foreign) put(bucket, k, "not ours".getBytes(StandardCharsets.UTF_8));

        List<String> before = server.keys(bucket);
        aSecondPasses();
        Scripts.Run dry = Scripts.run(withoutGraceFloor(), args(bucket, "--keep-daily", "7", "--keep-weekly", "4", "--grace", "0s", "--dry-run", "--json"));
        assertEquals(0, dry.exit(), dry.toString());
        assertEquals(before, server.keys(bucket), "--dry-run changed the bucket");
        JsonNode plan = json(dry);
        assertTrue(plan.get("dryRun").asBoolean());

        // app keeps 7 daily + the Sundays of 3 earlier ISO weeks, of which the last one is a daily already
        // unless today is Sunday: 9 or 10.
        List<String> appKept = keptTimes(plan, "app");
        assertTrue(appKept.size() >= 9 && appKept.size() <= 10, appKept.toString());
        assertTrue(appKept.contains(BASE.toString()));
        assertEquals(6, keptTimes(plan, "shop").size());
        Set<String> planned = plannedKeys(plan);
        assertTrue(planned.contains(oldIncomplete.dumpKey()), planned.toString());
        assertFalse(planned.contains(youngIncomplete.dumpKey()));
        for (String k : foreign) assertFalse(planned.contains(k), k);
        Set<String> expected = new TreeSet<>(List.of(oldIncomplete.dumpKey()));
        for (int d = 0; d < 40; d++) {
            BackupKey k = new BackupKey(PREFIX, "app", daysAgo(d));
            if (appKept.contains(daysAgo(d).toString())) continue;
            expected.addAll(d % 10 == 3 ? List.of(k.manifestKey(), k.verifyKey(), k.dumpKey()) : List.of(k.manifestKey(), k.dumpKey()));
        }
        assertEquals(expected, planned);

        Scripts.Run real = Scripts.run(withoutGraceFloor(), args(bucket, "--keep-daily", "7", "--keep-weekly", "4", "--grace", "0s", "--json"));
        assertEquals(0, real.exit(), real.toString());
        List<String> after = server.keys(bucket);
        assertEquals(planned, minus(before, after), "a real run deletes exactly the dry run's plan");
        assertEquals(plannedKeys(json(real)), planned);
        for (String k : foreign) assertTrue(after.contains(k), "foreign object deleted: " + k);
        assertTrue(after.contains(youngIncomplete.dumpKey()), "an incomplete backup younger than --grace was removed");
        for (JsonNode n : json(real).get("names")) for (JsonNode b : n.get("deleted")) assertEquals("deleted", b.get("outcome").asText(), b.toString());

        // A second run finds nothing more to do.
        Scripts.Run again = Scripts.run(withoutGraceFloor(), args(bucket, "--keep-daily", "7", "--keep-weekly", "4", "--grace", "0s", "--json"));
        assertEquals(0, again.exit(), again.toString());
        assertEquals(Set.of(), plannedKeys(json(again)));
        assertEquals(after, server.keys(bucket));
    }

    @Test
    void humanReportSaysWhatIsKeptAndWhy() {
        String bucket = server.createBucket("prune-text");
        for (int d = 0; d < 4; d++) putBackup(bucket, "app", daysAgo(d), true, d == 1);
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "2", "--dry-run"));
        assertEquals(0, run.exit(), run.toString());
        String out = run.out();
        assertTrue(out.startsWith("Dry run (nothing is deleted)"), out);
        assertTrue(out.contains("app: 4 complete backups, 2 kept, 2 to delete"), out);
        assertTrue(out.contains("  keep     " + BackupKey.STAMP.format(BASE) + "  newest, last, min-keep\n"), out);
        assertTrue(out.contains("  keep     " + BackupKey.STAMP.format(daysAgo(1)) + "  last  (verified)\n"), out);
        assertTrue(out.contains("  delete   " + BackupKey.STAMP.format(daysAgo(3)) + "\n"), out);
        assertTrue(out.contains("nothing was changed"), out);
    }

    @Test
    void theNewestAndMinKeepSurviveKeepDaysZero() throws Exception {
        String bucket = server.createBucket("prune-minkeep");
        List<BackupKey> app = new ArrayList<>();
        for (int d = 0; d < 6; d++) app.add(putBackup(bucket, "app", daysAgo(d), true, d == 4));
        BackupKey lonely = putBackup(bucket, "lonely", daysAgo(400), true, false);

        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-days", "0", "--min-keep", "2"));
        assertEquals(0, run.exit(), run.toString());
        List<String> keys = server.keys(bucket);
        assertEquals(List.of(app.get(1).dumpKey(), app.get(1).manifestKey(), app.get(0).dumpKey(), app.get(0).manifestKey(),
                lonely.dumpKey(), lonely.manifestKey()), keys, "the two newest of app and the only backup of lonely");

        // --require-verified: only drilled backups protect older ones.
        String bucket2 = server.createBucket("prune-verified");
        app.clear();
        for (int d = 0; d < 6; d++) app.add(putBackup(bucket2, "app", daysAgo(d), true, d == 3));
        run = Scripts.run(new Prune(), args(bucket2, "--keep-days", "0", "--require-verified", "--json"));
        assertEquals(0, run.exit(), run.toString());
        Set<String> remaining = new TreeSet<>(server.keys(bucket2));
        for (int d = 0; d < 6; d++) assertEquals(d <= 3, remaining.contains(app.get(d).manifestKey()), "backup " + d + " days old");
        assertTrue(remaining.contains(app.get(3).verifyKey()));
        assertEquals("newer-than-verified", json(run).get("names").get(0).get("kept").get(1).get("reasons").get(0).asText());
    }

    @Test
    void aFailedDrillRecordOrOneForAnotherDumpProtectsNothing() {
        String bucket = server.createBucket("prune-failed-drill");
        List<BackupKey> app = new ArrayList<>();
        for (int d = 0; d < 5; d++) app.add(putBackup(bucket, "app", daysAgo(d), true, false));
        putVerify(bucket, app.get(2), "failed", "00");            // the drill of this one failed
        putVerify(bucket, app.get(3), "passed", "ab".repeat(32)); // a record for some other dump
        List<String> before = server.keys(bucket);
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-days", "0", "--require-verified"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(before, server.keys(bucket), "no backup is vouched for, so nothing may go: " + run);
        assertTrue(run.out().contains("too-few-verified"), run.out());
    }

    @Test
    void maxAgeStopsDeletionsWhenTheNewestIsStale() {
        String bucket = server.createBucket("prune-maxage");
        for (int d = 3; d < 8; d++) putBackup(bucket, "stale", daysAgo(d), true, false);
        putBackup(bucket, "stale", daysAgo(2), false, false); // last night's backups failed before their manifest
        for (int d = 0; d < 5; d++) putBackup(bucket, "fresh", daysAgo(d), true, false);
        String staleUpload = new BackupKey(PREFIX, "stale", daysAgo(1)).dumpKey();
        String freshUpload = new BackupKey(PREFIX, "fresh", daysAgo(1)).dumpKey();
        for (String k : List.of(staleUpload, freshUpload)) s3.createMultipartUpload(b -> b.bucket(bucket).key(k));
        List<String> before = server.keys(bucket);

        // --grace 12h: without the hold, the stale name's incomplete backup and upload (a day or two old) would go too.
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--max-age", "36h", "--grace", "12h"));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("nothing was deleted for stale: the newest complete backup"), run.err());
        assertTrue(run.err().contains("older than --max-age 1d 12h"), run.err());
        Set<String> gone = minus(before, server.keys(bucket));
        assertFalse(gone.isEmpty());
        assertTrue(gone.stream().allMatch(k -> k.startsWith(PREFIX + "/fresh/")), "only fresh was pruned: " + gone);
        assertEquals(8, gone.size(), "4 fresh backups of 2 objects");
        assertEquals(Set.of(staleUpload), uploads(bucket), "the held name's upload survives, the other one is aborted");
    }

    @Test
    void maxDeleteRefusesTheWholeRun() {
        String bucket = server.createBucket("prune-maxdelete");
        for (int d = 0; d < 5; d++) putBackup(bucket, "app", daysAgo(d), true, false);
        for (int d = 0; d < 3; d++) putBackup(bucket, "shop", daysAgo(d), true, false);
        putBackup(bucket, "app", daysAgo(9), false, false);
        List<String> before = server.keys(bucket);

        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--max-delete", "5"));
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("the plan deletes 6 backups, more than --max-delete 5: nothing deleted"), run.err());
        assertTrue(run.out().contains("REFUSED"), run.out());
        assertEquals(before, server.keys(bucket));

        run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--max-delete", "6"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(5, server.keys(bucket).size(), "the newest of each name, and the incomplete dump: stored just now, it waits for --grace by S3's time");
    }

    @Test
    void aRunThatDiedHalfWayIsFinishedByTheNext() throws Exception {
        String bucket = server.createBucket("prune-resume");
        List<BackupKey> keys = new ArrayList<>();
        for (int d = 0; d < 6; d++) keys.add(putBackup(bucket, "app", daysAgo(d), true, true));
        // The state a run leaves when it dies after step 1 (manifests deleted) for two backups, and after step 2
        // (verify records deleted too) for a third: each is now an incomplete backup, never a complete one
        // without its dump.
        for (int d : List.of(3, 4, 5)) s3.deleteObject(b -> b.bucket(bucket).key(keys.get(d).manifestKey()));
        s3.deleteObject(b -> b.bucket(bucket).key(keys.get(5).verifyKey()));
        List<BackupListing.Entry> listing = BackupListing.list(s3, bucket, PREFIX, null);
        assertEquals(3, listing.stream().filter(e -> !e.complete()).count());

        aSecondPasses();
        Scripts.Run run = Scripts.run(withoutGraceFloor(), args(bucket, "--keep-last", "2", "--grace", "0s", "--json"));
        assertEquals(0, run.exit(), run.toString());
        JsonNode app = json(run).get("names").get(0);
        assertEquals(3, app.get("incompleteRemoved").size(), app.toString());
        assertEquals(1, app.get("deleted").size(), app.toString());
        List<String> expected = new ArrayList<>();
        for (int d : List.of(1, 0)) expected.addAll(List.of(keys.get(d).dumpKey(), keys.get(d).manifestKey(), keys.get(d).verifyKey()));
        assertEquals(expected, server.keys(bucket));
    }

    @Test
    void staleMultipartUploadsOfOursAreAbortedForeignOnesSurvive() throws Exception {
        String bucket = server.createBucket("prune-uploads");
        putBackup(bucket, "app", daysAgo(0), true, false);
        putBackup(bucket, "shop", daysAgo(0), true, false);
        String ours = new BackupKey(PREFIX, "app", daysAgo(2)).dumpKey();
        String otherName = new BackupKey(PREFIX, "shop", daysAgo(2)).dumpKey();
        String foreign = PREFIX + "/app/upload-in-progress.bin";
        for (String k : List.of(ours, otherName, foreign)) s3.createMultipartUpload(b -> b.bucket(bucket).key(k));
        // moto reports every upload as initiated at a fixed date in 2010, LocalStack at the real time: the keys are
        // two days old, so --grace 12h makes ours stale on both by both times. A young key waits: see below.
        Scripts.Run dry = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--grace", "12h", "--name", "app", "--dry-run", "--json"));
        assertEquals(0, dry.exit(), dry.toString());
        assertEquals(3, uploads(bucket).size(), "dry run aborted an upload");
        JsonNode planned = json(dry).get("uploadsAborted");
        assertEquals(1, planned.size(), planned.toString());
        assertEquals(ours, planned.get(0).get("key").asText());

        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--grace", "12h", "--name", "app", "--json"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals("aborted", json(run).get("uploadsAborted").get(0).get("outcome").asText());
        assertEquals(Set.of(otherName, foreign), uploads(bucket), "the other name's and the foreign upload survive");
    }

    /**
     * The key's own time guards an upload beside S3's Initiated (which moto sets to 2010 for every upload): an upload
     * of a backup that started an hour ago is in flight, whatever the store says, and stays.
     */
    @Test
    void aYoungUploadStaysWhateverItsInitiatedSays() throws Exception {
        String bucket = server.createBucket("prune-young-upload");
        putBackup(bucket, "app", daysAgo(1), true, false);
        String young = new BackupKey(PREFIX, "app", Instant.now().minus(Duration.ofHours(1))).dumpKey();
        s3.createMultipartUpload(b -> b.bucket(bucket).key(young));
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--grace", "12h", "--json"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(0, json(run).get("uploadsAborted").size(), run.out());
        assertEquals(Set.of(young), uploads(bucket));
    }

    /** --grace below 12 h could take the dump of a backup still being written: refused (64), nothing touched. */
    @Test
    void aGraceBelowTheFloorIsRefused() {
        String bucket = server.createBucket("prune-floor");
        putBackup(bucket, "app", daysAgo(3), true, false);
        putBackup(bucket, "app", daysAgo(2), false, false);
        List<String> before = server.keys(bucket);
        for (String grace : List.of("0s", "1h", "11h59m", "PT6H")) {
            Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--grace", grace));
            assertEquals(Exit.USAGE, run.exit(), grace + ": " + run);
            assertTrue(run.err().contains("--grace " + grace + " is below the least grace of 12h") && run.err().contains("still being written"), run.err());
            assertEquals(1, run.err().strip().lines().filter(l -> !l.startsWith("Try '")).count(), "one line: " + run.err());
        }
        assertEquals(before, server.keys(bucket));
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "1", "--grace", "12h"));
        assertEquals(0, run.exit(), run.toString());
        assertEquals(before, server.keys(bucket), "the incomplete dump has a key two days old, but S3 stored it just now: it waits");
        assertTrue(run.out().contains("1 incomplete left (younger than --grace 12h)"), run.out());
    }

    @Test
    void whenTheManifestsCannotBeDeletedNothingElseIsTouched() {
        // A bucket that exists for the listing but refuses the delete request as a whole: here the plan of a
        // real bucket is carried out against a bucket name that does not exist, so DeleteObjects fails.
        String bucket = server.createBucket("prune-refused");
        for (int d = 0; d < 3; d++) putBackup(bucket, "app", daysAgo(d), true, d == 2);
        putBackup(bucket, "app", daysAgo(5), false, false);
        List<BackupListing.Entry> listing = BackupListing.list(s3, bucket, PREFIX, null);
        PruneSettings settings = new PruneSettings(new RetentionPolicy(0, null, null, null, null, null, null), java.time.ZoneOffset.UTC,
                1, null, false, Duration.ofHours(24));
        // Two days on: the incomplete dump, stored just now, is older than --grace by both its key's time and S3's.
        PrunePlan plan = PrunePlanner.plan("app", listing, settings, Instant.now().plus(Duration.ofDays(2)));
        assertEquals(2, plan.delete().size());
        BackupDeleter deleter = new BackupDeleter(s3, "no-such-bucket-" + System.nanoTime());
        deleter.run(List.of(plan), List.of());
        assertEquals(Exit.CONFIG, deleter.failureExitCode(), String.valueOf(deleter.stopped));
        for (PrunePlan.Decision d : plan.delete()) {
            assertEquals(BackupDeleter.Outcome.FAILED, deleter.outcome(d.entry().manifest().key()));
            assertEquals(BackupDeleter.Outcome.SKIPPED, deleter.outcome(d.entry().dump().key()), "a dump must stay while its manifest does");
            assertEquals("failed", deleter.backupOutcome(d.entry()));
        }
        assertEquals(BackupDeleter.Outcome.SKIPPED, deleter.outcome(plan.removeIncomplete().get(0).dump().key()));
    }

    static Set<String> uploads(String bucket) {
        Set<String> keys = new TreeSet<>();
        for (MultipartUpload u : s3.listMultipartUploads(b -> b.bucket(bucket)).uploads()) keys.add(u.key());
        return keys;
    }

    @Test
    void paginationWithMoreThanAThousandBackupsUnderOneName() throws Exception {
        String bucket = server.createBucket("prune-many");
        // 1,050 complete backups, hourly: prune reads all 1,050 manifests.
        int n = 1050;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> puts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Instant at = BASE.minus(Duration.ofHours(i));
                puts.add(pool.submit(() -> putBackup(bucket, "big", at, true, false)));
            }
            for (Future<?> f : puts) f.get();
        } finally {
            pool.shutdown();
        }
        put(bucket, PREFIX + "/big/keep-me.txt", new byte[0]);
        Scripts.Run run = Scripts.run(new Prune(), args(bucket, "--keep-last", "5", "--name", "big", "--json"));
        assertEquals(0, run.exit(), run.toString());
        JsonNode big = json(run).get("names").get(0);
        assertEquals(5, big.get("kept").size());
        assertEquals(n - 5, big.get("deleted").size(), "every backup was listed (more than two pages)");
        assertEquals(2 * (n - 5), json(run).get("totals").get("objectsDeleted").asInt(), "manifests, then dumps: three DeleteObjects batches");
        List<String> expected = new ArrayList<>();
        for (int i = 4; i >= 0; i--) {
            BackupKey k = new BackupKey(PREFIX, "big", BASE.minus(Duration.ofHours(i)));
            expected.addAll(List.of(k.dumpKey(), k.manifestKey()));
        }
        expected.add(PREFIX + "/big/keep-me.txt");
        assertEquals(expected, server.keys(bucket));
    }

    @Test
    void environmentAndStepSummaryInAChildProcess() throws Exception {
        String bucket = server.createBucket("prune-env");
        for (int d = 0; d < 5; d++) putBackup(bucket, "app", daysAgo(d), true, false);
        Path summary = Files.createTempFile("step-summary", ".md");
        try {
            Map<String, String> env = new LinkedHashMap<>(server.env());
            env.put("S3_BUCKET", bucket);
            env.put("RETENTION", ""); // an unset GitHub variable: not a policy, and not an error next to another rule
            Scripts.Run run = Scripts.runProcess("Prune", env, "--keep-last", "4");
            assertEquals(0, run.exit(), run.toString());
            assertEquals(8, server.keys(bucket).size());

            env.put("RETENTION", "2"); // the Neon guide's variable: --keep-days 2
            env.put("GITHUB_STEP_SUMMARY", summary.toString());
            run = Scripts.runProcess("Prune", env);
            assertEquals(0, run.exit(), run.toString());
            assertEquals(4, server.keys(bucket).size(), "keep-days 2 keeps today's and yesterday's backups");
            String md = Files.readString(summary);
            assertTrue(md.contains("### prune `s3://" + bucket + "/" + PREFIX + "/`"), md);
            assertTrue(md.contains("| app | 2 | 2 | 0 | " + BackupKey.STAMP.format(BASE) + " |"), md);
        } finally {
            Files.deleteIfExists(summary);
        }
    }

    @Test
    void badOptionsAreUsageErrors() {
        String[][] bad = {
                {}, // no policy
                {"--keep-days", "-1"}, {"--keep-last", "-3"}, {"--keep-weekly", "-1"},
                {"--keep-days", "7", "--min-keep", "0"}, {"--keep-days", "7", "--max-delete", "-1"},
                {"--keep-days", "7", "--timezone", "Mars/Olympus"}, {"--keep-days", "7", "--grace", "soon"}, {"--keep-days", "7", "--grace", "1h"},
                {"--keep-days", "7", "--max-age", "-2d"}, {"--keep-days", "7", "--max-age", "0s"},
                {"--keep-days", "seven"}, {"--keep-days", "7", "--name", "!!!"}};
        for (String[] a : bad) {
            List<String> all = new ArrayList<>(List.of("--bucket", "some-bucket", "--endpoint-url", "http://127.0.0.1:1"));
            all.addAll(List.of(a));
            Scripts.Run run = Scripts.run(new Prune(), all.toArray(String[]::new));
            assertEquals(Exit.USAGE, run.exit(), String.join(" ", a) + "\n" + run);
            assertEquals(1, run.err().strip().lines().filter(l -> !l.startsWith("Try '")).count(), "one line: " + run.err());
        }
    }
}
