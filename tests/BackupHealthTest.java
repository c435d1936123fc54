import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The watchdog's verdicts as a pure function ({@link BackupHealth#judge}): listings built from the same objects
 * {@link BackupListing} makes, judged complete or not by {@link BackupStatus} itself, and drill records as
 * {@code restore drill} writes them. The integration with a real bucket is RestoreCheckTest.
 */
class BackupHealthTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final BackupHealth.Thresholds DEFAULTS = BackupHealth.Thresholds.parse("26h", "8d", "50%", "24h");

    /** A complete backup of {@code name} started {@code ago} before NOW, of {@code size} bytes; with a drill record object when {@code drilled}. */
    static BackupListing.Entry complete(String name, Duration ago, long size, boolean drilled) {
        Instant at = NOW.minus(ago).truncatedTo(ChronoUnit.SECONDS);
        BackupKey key = new BackupKey("pg-backups", name, at);
        S3Object dump = S3Object.builder().key(key.dumpKey()).size(size).lastModified(at.plusSeconds(60)).build();
        S3Object manifest = S3Object.builder().key(key.manifestKey()).size(900L).lastModified(at.plusSeconds(61)).build();
        Manifest m = new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, name, name, "db.example", key.dumpKey(), at.toString(),
                at.plusSeconds(60).toString(), size, sha(key), "17.2", "17.2", "custom", "gzip", null, 12, null, List.of());
        S3Object verify = drilled ? S3Object.builder().key(key.verifyKey()).size(500L).lastModified(at.plusSeconds(3600)).build() : null;
        BackupListing.Entry e = new BackupListing.Entry(key, dump, manifest, verify, BackupStatus.judge(key, dump, manifest, m, null, false, NOW));
        assertTrue(e.complete(), e.status().describe());
        return e;
    }

    /** A dump without a manifest started {@code ago} before NOW. */
    static BackupListing.Entry leftover(String name, Duration ago) {
        BackupKey key = new BackupKey("pg-backups", name, NOW.minus(ago).truncatedTo(ChronoUnit.SECONDS));
        S3Object dump = S3Object.builder().key(key.dumpKey()).size(1000L).lastModified(key.startedAt()).build();
        return new BackupListing.Entry(key, dump, null, null, BackupStatus.judge(key, dump, null, null, null, false, NOW));
    }

    /** A backup whose dump has another size than its manifest says: not complete. */
    static BackupListing.Entry sizeDiffers(String name, Duration ago) {
        BackupListing.Entry good = complete(name, ago, 5000, false);
        S3Object shorter = good.dump().toBuilder().size(4000L).build();
        BackupStatus st = BackupStatus.judge(good.key(), shorter, good.manifest(), good.status().manifest(), null, false, NOW);
        return new BackupListing.Entry(good.key(), shorter, good.manifest(), null, st);
    }

    static String sha(BackupKey key) { return TestBackups.sha256(key.dumpKey().getBytes()); }

    static VerifyRecord drill(BackupListing.Entry e, String outcome, String sha, String... reasons) {
        return new VerifyRecord(VerifyRecord.CURRENT_FORMAT, Version.TOOL, Version.VERSION, "drill", e.key().dumpKey(), sha, outcome, List.of(reasons),
                NOW.toString(), NOW.toString(), Map.of(), "17.2", "17.2", 12, 12, null, List.of(), null);
    }

    static VerifyRecord passed(BackupListing.Entry e) { return drill(e, VerifyRecord.PASSED, e.status().manifest().sha256()); }

    static VerifyRecord failed(BackupListing.Entry e, String... reasons) { return drill(e, VerifyRecord.FAILED, e.status().manifest().sha256(), reasons); }

    static BackupHealth judge(List<BackupListing.Entry> entries, Map<BackupListing.Entry, VerifyRecord> drills, BackupHealth.Thresholds t) {
        return BackupHealth.judge("app", entries, List.of("listed"), drills::get, t, NOW);
    }

    static String messages(BackupHealth h) { return h.problems().toString(); }

    @Test
    void okWhenFreshProvenAndSteady() {
        List<BackupListing.Entry> entries = new ArrayList<>();
        for (int d = 7; d >= 1; d--) entries.add(complete("app", Duration.ofDays(d).plusHours(9), 100_000, false));
        BackupListing.Entry newest = complete("app", Duration.ofHours(9), 101_000, true);
        entries.add(newest);
        BackupHealth h = judge(entries, Map.of(newest, passed(newest)), DEFAULTS);
        assertEquals(BackupHealth.Verdict.OK, h.verdict(), messages(h));
        assertEquals(List.of(), h.problems());
        assertEquals(newest.key().dumpKey(), h.newest().key());
        assertEquals(newest.key().dumpKey(), h.verified().key());
        assertEquals(100_000L, h.medianBytes());
        assertEquals(7, h.compared());
        assertEquals(8, h.complete());
        assertEquals(0.01, h.sizeChange(), 1e-9);
    }

    @Test
    void staleWhenTheNewestCompleteBackupIsOlderThanMaxAge() {
        BackupListing.Entry justInside = complete("app", Duration.ofHours(26), 1000, true);
        assertEquals(BackupHealth.Verdict.OK, judge(List.of(justInside), Map.of(justInside, passed(justInside)), DEFAULTS).verdict(), "26h is not more than 26h");

        BackupListing.Entry old = complete("app", Duration.ofHours(26).plusSeconds(1), 1000, true);
        // A newer backup that is not complete does not make the name fresh.
        BackupHealth h = judge(List.of(old, leftover("app", Duration.ofHours(2)), sizeDiffers("app", Duration.ofHours(3))), Map.of(old, passed(old)), DEFAULTS);
        assertEquals(BackupHealth.Verdict.STALE, h.verdict(), messages(h));
        assertTrue(messages(h).contains("app: the newest complete backup is 1d 2h old") && messages(h).contains("--max-age 1d 2h"), messages(h));
        assertEquals(old.key().dumpKey(), h.newest().key());
    }

    @Test
    void unverifiedWithoutAPassedDrillOrWithAnOldOne() {
        BackupListing.Entry newest = complete("app", Duration.ofHours(2), 1000, false);
        BackupHealth never = judge(List.of(newest), Map.of(), DEFAULTS);
        assertEquals(BackupHealth.Verdict.UNVERIFIED, never.verdict());
        assertTrue(messages(never).contains("no complete backup has a passed restore drill") && messages(never).contains("restore drill --name app"), messages(never));
        assertNull(never.verified());

        BackupListing.Entry proven = complete("app", Duration.ofDays(9), 1000, true);
        BackupHealth old = judge(List.of(proven, newest), Map.of(proven, passed(proven)), DEFAULTS);
        assertEquals(BackupHealth.Verdict.UNVERIFIED, old.verdict(), messages(old));
        assertTrue(messages(old).contains("the newest backup a drill proved is 9d old") && messages(old).contains("--max-unverified-age 8d"), messages(old));
        assertEquals(proven.key().dumpKey(), old.verified().key());

        // off: drills are not required (and a name that never drilled is fine).
        BackupHealth.Thresholds off = BackupHealth.Thresholds.parse("26h", "off", "50%", "24h");
        assertEquals(BackupHealth.Verdict.OK, judge(List.of(proven, newest), Map.of(proven, passed(proven)), off).verdict());
        assertEquals(BackupHealth.Verdict.OK, judge(List.of(newest), Map.of(), off).verdict());
    }

    /** The newest drill failed: unverified, with its reasons, even though an older backup's drill passed recently, and even with the age check off. */
    @Test
    void theNewestDrillFailing() {
        BackupListing.Entry proven = complete("app", Duration.ofDays(2), 1000, true);
        BackupListing.Entry broken = complete("app", Duration.ofDays(1), 1000, true);
        Map<BackupListing.Entry, VerifyRecord> drills = Map.of(proven, passed(proven), broken, failed(broken, "public.orders: 0 rows restored, 1200 in the manifest"));
        for (String maxUnverified : List.of("8d", "off")) {
            BackupHealth h = judge(List.of(proven, broken), drills, BackupHealth.Thresholds.parse("26h", maxUnverified, "50%", "24h"));
            assertEquals(BackupHealth.Verdict.UNVERIFIED, h.verdict(), messages(h));
            assertEquals(1, h.problems().size(), messages(h));
            assertTrue(messages(h).contains("FAILED: public.orders: 0 rows restored, 1200 in the manifest"), messages(h));
            assertEquals(proven.key().dumpKey(), h.verified().key(), "the older proof still counts as the newest proof");
        }
        // A record that says passed, but for another dump, vouches for nothing.
        BackupListing.Entry other = complete("app", Duration.ofHours(3), 1000, true);
        BackupHealth h = judge(List.of(other), Map.of(other, drill(other, VerifyRecord.PASSED, "0".repeat(64))), DEFAULTS);
        assertEquals(BackupHealth.Verdict.UNVERIFIED, h.verdict());
        assertTrue(messages(h).contains("passed for another dump"), messages(h));
        assertNull(h.verified());
    }

    /** Records are read newest first and no further than the first that vouches: one GET, not one per backup. */
    @Test
    void drillRecordsAreReadNewestFirstUntilOneVouches() {
        List<BackupListing.Entry> entries = new ArrayList<>();
        Map<BackupListing.Entry, VerifyRecord> drills = new HashMap<>();
        for (int d = 10; d >= 1; d--) {
            BackupListing.Entry e = complete("app", Duration.ofDays(d), 1000, d != 1);
            entries.add(e);
            drills.put(e, d == 3 ? failed(e) : passed(e));
        }
        List<String> asked = new ArrayList<>();
        Function<BackupListing.Entry, VerifyRecord> reader = e -> {
            asked.add(e.key().stamp());
            return drills.get(e);
        };
        BackupHealth h = BackupHealth.judge("app", entries, List.of("listed"), reader, DEFAULTS, NOW);
        assertEquals(List.of(entries.get(8).key().stamp()), asked, "the newest drilled backup only (the newest has no record)");
        assertEquals(BackupHealth.Verdict.OK, h.verdict(), messages(h));
    }

    @Test
    void aShrunkenBackupIsAnAnomalyAgainstTheMedianOfTheSevenBefore() {
        List<BackupListing.Entry> entries = new ArrayList<>();
        entries.add(complete("app", Duration.ofDays(9), 90_000_000, false)); // the 8th before: not in the window
        entries.add(complete("app", Duration.ofDays(8), 90_000_000, false));
        long[] sizes = {1000, 1100, 900, 1000, 1050, 980, 1020};
        for (int i = 0; i < sizes.length; i++) entries.add(complete("app", Duration.ofDays(7 - i).plusHours(1), sizes[i], false));
        BackupListing.Entry newest = complete("app", Duration.ofHours(1), 400, true);
        entries.add(newest);
        BackupHealth h = judge(entries, Map.of(newest, passed(newest)), DEFAULTS);
        assertEquals(BackupHealth.Verdict.ANOMALY, h.verdict(), messages(h));
        assertEquals(1000L, h.medianBytes(), "the median of the 7 before the newest, not of older ones");
        assertTrue(messages(h).contains("is 400 bytes, 60% smaller than the median of the 7 before it (1000 bytes), more than --max-shrink 50%"), messages(h));
        assertEquals(-0.6, h.sizeChange(), 1e-9);

        // 40% smaller is within 50%; 30% with --max-shrink 25% is not; growth never is; off compares nothing.
        entries.set(entries.size() - 1, newest = complete("app", Duration.ofHours(1), 600, true));
        assertEquals(BackupHealth.Verdict.OK, judge(entries, Map.of(newest, passed(newest)), DEFAULTS).verdict());
        entries.set(entries.size() - 1, newest = complete("app", Duration.ofHours(1), 700, true));
        assertEquals(BackupHealth.Verdict.ANOMALY, judge(entries, Map.of(newest, passed(newest)), BackupHealth.Thresholds.parse("26h", "8d", "25%", "24h")).verdict());
        entries.set(entries.size() - 1, newest = complete("app", Duration.ofHours(1), 50_000, true));
        assertEquals(BackupHealth.Verdict.OK, judge(entries, Map.of(newest, passed(newest)), DEFAULTS).verdict());
        entries.set(entries.size() - 1, newest = complete("app", Duration.ofHours(1), 1, true));
        assertEquals(BackupHealth.Verdict.OK, judge(entries, Map.of(newest, passed(newest)), BackupHealth.Thresholds.parse("26h", "8d", "off", "24h")).verdict());
        // The only backup has nothing to be compared with.
        BackupHealth alone = judge(List.of(newest), Map.of(newest, passed(newest)), DEFAULTS);
        assertNull(alone.medianBytes());
        assertNull(alone.sizeChange());
    }

    @Test
    void leftoversOlderThanADayAndBackupsThatAreNotComplete() {
        BackupListing.Entry newest = complete("app", Duration.ofHours(3), 1000, true);
        Map<BackupListing.Entry, VerifyRecord> drills = Map.of(newest, passed(newest));
        // A dump without manifest younger than a day is a backup still running: nothing to say.
        assertEquals(BackupHealth.Verdict.OK, judge(List.of(newest, leftover("app", Duration.ofHours(23))), drills, DEFAULTS).verdict());

        BackupHealth h = judge(List.of(newest, leftover("app", Duration.ofHours(25)), leftover("app", Duration.ofDays(3))), drills, DEFAULTS);
        assertEquals(BackupHealth.Verdict.ANOMALY, h.verdict(), messages(h));
        assertEquals(2, h.leftovers());
        assertEquals(1, h.problems().size(), "one line for the name's leftovers: " + messages(h));
        assertTrue(messages(h).contains("app: 2 dumps without a manifest older than --max-incomplete-age 1d"), messages(h));

        BackupHealth damaged = judge(List.of(newest, sizeDiffers("app", Duration.ofDays(2))), drills, DEFAULTS);
        assertEquals(BackupHealth.Verdict.ANOMALY, damaged.verdict());
        assertEquals(1, damaged.notComplete());
        assertTrue(messages(damaged).contains("is not complete: dump size differs") && messages(damaged).contains("has 4000 bytes, the manifest says 5000"), messages(damaged));
    }

    @Test
    void missingWhenExpectedOrRememberedAndNoCompleteBackup() {
        BackupHealth none = BackupHealth.judge("ghost", List.of(), List.of("expected"), e -> null, DEFAULTS, NOW);
        assertEquals(BackupHealth.Verdict.MISSING, none.verdict());
        assertTrue(messages(none).contains("ghost: no backup at all under its prefix, though it is expected"), messages(none));

        BackupHealth gone = BackupHealth.judge("gone", List.of(), List.of("remembered"), e -> null, DEFAULTS, NOW);
        assertTrue(messages(gone).contains("though it had one when this check last ran"), messages(gone));

        // Only a failed backup's leftovers under the name: still no backup to restore.
        BackupHealth onlyLeftovers = BackupHealth.judge("app", List.of(leftover("app", Duration.ofDays(2))), List.of("listed"), e -> null, DEFAULTS, NOW);
        assertEquals(BackupHealth.Verdict.MISSING, onlyLeftovers.verdict(), "missing is graver than the leftover's anomaly");
        assertEquals(2, onlyLeftovers.problems().size(), messages(onlyLeftovers));
        assertTrue(messages(onlyLeftovers).contains("no complete backup (1 other object group under its prefix, none restorable)"), messages(onlyLeftovers));
    }

    @Test
    void theVerdictIsTheGravestProblem() {
        // Stale (30h), unverified (never drilled), shrunken, and a leftover: stale wins, every problem listed.
        List<BackupListing.Entry> entries = new ArrayList<>();
        for (int d = 5; d >= 2; d--) entries.add(complete("app", Duration.ofDays(d), 1000, false));
        entries.add(complete("app", Duration.ofHours(30), 10, false));
        entries.add(leftover("app", Duration.ofHours(29)));
        BackupHealth h = judge(entries, Map.of(), DEFAULTS);
        assertEquals(BackupHealth.Verdict.STALE, h.verdict());
        assertEquals(List.of(BackupHealth.Verdict.STALE, BackupHealth.Verdict.UNVERIFIED, BackupHealth.Verdict.ANOMALY, BackupHealth.Verdict.ANOMALY),
                h.problems().stream().map(BackupHealth.Problem::verdict).toList(), messages(h));
        for (BackupHealth.Problem p : h.problems()) assertTrue(p.message().startsWith("app: "), p.message());
    }

    @Test
    void thresholdsAsTyped() {
        assertEquals(0.5, BackupHealth.Thresholds.shrink("50%"));
        assertEquals(0.25, BackupHealth.Thresholds.shrink(" 25 "));
        assertEquals(0.125, BackupHealth.Thresholds.shrink("12.5%"));
        assertNull(BackupHealth.Thresholds.shrink("OFF"));
        for (String bad : List.of("0%", "100%", "150", "-5%", "half", "", "NaN%")) {
            Failure f = assertThrows(Failure.class, () -> BackupHealth.Thresholds.shrink(bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
        }
        BackupHealth.Thresholds t = BackupHealth.Thresholds.parse("1d2h", "off", "off", "PT12H");
        assertEquals(Duration.ofHours(26), t.maxAge());
        assertNull(t.maxUnverifiedAge());
        assertNull(t.maxShrink());
        assertEquals(Duration.ofHours(12), t.maxIncompleteAge());
        for (String[] bad : List.of(new String[] {"off", "8d", "50%", "24h"}, new String[] {"26", "8d", "50%", "24h"}, new String[] {"26h", "8d", "50%", "off"},
                new String[] {"99999999999d", "8d", "50%", "24h"})) {
            Failure f = assertThrows(Failure.class, () -> BackupHealth.Thresholds.parse(bad[0], bad[1], bad[2], bad[3]), String.join(" ", bad));
            assertEquals(Exit.USAGE, f.exitCode);
        }
        assertEquals(3L, BackupHealth.median(List.of(5L, 1L, 3L)));
        assertEquals(2L, BackupHealth.median(List.of(4L, 1L, 2L, 9L)), "the lower middle: a size that occurred");
    }

    @Test
    void uploadsCutOffOlderThanMaxIncompleteAgeByBothClocks() {
        BackupListing.Entry newest = complete("app", Duration.ofHours(2), 1000, true);
        Map<BackupListing.Entry, VerifyRecord> drills = Map.of(newest, passed(newest));
        Instant dayAndAHalf = NOW.minus(Duration.ofHours(36)), hourAgo = NOW.minus(Duration.ofHours(1));
        BackupHealth cut = BackupHealth.judge("app", List.of(newest), List.of("listed"), drills::get, DEFAULTS, NOW,
                List.of(new BackupHealth.Upload(dayAndAHalf, Instant.parse("2010-11-08T00:00:00Z")), new BackupHealth.Upload(hourAgo, hourAgo)));
        assertEquals(BackupHealth.Verdict.ANOMALY, cut.verdict(), messages(cut));
        assertEquals(1, cut.cutOff());
        assertTrue(messages(cut).contains("app: 1 upload of a dump never completed, older than --max-incomplete-age 1d (the newest started " + dayAndAHalf + ")"),
                messages(cut));
        // Young by either clock: a backup still uploading (or a key that names an old time for a new upload).
        for (BackupHealth.Upload young : List.of(new BackupHealth.Upload(hourAgo, null), new BackupHealth.Upload(dayAndAHalf, hourAgo))) {
            BackupHealth h = BackupHealth.judge("app", List.of(newest), List.of("listed"), drills::get, DEFAULTS, NOW, List.of(young));
            assertEquals(BackupHealth.Verdict.OK, h.verdict(), young + ": " + messages(h));
        }
    }
}
