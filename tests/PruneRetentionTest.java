import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * prune's retention rules and interlocks as pure functions. The rules are checked against a reference
 * computation written differently (group every backup by a formatted period string, sort the periods, take
 * the newest of each) over synthetic calendars: years of backups with gaps, several per day, and bursts
 * across the DST changes of Europe/Berlin and America/New_York.
 */
class PruneRetentionTest {
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    // ---- the reference: brute force over formatted period names -------------------------------------------

    static final Map<String, DateTimeFormatter> PERIOD_FORMAT = Map.of(
            "hourly", DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH"),
            "daily", DateTimeFormatter.ISO_LOCAL_DATE,
            "monthly", DateTimeFormatter.ofPattern("uuuu-MM"),
            "yearly", DateTimeFormatter.ofPattern("uuuu"));

    /** "2021-W01" from ISO_WEEK_DATE's "2021-W01-1"; other periods from a formatter of the local time. */
    static String periodName(String rule, Instant t, ZoneId zone) {
        LocalDateTime local = LocalDateTime.ofInstant(t, zone);
        if (rule.equals("weekly")) return DateTimeFormatter.ISO_WEEK_DATE.format(local).substring(0, 8);
        return PERIOD_FORMAT.get(rule).format(local);
    }

    static Map<Instant, Set<String>> reference(List<Instant> times, Prune.Retention.Policy p, Instant now, ZoneId zone) {
        Map<Instant, Set<String>> kept = new HashMap<>();
        for (Instant t : times) kept.put(t, new TreeSet<>());
        List<Instant> newestFirst = new ArrayList<>(times);
        newestFirst.sort(Collections.reverseOrder());
        if (p.last() != null) newestFirst.stream().limit(p.last()).forEach(t -> kept.get(t).add("last"));
        if (p.keepDays() != null) for (Instant t : times) if (t.plus(Duration.ofDays(p.keepDays())).isAfter(now)) kept.get(t).add("days");
        Map<String, Integer> counts = new HashMap<>();
        if (p.hourly() != null) counts.put("hourly", p.hourly());
        if (p.daily() != null) counts.put("daily", p.daily());
        if (p.weekly() != null) counts.put("weekly", p.weekly());
        if (p.monthly() != null) counts.put("monthly", p.monthly());
        if (p.yearly() != null) counts.put("yearly", p.yearly());
        for (var rule : counts.entrySet()) {
            TreeMap<String, List<Instant>> groups = new TreeMap<>(Collections.reverseOrder());
            for (Instant t : times) groups.computeIfAbsent(periodName(rule.getKey(), t, zone), k -> new ArrayList<>()).add(t);
            groups.values().stream().limit(rule.getValue()).forEach(members -> kept.get(Collections.max(members)).add(rule.getKey()));
        }
        return kept;
    }

    static Map<Instant, Set<String>> product(List<Instant> times, Prune.Retention.Policy p, Instant now, ZoneId zone) {
        List<List<String>> reasons = Prune.Retention.apply(times, p, now, zone);
        Map<Instant, Set<String>> out = new HashMap<>();
        for (int i = 0; i < times.size(); i++) out.put(times.get(i), new TreeSet<>(reasons.get(i)));
        return out;
    }

    // ---- synthetic calendars --------------------------------------------------------------------------------

    /**
     * About 700 backups over three years: nightly ones at varying times, some days with several, gaps of days
     * to weeks, and a backup every 20 minutes for 5 hours around each DST change of the zone.
     */
    static List<Instant> calendar(long seed, ZoneId zone) {
        Random r = new Random(seed);
        Set<Instant> times = new LinkedHashSet<>();
        LocalDate day = LocalDate.of(2021, 1, 1).plusDays(r.nextInt(30));
        LocalDate end = LocalDate.of(2024, 1, 10);
        while (day.isBefore(end)) {
            if (r.nextInt(40) == 0) { day = day.plusDays(3 + r.nextInt(25)); continue; } // a gap
            int perDay = r.nextInt(10) < 8 ? 1 : 2 + r.nextInt(3);
            for (int k = 0; k < perDay; k++) {
                times.add(day.atTime(r.nextInt(24), r.nextInt(60), r.nextInt(60)).atZone(zone).toInstant());
            }
            day = day.plusDays(1 + (r.nextInt(3) == 0 ? 1 : 0));
        }
        var rules = zone.getRules();
        for (var tr = rules.nextTransition(Instant.parse("2021-01-01T00:00:00Z")); tr != null && tr.getInstant().isBefore(Instant.parse("2024-01-01T00:00:00Z"));
             tr = rules.nextTransition(tr.getInstant())) {
            for (int m = -150; m <= 150; m += 20) times.add(tr.getInstant().plusSeconds(m * 60L + r.nextInt(5)));
        }
        List<Instant> list = new ArrayList<>(times);
        Collections.shuffle(list, r); // the function must not depend on the input order
        return list;
    }

    static Prune.Retention.Policy randomPolicy(Random r) {
        Function<Integer, Integer> maybe = bound -> r.nextInt(3) == 0 ? null : r.nextInt(bound);
        Prune.Retention.Policy p;
        do {
            p = new Prune.Retention.Policy(maybe.apply(400), maybe.apply(30), maybe.apply(60), maybe.apply(40), maybe.apply(30), maybe.apply(20), maybe.apply(4));
        } while (p.isEmpty());
        return p;
    }

    @Test
    void rulesMatchTheReferenceOverSyntheticCalendars() {
        int compared = 0;
        for (ZoneId zone : List.of(BERLIN, NEW_YORK, ZoneOffset.UTC)) {
            for (long seed = 1; seed <= 8; seed++) {
                List<Instant> times = calendar(seed * 31 + zone.getId().length(), zone);
                assertTrue(times.size() > 500, "calendar size " + times.size());
                Random r = new Random(seed);
                Instant now = Instant.parse("2024-01-10T00:00:00Z").plusSeconds(r.nextInt(86_400 * 20));
                for (int k = 0; k < 6; k++) {
                    Prune.Retention.Policy policy = randomPolicy(r);
                    Map<Instant, Set<String>> expected = reference(times, policy, now, zone);
                    Map<Instant, Set<String>> actual = product(times, policy, now, zone);
                    for (Instant t : times) {
                        assertEquals(expected.get(t), actual.get(t), () -> "backup " + t + " (" + LocalDateTime.ofInstant(t, zone) + " " + zone
                                + "), policy " + policy + ", now " + now);
                    }
                    compared += times.size();
                }
            }
        }
        assertTrue(compared > 50_000, "compared " + compared);
    }

    @Test
    void everyCalendarRuleKeepsExactlyNPeriodsWhenThereAreThatMany() {
        // An independent property: a daily/weekly/monthly rule of N keeps exactly min(N, #periods) backups,
        // each the newest of its period.
        List<Instant> times = calendar(7, BERLIN);
        Instant now = Instant.parse("2024-02-01T00:00:00Z");
        for (String rule : List.of("hourly", "daily", "weekly", "monthly", "yearly")) {
            int n = 25;
            Prune.Retention.Policy p = new Prune.Retention.Policy(null, null, rule.equals("hourly") ? n : null, rule.equals("daily") ? n : null,
                    rule.equals("weekly") ? n : null, rule.equals("monthly") ? n : null, rule.equals("yearly") ? n : null);
            Map<Instant, Set<String>> kept = product(times, p, now, BERLIN);
            List<Instant> keptTimes = kept.entrySet().stream().filter(e -> e.getValue().contains(rule)).map(Map.Entry::getKey).sorted().toList();
            long periods = times.stream().map(t -> periodName(rule, t, BERLIN)).distinct().count();
            assertEquals(Math.min(n, periods), keptTimes.size(), rule);
            Set<String> keptPeriods = keptTimes.stream().map(t -> periodName(rule, t, BERLIN)).collect(Collectors.toSet());
            assertEquals(keptTimes.size(), keptPeriods.size(), rule + ": one per period");
            for (Instant t : times) {
                if (keptPeriods.contains(periodName(rule, t, BERLIN))) {
                    assertTrue(keptTimes.stream().anyMatch(k -> !k.isBefore(t)), rule + ": the newest of its period is kept, not " + t);
                }
            }
        }
    }

    // ---- hand-checked cases (these are also the README's examples) ----------------------------------------

    static Prune.Retention.Policy policy(Integer days, Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
        return new Prune.Retention.Policy(days, last, hourly, daily, weekly, monthly, yearly);
    }

    static List<String> kept(List<Instant> times, Prune.Retention.Policy p, Instant now, ZoneId zone, String rule) {
        List<List<String>> reasons = Prune.Retention.apply(times, p, now, zone);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) if (reasons.get(i).contains(rule)) out.add(times.get(i).toString());
        Collections.sort(out);
        return out;
    }

    static List<Instant> at(String... isoInstants) {
        return java.util.Arrays.stream(isoInstants).map(Instant::parse).toList();
    }

    @Test
    void theRepeatedHourWhenClocksGoBackIsOneHour() {
        // Berlin, 2024-10-27: 03:00 CEST becomes 02:00 CET. 00:30Z is 02:30 CEST, 01:30Z is 02:30 CET.
        List<Instant> times = at("2024-10-27T00:10:00Z", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2024-10-27T02:05:00Z");
        Instant now = Instant.parse("2024-10-28T00:00:00Z");
        // Local hours 02 (00:10Z, 00:30Z, 01:30Z) and 03 (02:05Z): --keep-hourly 3 finds only two hours with backups.
        assertEquals(List.of("2024-10-27T01:30:00Z", "2024-10-27T02:05:00Z"), kept(times, policy(null, null, 3, null, null, null, null), now, BERLIN, "hourly"));
        // In UTC they are three different hours.
        assertEquals(List.of("2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2024-10-27T02:05:00Z"),
                kept(times, policy(null, null, 3, null, null, null, null), now, ZoneOffset.UTC, "hourly"));
    }

    @Test
    void daysBeginAtLocalMidnight() {
        // New York, 2024-03-10 (clocks go forward at 07:00Z): 04:30Z is 23:30 on the 9th local, 05:30Z is 00:30 on the 10th.
        List<Instant> times = at("2024-03-09T15:00:00Z", "2024-03-10T04:30:00Z", "2024-03-10T05:30:00Z", "2024-03-10T23:00:00Z");
        Instant now = Instant.parse("2024-03-12T00:00:00Z");
        assertEquals(List.of("2024-03-10T04:30:00Z", "2024-03-10T23:00:00Z"), kept(times, policy(null, null, null, 2, null, null, null), now, NEW_YORK, "daily"));
        assertEquals(List.of("2024-03-09T15:00:00Z", "2024-03-10T23:00:00Z"), kept(times, policy(null, null, null, 2, null, null, null), now, ZoneOffset.UTC, "daily"));
    }

    @Test
    void weeksAreIsoWeeks() {
        // 2020-12-31 (Thursday) and 2021-01-03 (Sunday) are both in 2020-W53; 2021-01-04 (Monday) starts 2021-W01.
        List<Instant> times = at("2020-12-28T02:00:00Z", "2020-12-31T02:00:00Z", "2021-01-03T02:00:00Z", "2021-01-04T02:00:00Z");
        Instant now = Instant.parse("2021-01-05T00:00:00Z");
        assertEquals(List.of("2021-01-03T02:00:00Z", "2021-01-04T02:00:00Z"), kept(times, policy(null, null, null, null, 5, null, null), now, ZoneOffset.UTC, "weekly"));
    }

    @Test
    void periodsWithoutBackupsDoNotCount() {
        // Nightly backups for 10 days, then 20 days of nothing, then 3 more: --keep-daily 7 still keeps 7 backups,
        // reaching back over the gap; --keep-days 7 keeps only what is younger than 7 days.
        List<Instant> times = new ArrayList<>();
        for (int d = 1; d <= 10; d++) times.add(Instant.parse("2026-01-01T02:00:00Z").plus(Duration.ofDays(d - 1)));
        for (int d = 31; d <= 33; d++) times.add(Instant.parse("2026-01-01T02:00:00Z").plus(Duration.ofDays(d - 1)));
        Instant now = Instant.parse("2026-02-02T03:00:00Z");
        assertEquals(List.of("2026-01-07T02:00:00Z", "2026-01-08T02:00:00Z", "2026-01-09T02:00:00Z", "2026-01-10T02:00:00Z",
                "2026-01-31T02:00:00Z", "2026-02-01T02:00:00Z", "2026-02-02T02:00:00Z"), kept(times, policy(null, null, null, 7, null, null, null), now, ZoneOffset.UTC, "daily"));
        assertEquals(List.of("2026-01-31T02:00:00Z", "2026-02-01T02:00:00Z", "2026-02-02T02:00:00Z"),
                kept(times, policy(7, null, null, null, null, null, null), now, ZoneOffset.UTC, "days"));
    }

    @Test
    void keepDaysIsYoungerThanNTimes24HoursFromNow() {
        Instant now = Instant.parse("2026-11-23T02:05:00Z");
        List<Instant> times = at("2026-11-16T02:05:00Z", "2026-11-16T02:05:01Z", "2026-11-23T02:00:00Z", "2026-11-24T00:00:00Z");
        assertEquals(List.of("2026-11-16T02:05:01Z", "2026-11-23T02:00:00Z", "2026-11-24T00:00:00Z"), kept(times, policy(7, null, null, null, null, null, null), now, ZoneOffset.UTC, "days"));
        // --keep-days 0 keeps nothing but a backup stamped in the future (a clock ahead of ours).
        assertEquals(List.of("2026-11-24T00:00:00Z"), kept(times, policy(0, null, null, null, null, null, null), now, ZoneOffset.UTC, "days"));
    }

    @Test
    void theReadmeExample() {
        // README "## prune": nightly backups at 02:00 UTC from 2026-01-01 to 2026-11-23, and
        // --keep-daily 7 --keep-weekly 4 --keep-monthly 6 keeps 7 + 2 + 5 = 14 backups (the newest of a week
        // or month already kept by a finer rule counts for both).
        List<Instant> times = new ArrayList<>();
        for (Instant t = Instant.parse("2026-01-01T02:00:00Z"); !t.isAfter(Instant.parse("2026-11-23T02:00:00Z")); t = t.plus(Duration.ofDays(1))) times.add(t);
        Instant now = Instant.parse("2026-11-23T02:30:00Z");
        Prune.Retention.Policy p = policy(null, null, null, 7, 4, 6, null);
        List<List<String>> reasons = Prune.Retention.apply(times, p, now, ZoneOffset.UTC);
        Map<String, List<String>> keptWithReasons = new TreeMap<>();
        for (int i = 0; i < times.size(); i++) if (!reasons.get(i).isEmpty()) keptWithReasons.put(times.get(i).toString().substring(0, 10), reasons.get(i));
        Map<String, List<String>> expected = new TreeMap<>();
        for (String d : List.of("2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21")) expected.put(d, List.of("daily"));
        expected.put("2026-11-22", List.of("daily", "weekly")); // Sunday: end of ISO week 47
        expected.put("2026-11-23", List.of("daily", "weekly", "monthly")); // Monday: week 48 and November
        expected.put("2026-11-15", List.of("weekly"));
        expected.put("2026-11-08", List.of("weekly"));
        expected.put("2026-10-31", List.of("monthly"));
        expected.put("2026-09-30", List.of("monthly"));
        expected.put("2026-08-31", List.of("monthly"));
        expected.put("2026-07-31", List.of("monthly"));
        expected.put("2026-06-30", List.of("monthly"));
        assertEquals(expected, keptWithReasons);
    }

    // ---- the interlocks --------------------------------------------------------------------------------------

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

    static Prune.Settings settings(Prune.Retention.Policy p, int minKeep, Duration maxAge, boolean requireVerified) {
        return new Prune.Settings(p, ZoneOffset.UTC, minKeep, maxAge, requireVerified, Duration.ofHours(24));
    }

    static List<String> days(List<Prune.Decision> decisions) {
        return decisions.stream().map(d -> d.entry().key().stamp().substring(0, 10)).sorted().toList();
    }

    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final Instant LAST_NIGHT = Instant.parse("2026-11-23T02:00:00Z");

    @Test
    void theNewestAndMinKeepSurviveKeepDaysZero() {
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "cccccc");
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, settings(policy(0, null, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of("2026-11-23"), days(plan.keep()));
        assertEquals(List.of("newest", "min-keep"), plan.keep().get(0).reasons());
        assertEquals(5, plan.delete().size());

        plan = Prune.Planner.plan("app", entries, settings(policy(0, null, null, null, null, null, null), 3, null, false), NOW);
        assertEquals(List.of("2026-11-21", "2026-11-22", "2026-11-23"), days(plan.keep()));
        assertEquals(3, plan.delete().size());
        assertNull(plan.held());
    }

    @Test
    void requireVerifiedKeepsEverythingNewerThanTheNewestVerifiedBackups() {
        // oldest ... newest: c c v c c v c c   (newest last)
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "ccvccvcc");
        Prune.Retention.Policy keepNothing = policy(0, null, null, null, null, null, null);
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, settings(keepNothing, 1, null, true), NOW);
        // The two newest are not verified: they and the newest verified one (3rd newest) are kept.
        assertEquals(List.of("2026-11-21", "2026-11-22", "2026-11-23"), days(plan.keep()));
        Map<String, List<String>> reasons = plan.keep().stream().collect(Collectors.toMap(d -> d.entry().key().stamp().substring(0, 10), Prune.Decision::reasons));
        assertEquals(List.of("newest"), reasons.get("2026-11-23"));
        assertEquals(List.of("newer-than-verified"), reasons.get("2026-11-22"));
        assertEquals(List.of("min-keep-verified"), reasons.get("2026-11-21"));

        plan = Prune.Planner.plan("app", entries, settings(keepNothing, 2, null, true), NOW);
        assertEquals(6, plan.keep().size(), days(plan.keep()).toString()); // down to the 2nd verified (6th newest)
        assertEquals(List.of("2026-11-16", "2026-11-17"), days(plan.delete()));

        // Fewer verified backups than --min-keep: nothing is deleted.
        plan = Prune.Planner.plan("app", entries, settings(keepNothing, 3, null, true), NOW);
        assertEquals(8, plan.keep().size());
        assertTrue(plan.keep().stream().anyMatch(d -> d.reasons().equals(List.of("too-few-verified"))));
        // Without --require-verified the same listing keeps only the newest.
        plan = Prune.Planner.plan("app", entries, settings(keepNothing, 1, null, false), NOW);
        assertEquals(1, plan.keep().size());
    }

    @Test
    void maxAgeHoldsEverythingOfAStaleName() {
        List<BackupListing.Entry> entries = new ArrayList<>(listing("app", LAST_NIGHT.minus(Duration.ofDays(3)), "ccccc"));
        entries.addAll(listing("app", LAST_NIGHT, "ii"));
        Prune.Settings s = settings(policy(1, null, null, null, null, null, null), 1, Duration.ofHours(36), false);
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, s, NOW);
        assertTrue(plan.held() != null && plan.held().contains("3d 10h old"), plan.held());
        assertEquals(List.of(), plan.delete());
        assertEquals(List.of(), plan.removeIncomplete());
        assertEquals(5, plan.keep().size());
        assertEquals(2, plan.waitIncomplete().size());

        Prune.NamePlan fresh = Prune.Planner.plan("app", listing("app", LAST_NIGHT, "ccccc"), s, NOW);
        assertNull(fresh.held());
        assertEquals(4, fresh.delete().size()); // keep-days 1 keeps last night's only

        Prune.NamePlan none = Prune.Planner.plan("app", listing("app", LAST_NIGHT, "iii"), s, NOW);
        assertTrue(none.held() != null && none.held().contains("no complete backup"), none.held());
    }

    @Test
    void incompleteBackupsWaitForTheGracePeriod() {
        List<BackupListing.Entry> entries = listing("app", LAST_NIGHT, "icici");
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, settings(policy(30, null, null, null, null, null, null), 1, null, false), NOW);
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
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, settings(policy(null, 1, null, null, null, null, null), 1, null, false), NOW);
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

        Prune.NamePlan held = Prune.Planner.plan("app", entries, settings(policy(null, 1, null, null, null, null, null), 1, Duration.ofHours(36), false), NOW);
        assertTrue(held.held() != null && held.held().contains("2026-11-15"), "--max-age sees through them: " + held.held());
        assertEquals(List.of(), held.delete());
        assertEquals(List.of(), held.removeIncomplete());

        // --require-verified: a passed record next to a phantom vouches for nothing (the command's check: complete first).
        List<BackupListing.Entry> forged = new ArrayList<>(listing("app", LAST_NIGHT.minus(Duration.ofDays(3)), "cc"));
        BackupListing.Entry phantom = entry(new BackupKey(PREFIX, "app", LAST_NIGHT), 'p');
        forged.add(new BackupListing.Entry(phantom.key(), null, phantom.manifest(), S3Object.builder().key(phantom.key().verifyKey()).build(), phantom.status()));
        plan = Prune.Planner.plan("app", forged, settings(policy(0, null, null, null, null, null, null), 1, null, true), NOW,
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
        Prune.NamePlan plan = Prune.Planner.plan("app", entries, settings(policy(1, null, null, null, null, null, null), 1, null, false), NOW);
        assertEquals(List.of(), plan.removeIncomplete());
        assertEquals(List.of(slow), plan.waitIncomplete());
    }

    // ---- options and per-key delete results ----------------------------------------------------------------

    @Test
    void durations() {
        assertEquals(Duration.ofHours(24), Prune.parseDuration("--grace", "24h"));
        assertEquals(Duration.ofMinutes(90), Prune.parseDuration("--grace", "90m"));
        assertEquals(Duration.ofDays(2), Prune.parseDuration("--grace", "2d"));
        assertEquals(Duration.ofHours(36), Prune.parseDuration("--grace", "1d12h"));
        assertEquals(Duration.ofDays(14), Prune.parseDuration("--grace", "2w"));
        assertEquals(Duration.ZERO, Prune.parseDuration("--grace", "0s"));
        assertEquals(Duration.ofHours(6), Prune.parseDuration("--grace", "PT6H"));
        for (String bad : List.of("", "-1h", "24", "h", "1.5h", "1y", "PT-1H", "99999999999999999999d")) {
            Failure f = assertThrows(Failure.class, () -> Prune.parseDuration("--grace", bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("--grace"), f.getMessage());
        }
    }

    @Test
    void perKeyDeleteErrorsAreLockedOrFailed() {
        // DeleteObjects answers as S3 sends them (quiet mode: only errors are listed).
        DeleteObjectsResponse response = DeleteObjectsResponse.builder().errors(
                S3Error.builder().key("b").code("AccessDenied").message("Access Denied because object protected by object lock.").build(),
                S3Error.builder().key("c").code("AccessDenied").message("Access Denied").build(),
                S3Error.builder().key("d").code("InternalError").message("We encountered an internal error. Please try again.").build(),
                S3Error.builder().key("e").code("ObjectLocked").message("Object is WORM protected and cannot be overwritten").build()).build();
        List<Prune.Deleter.KeyResult> results = Prune.Deleter.interpret(List.of("a", "b", "c", "d", "e"), response);
        assertEquals(List.of(Prune.Deleter.Outcome.DELETED, Prune.Deleter.Outcome.LOCKED, Prune.Deleter.Outcome.FAILED,
                Prune.Deleter.Outcome.FAILED, Prune.Deleter.Outcome.LOCKED), results.stream().map(Prune.Deleter.KeyResult::outcome).toList());
        assertEquals("InternalError", results.get(3).code());
        assertFalse(Prune.Deleter.isLocked("AccessDenied", "Access Denied"));
        assertTrue(Prune.Deleter.isLocked("InvalidRequest", "Object is under retention (legal hold)"));
    }
}
