import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Which databases tonight's restore drill restores. A fleet cannot restore every database every night; it restores
 * a deterministic rotating sample such that every database is drilled at least once every {@code everyDays} days:
 * <ol>
 *   <li>those that are due, most overdue first: last drilled {@code everyDays} days ago or more (less {@link #SLACK}: a
 *       nightly run starts at slightly different times), or never drilled and first backed up that long ago;</li>
 *   <li>then those never drilled (oldest first backup first), then the longest ago drilled ones (oldest-drilled first);</li>
 *   <li>steps 1 and 2 together at most {@link #perNight}; and on top, up to as many again, those whose last drill
 *       failed: a fix shows the next night without pushing anyone else's turn back.</li>
 * </ol>
 * {@link #perNight} is at least a {@code everyDays}-th of the fleet, so in steady state nobody becomes due (step 2
 * drills everyone in turn). A fleet that starts rotating (everyone due at once), or that missed nights, is not drilled
 * all in one night: the most overdue go first, {@link #overdue} says how many wait, and within {@code everyDays} nights
 * everyone has had a turn. Ties are broken by name: the same records give the same sample, a rerun drills the same ones.
 *
 * <p>Drills come from the verify records ({@link FleetHistory.LastDrill}); a drill that reached no verdict left no record,
 * so that database stays due and is tried again the next night.
 */
final class DrillRotation {
    /** A nightly run starts some minutes earlier or later than the last one: a drill this much short of the period still counts as due. */
    static final Duration SLACK = Duration.ofHours(12);

    /** A database that can be drilled (it has a complete backup): when it was first backed up, and its last drill (null: never). */
    record Candidate(String name, Instant firstBackup, FleetHistory.LastDrill lastDrill) {}

    /** {@code atLeast}, and at least a {@code everyDays}-th of the fleet, so that everyone's turn comes within the period. */
    static int perNight(int databases, int everyDays, int atLeast) {
        if (everyDays < 1) throw Failure.usage("--drill-every-days must be at least 1");
        if (atLeast < 0) throw Failure.usage("--drills-per-night must not be negative");
        return Math.min(databases, Math.max(atLeast, (databases + everyDays - 1) / everyDays));
    }

    /** Tonight's sample, most overdue first. */
    static List<String> tonight(Collection<Candidate> candidates, int everyDays, int atLeast, Instant now) {
        int k = perNight(candidates.size(), everyDays, atLeast);
        Instant dueBefore = now.minus(Duration.ofDays(everyDays)).plus(SLACK);
        // Never drilled sorts before drilled, each oldest first; a time in the future (a skewed clock) counts as now.
        Comparator<Candidate> order = Comparator.comparing((Candidate c) -> c.lastDrill() != null)
                .thenComparing(c -> since(c, now)).thenComparing(Candidate::name);
        List<Candidate> queue = candidates.stream().sorted(order).toList();
        LinkedHashSet<String> sample = new LinkedHashSet<>();
        for (Candidate c : due(queue, dueBefore, now)) {
            if (sample.size() >= k) break;
            sample.add(c.name());
        }
        for (Candidate c : queue) {
            if (sample.size() >= k) break;
            sample.add(c.name());
        }
        int extra = 0;
        for (Candidate c : queue) {
            if (extra >= k) break;
            if (c.lastDrill() != null && !c.lastDrill().passed() && sample.add(c.name())) extra++;
        }
        return new ArrayList<>(sample);
    }

    /** How many candidates are due (not drilled within {@code everyDays}) and are not in {@code tonight}: a warning, not a failure. */
    static int overdue(Collection<Candidate> candidates, List<String> tonight, int everyDays, Instant now) {
        Instant dueBefore = now.minus(Duration.ofDays(everyDays)).plus(SLACK);
        java.util.Set<String> drilled = java.util.Set.copyOf(tonight);
        return (int) due(candidates, dueBefore, now).stream().filter(c -> !drilled.contains(c.name())).count();
    }

    private static List<Candidate> due(Collection<Candidate> candidates, Instant dueBefore, Instant now) {
        return candidates.stream().filter(c -> since(c, now).isBefore(dueBefore))
                .sorted(Comparator.comparing((Candidate c) -> since(c, now)).thenComparing(Candidate::name)).toList();
    }

    /** The candidates among {@code names}: those with a complete backup in {@code history}. */
    static List<Candidate> candidates(Collection<String> names, FleetHistory.History history) {
        List<Candidate> out = new ArrayList<>();
        for (String n : names) {
            FleetHistory.Past p = history.backups().get(n);
            if (p != null) out.add(new Candidate(n, p.firstBackup(), history.drills().get(n)));
        }
        return out;
    }

    /** The time the database's turn counts from: its last drill, or its first backup when it was never drilled. */
    private static Instant since(Candidate c, Instant now) {
        Instant t = c.lastDrill() != null && c.lastDrill().at() != null ? c.lastDrill().at() : c.firstBackup();
        if (t == null) return Instant.EPOCH;
        return t.isAfter(now) ? now : t;
    }

    private DrillRotation() {}
}
