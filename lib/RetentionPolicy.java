import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The retention rules, and {@link #apply} as a pure function, with the semantics of restic's {@code forget} and borg's
 * {@code prune}: every rule looks at all backups independently, a backup is kept if any rule keeps it, and a
 * calendar rule keeps the newest backup of each of the N most recent periods that contain a backup (periods
 * without a backup do not count). Periods are local to the time zone; weeks are ISO weeks (Monday first,
 * week 1 contains the year's first Thursday). When clocks go back, the repeated local hour is one period.
 *
 * <p>null fields are rules not given.
 */
record RetentionPolicy(Integer keepDays, Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
    boolean isEmpty() { return rules().isEmpty(); }

    /** The rules given, as option → N, in the order they are reported. */
    Map<String, Integer> rules() {
        Map<String, Integer> r = new LinkedHashMap<>();
        if (last != null) r.put("--keep-last", last);
        if (keepDays != null) r.put("--keep-days", keepDays);
        if (hourly != null) r.put("--keep-hourly", hourly);
        if (daily != null) r.put("--keep-daily", daily);
        if (weekly != null) r.put("--keep-weekly", weekly);
        if (monthly != null) r.put("--keep-monthly", monthly);
        if (yearly != null) r.put("--keep-yearly", yearly);
        return r;
    }

    String describe() {
        List<String> parts = new ArrayList<>();
        rules().forEach((option, n) -> parts.add(option.substring(2) + " " + n));
        return String.join(", ", parts);
    }

    /**
     * For each of {@code times} (any order; the answer is in the same order), the rules that keep it:
     * "last", "days", "hourly", "daily", "weekly", "monthly", "yearly"; an empty list when none does.
     */
    static List<List<String>> apply(List<Instant> times, RetentionPolicy policy, Instant now, ZoneId zone) {
        int n = times.size();
        List<List<String>> reasons = new ArrayList<>(n);
        for (int i = 0; i < n; i++) reasons.add(new ArrayList<>());
        List<Integer> newestFirst = new ArrayList<>();
        for (int i = 0; i < n; i++) newestFirst.add(i);
        newestFirst.sort(Comparator.comparing((Integer i) -> times.get(i)).reversed());

        if (policy.last() != null) {
            for (int k = 0; k < Math.min(policy.last(), n); k++) reasons.get(newestFirst.get(k)).add("last");
        }
        if (policy.keepDays() != null) {
            Instant cutoff = now.minus(Duration.ofDays(policy.keepDays()));
            for (int i = 0; i < n; i++) if (times.get(i).isAfter(cutoff)) reasons.get(i).add("days");
        }
        period(times, newestFirst, reasons, policy.hourly(), "hourly", zone, z -> z.toLocalDateTime().truncatedTo(ChronoUnit.HOURS));
        period(times, newestFirst, reasons, policy.daily(), "daily", zone, ZonedDateTime::toLocalDate);
        period(times, newestFirst, reasons, policy.weekly(), "weekly", zone,
                z -> z.get(IsoFields.WEEK_BASED_YEAR) * 100L + z.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
        period(times, newestFirst, reasons, policy.monthly(), "monthly", zone, YearMonth::from);
        period(times, newestFirst, reasons, policy.yearly(), "yearly", zone, ZonedDateTime::getYear);
        return reasons;
    }

    /** Walks newest first; the first backup seen in a period is its newest; stops after {@code count} periods. */
    private static void period(List<Instant> times, List<Integer> newestFirst, List<List<String>> reasons, Integer count,
                               String label, ZoneId zone, Function<ZonedDateTime, Object> periodOf) {
        if (count == null || count == 0) return;
        Set<Object> seen = new HashSet<>();
        for (int i : newestFirst) {
            if (seen.size() >= count) break;
            if (seen.add(periodOf.apply(times.get(i).atZone(zone)))) reasons.get(i).add(label);
        }
    }
}
