import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Object;

/** {@link PrunePlanner}: prune's interlocks as a pure function over one name's listing. */
class PrunePlannerTest {
    static RetentionPolicy policy(Integer days, Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
        return new RetentionPolicy(days, last, hourly, daily, weekly, monthly, yearly);
    }

    static final String PREFIX = "pg-backups";

    /**
     * One name's listing, one backup per day, newest LAST: "c" complete, "v" complete with a verify record, "i" incomplete
     * (dump only), "p" a phantom (manifest, no dump), "s" a dump of another size than its manifest says, "x" an invalid
     * manifest over a dump, "y" an invalid manifest without dump, "o" a manifest naming another backup's dump (with a
     * dump of its own), "n" a manifest of a newer format without dump. Judged by {@link BackupStatus} as of {@link #NOW}.
     */
    static List<BackupListing.Entry> listing(String name, Instant newest, String kinds) {
        List<BackupListing.Entry> entries = new ArrayList<>();
        for (int i = 0; i < kinds.length(); i++) {
            Instant t = newest.minus(Duration.ofDays(kinds.length() - 1 - i));
            entries.add(entry(new BackupKey(PREFIX, name, t), kinds.charAt(i)));
        }
        return entries;
    }

    static BackupListing.Entry entry(BackupKey key, char k) {
        Instant written = key.startedAt().plusSeconds(60);
        boolean hasDump = "cvisxo".indexOf(k) >= 0;
        S3Object dump = hasDump ? S3Object.builder().key(key.dumpKey()).size(k == 's' ? 99L : 100L).lastModified(written).build() : null;
        S3Object manifest = k == 'i' ? null : S3Object.builder().key(key.manifestKey()).size(1000L).lastModified(written).build();
        S3Object verify = k == 'v' ? S3Object.builder().key(key.verifyKey()).build() : null;
        String dumpKey = k == 'o' ? new BackupKey(PREFIX, key.name(), key.startedAt().minusSeconds(86400)).dumpKey() : key.dumpKey();
        Manifest m = "xyn".indexOf(k) >= 0 || k == 'i' ? null : new Manifest(1, "pgdump-s3", "test", key.name(), key.name(), "db.example.com", dumpKey,
                key.startedAt().toString(), written.toString(), 100, "ab".repeat(32), "15.8", "15.8", "custom", "zstd:3", null, 3, List.of(), List.of());
        Failure unreadable = k == 'x' || k == 'y' ? new Failure(Exit.DATA_INVALID, "manifest " + key.manifestKey() + " is not valid JSON")
                : k == 'n' ? new Failure(Exit.CONFIG, "manifest " + key.manifestKey() + " has formatVersion 2") : null;
        return new BackupListing.Entry(key, dump, manifest, verify, BackupStatus.judge(key, dump, manifest, m, unreadable, false, NOW));
    }

    static PruneSettings settings(RetentionPolicy p, int minKeep, Duration maxAge, boolean requireVerified) {
        return new PruneSettings(p, ZoneOffset.UTC, minKeep, maxAge, requireVerified, Duration.ofHours(24));
    }

    static List<String> days(List<PrunePlan.Decision> decisions) {
        return decisions.stream().map(d -> d.entry().key().stamp().substring(0, 10)).sorted().toList();
    }

    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final Instant LAST_NIGHT = Instant.parse("2026-11-23T02:00:00Z");

    @Test
    void theNewestAndMinKeepSurviveKeepDaysZero() {
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "cccccc");
        PrunePlan plan = PrunePlanner.plan("app", entries, settings(policy(0, null, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of("2026-11-23"), days(plan.keep()));
        assertEquals(List.of("newest", "min-keep"), plan.keep().get(0).reasons());
        assertEquals(5, plan.delete().size());

        plan = PrunePlanner.plan("app", entries, settings(policy(0, null, null, null, null, null, null), 3, null, false), NOW);
        assertEquals(List.of("2026-11-21", "2026-11-22", "2026-11-23"), days(plan.keep()));
        assertEquals(3, plan.delete().size());
        assertNull(plan.held());
    }

    @Test
    void requireVerifiedKeepsEverythingNewerThanTheNewestVerifiedBackups() {
        // oldest ... newest: c c v c c v c c   (newest last)
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "ccvccvcc");
        RetentionPolicy keepNothing = policy(0, null, null, null, null, null, null);
        PrunePlan plan = PrunePlanner.plan("app", entries, settings(keepNothing, 1, null, true), NOW);
        // The two newest are not verified: they and the newest verified one (3rd newest) are kept.
        assertEquals(List.of("2026-11-21", "2026-11-22", "2026-11-23"), days(plan.keep()));
        Map<String, List<String>> reasons = plan.keep().stream().collect(Collectors.toMap(d -> d.entry().key().stamp().substring(0, 10), PrunePlan.Decision::reasons));
        assertEquals(List.of("newest"), reasons.get("2026-11-23"));
        assertEquals(List.of("newer-than-verified"), reasons.get("2026-11-22"));
        assertEquals(List.of("min-keep-verified"), reasons.get("2026-11-21"));

        plan = PrunePlanner.plan("app", entries, settings(keepNothing, 2, null, true), NOW);
        assertEquals(6, plan.keep().size(), days(plan.keep()).toString()); // down to the 2nd verified (6th newest)
        assertEquals(List.of("2026-11-16", "2026-11-17"), days(plan.delete()));

        // Fewer verified backups than --min-keep: nothing is deleted.
        plan = PrunePlanner.plan("app", entries, settings(keepNothing, 3, null, true), NOW);
        assertEquals(8, plan.keep().size());
        assertTrue(plan.keep().stream().anyMatch(d -> d.reasons().equals(List.of("too-few-verified"))));
        // Without --require-verified the same listing keeps only the newest.
        plan = PrunePlanner.plan("app", entries, settings(keepNothing, 1, null, false), NOW);
        assertEquals(1, plan.keep().size());
    }

    @Test
    void maxAgeHoldsEverythingOfAStaleName() {
        List<BackupListing.Entry> entries = new ArrayList<>(listing("app", LAST_NIGHT.minus(Duration.ofDays(3)), "ccccc"));
        entries.addAll(listing("app", LAST_NIGHT, "ii"));
        PruneSettings s = settings(policy(1, null, null, null, null, null, null), 1, Duration.ofHours(36), false);
        PrunePlan plan = PrunePlanner.plan("app", entries, s, NOW);
        assertTrue(plan.held() != null && plan.held().contains("3d 10h old"), plan.held());
        assertEquals(List.of(), plan.delete());
        assertEquals(List.of(), plan.removeIncomplete());
        assertEquals(5, plan.keep().size());
        assertEquals(2, plan.waitIncomplete().size());

        PrunePlan fresh = PrunePlanner.plan("app", listing("app", LAST_NIGHT, "ccccc"), s, NOW);
        assertNull(fresh.held());
        assertEquals(4, fresh.delete().size()); // keep-days 1 keeps last night's only

        PrunePlan none = PrunePlanner.plan("app", listing("app", LAST_NIGHT, "iii"), s, NOW);
        assertTrue(none.held() != null && none.held().contains("no complete backup"), none.held());
    }

    @Test
    void incompleteBackupsWaitForTheGracePeriod() {
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "icici");
        PrunePlan plan = PrunePlanner.plan("app", entries, settings(policy(30, null, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of("2026-11-19", "2026-11-21"), plan.removeIncomplete().stream().map(e -> e.key().stamp().substring(0, 10)).sorted().toList());
        assertEquals(List.of("2026-11-23"), plan.waitIncomplete().stream().map(e -> e.key().stamp().substring(0, 10)).toList()); // 10 h old
        assertEquals(2, plan.keep().size());
        assertEquals(0, plan.delete().size());
    }

    /**
     * Backups that are not complete never count: a phantom, a size-mismatched dump, an invalid manifest (with or
     * without dump), one that names another dump, one of a newer format, all newer than the real backups, do not make
     * --keep-last 1 delete the newest complete backup; phantoms (nothing to lose) go after --grace, dumps stay.
     */
    @Test
    void backupsThatAreNotCompleteNeverCountAndNeverCostACompleteOne() {
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT.minus(Duration.ofDays(8)), "ccc");
        entries.addAll(listing("app", LAST_NIGHT, "psxyon"));
        PrunePlan plan = PrunePlanner.plan("app", entries, settings(policy(null, 1, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of("2026-11-15"), days(plan.keep()), "the newest complete backup is kept");
        assertEquals(List.of("newest", "last", "min-keep"), plan.keep().get(0).reasons());
        assertEquals(List.of("2026-11-13", "2026-11-14"), days(plan.delete()));
        assertEquals("2026-11-15", plan.newest().key().stamp().substring(0, 10));
        // phantoms ("p" no dump, "y" invalid without dump) older than --grace go; the 10 h old one waits; dumps stay.
        assertEquals(List.of("2026-11-18", "2026-11-21"), plan.removeIncomplete().stream().map(e -> e.key().stamp().substring(0, 10)).sorted().toList());
        assertEquals(List.of(), plan.waitIncomplete());
        assertEquals(List.of("2026-11-19", "2026-11-20", "2026-11-22", "2026-11-23"),
                plan.notComplete().stream().map(e -> e.key().stamp().substring(0, 10)).sorted().toList());
        for (BackupListing.Entry e : plan.removeIncomplete()) assertNull(e.dump(), "a phantom has no dump to lose");

        PrunePlan held = PrunePlanner.plan("app", entries, settings(policy(null, 1, null, null, null, null, null), 1, Duration.ofHours(36), false), NOW);
        assertTrue(held.held() != null && held.held().contains("2026-11-15"), "--max-age sees through them: " + held.held());
        assertEquals(List.of(), held.delete());
        assertEquals(List.of(), held.removeIncomplete());

        // --require-verified: a passed record next to a phantom vouches for nothing (the command's check: complete first).
        List<BackupListing.Entry> forged = new ArrayList<>(listing("app", LAST_NIGHT.minus(Duration.ofDays(3)), "cc"));
        BackupListing.Entry phantom = entry(new BackupKey(PREFIX, "app", LAST_NIGHT), 'p');
        forged.add(new BackupListing.Entry(phantom.key(), null, phantom.manifest(), S3Object.builder().key(phantom.key().verifyKey()).build(), phantom.status()));
        plan = PrunePlanner.plan("app", forged, settings(policy(0, null, null, null, null, null, null), 1, null, true), NOW,
                e -> e.complete() && e.verified());
        assertEquals(2, plan.keep().size(), "no complete backup is vouched for: both kept");
        assertTrue(plan.keep().stream().allMatch(d -> !d.reasons().isEmpty()));
    }

    /** An incomplete dump waits for --grace by the key's time and by S3's LastModified: a dump stored a minute ago is young. */
    @Test
    void graceCountsFromTheLaterOfTheKeysTimeAndTheStores() {
        BackupKey key = new BackupKey(PREFIX, "app", LAST_NIGHT.minus(Duration.ofDays(2)));
        S3Object dump = S3Object.builder().key(key.dumpKey()).size(100L).lastModified(NOW.minusSeconds(60)).build();
        BackupListing.Entry slow = new BackupListing.Entry(key, dump, null, null, BackupStatus.judge(key, dump, null, null, null, false, NOW));
        List<BackupListing.Entry> entries = new ArrayList<>(listing("app", LAST_NIGHT, "c"));
        entries.add(slow);
        PrunePlan plan = PrunePlanner.plan("app", entries, settings(policy(1, null, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of(), plan.removeIncomplete());
        assertEquals(List.of(slow), plan.waitIncomplete());
    }
}
