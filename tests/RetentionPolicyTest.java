import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * {@link RetentionPolicy}: the retention rules as a pure function. They are checked against a reference
 * computation written differently (group every backup by a formatted period string, sort the periods, take
 * the newest of each) over synthetic calendars: years of backups with gaps, several per day, and bursts
 * across the DST changes of Europe/Berlin and America/New_York.
 */
class RetentionPolicyTest {
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

    static Map<Instant, Set<String>> reference(List<Instant> times, RetentionPolicy p, Instant now, ZoneId zone) {
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

    static Map<Instant, Set<String>> product(List<Instant> times, RetentionPolicy p, Instant now, ZoneId zone) {
        List<List<String>> reasons = RetentionPolicy.apply(times, p, now, zone);
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

    static RetentionPolicy randomPolicy(Random r) {
        Function<Integer, Integer> maybe = bound -> r.nextInt(3) == 0 ? null : r.nextInt(bound);
        RetentionPolicy p;
        do {
            p = new RetentionPolicy(maybe.apply(400), maybe.apply(30), maybe.apply(60), maybe.apply(40), maybe.apply(30), maybe.apply(20), maybe.apply(4));
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
                    RetentionPolicy policy = randomPolicy(r);
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
            RetentionPolicy p = new RetentionPolicy(null, null, rule.equals("hourly") ? n : null, rule.equals("daily") ? n : null,
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

    static RetentionPolicy policy(Integer days, Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
        return new RetentionPolicy(days, last, hourly, daily, weekly, monthly, yearly);
    }

    static List<String> kept(List<Instant> times, RetentionPolicy p, Instant now, ZoneId zone, String rule) {
        List<List<String>> reasons = RetentionPolicy.apply(times, p, now, zone);
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
        RetentionPolicy p = policy(null, null, null, 7, 4, 6, null);
        List<List<String>> reasons = RetentionPolicy.apply(times, p, now, ZoneOffset.UTC);
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
}
