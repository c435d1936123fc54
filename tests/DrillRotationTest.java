import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** lib/DrillRotation.java: tonight's drill sample, nights simulated from the records each night leaves. */
class DrillRotationTest {
    static final Instant START = Instant.parse("2026-11-01T02:00:00Z");

    /** A fleet's drill records night after night: each sampled database is drilled (passing unless in {@code failing}). */
    static final class Fleet {
        final Map<String, Instant> firstBackup = new HashMap<>();
        final Map<String, FleetHistory.LastDrill> last = new HashMap<>();
        final Map<String, List<Instant>> drills = new HashMap<>();

        Fleet(int n, Instant firstBackup) {
            for (int i = 0; i < n; i++) add(String.format("db-%03d", i), firstBackup);
        }

        void add(String name, Instant at) {
            firstBackup.put(name, at);
            drills.put(name, new ArrayList<>());
        }

        List<DrillRotation.Candidate> candidates() {
            List<DrillRotation.Candidate> c = new ArrayList<>();
            firstBackup.forEach((n, t) -> c.add(new DrillRotation.Candidate(n, t, last.get(n))));
            return c;
        }

        List<String> night(Instant now, int everyDays, int atLeast, List<String> failing) {
            List<String> sample = DrillRotation.tonight(candidates(), everyDays, atLeast, now);
            // A run a few minutes later or earlier each night: the slack absorbs it.
            Instant at = now.plus(Duration.ofMinutes((sample.size() * 7L) % 40 - 20));
            for (String n : sample) {
                last.put(n, new FleetHistory.LastDrill(n, at, !failing.contains(n)));
                drills.get(n).add(at);
            }
            return sample;
        }
    }

    @Test
    void everyDatabaseIsDrilledAtLeastEveryNDaysWithASmallNightlySample() {
        Fleet f = new Fleet(100, START.minus(Duration.ofDays(1)));
        int every = 7;
        for (int night = 0; night < 60; night++) {
            Instant now = START.plus(Duration.ofDays(night));
            List<String> sample = f.night(now, every, 0, List.of());
            assertEquals(15, sample.size(), "ceil(100 / 7) a night, night " + night);
        }
        for (var e : f.drills.entrySet()) {
            List<Instant> at = e.getValue();
            assertTrue(at.get(0).isBefore(START.plus(Duration.ofDays(every))), e.getKey() + " first drilled " + at.get(0));
            for (int i = 1; i < at.size(); i++) {
                assertTrue(Duration.between(at.get(i - 1), at.get(i)).compareTo(Duration.ofDays(every).plusHours(1)) <= 0,
                        e.getKey() + " waited from " + at.get(i - 1) + " to " + at.get(i));
            }
        }
    }

    @Test
    void aFleetThatStartsRotatingIsNotDrilledAllInOneNight() {
        Fleet f = new Fleet(300, START.minus(Duration.ofDays(90))); // long backed up, never drilled: everyone due
        List<String> first = f.night(START, 10, 0, List.of());
        assertEquals(30, first.size());
        assertEquals(270, DrillRotation.overdue(f.candidates(), List.of(), 10, START.plus(Duration.ofHours(1))));
        for (int night = 1; night < 10; night++) f.night(START.plus(Duration.ofDays(night)), 10, 0, List.of());
        assertTrue(f.drills.values().stream().allMatch(d -> d.size() == 1), "everyone once within the period");
        assertEquals(0, DrillRotation.overdue(f.candidates(), List.of(), 10, START.plus(Duration.ofDays(9)).plus(Duration.ofHours(1))));
    }

    @Test
    void dueFirstThenNeverDrilledThenOldestDrilledAndTiesByName() {
        Instant now = START;
        List<DrillRotation.Candidate> c = List.of(
                new DrillRotation.Candidate("recent", now.minus(Duration.ofDays(60)), new FleetHistory.LastDrill("recent", now.minus(Duration.ofDays(1)), true)),
                new DrillRotation.Candidate("older", now.minus(Duration.ofDays(60)), new FleetHistory.LastDrill("older", now.minus(Duration.ofDays(3)), true)),
                new DrillRotation.Candidate("overdue", now.minus(Duration.ofDays(60)), new FleetHistory.LastDrill("overdue", now.minus(Duration.ofDays(9)), true)),
                new DrillRotation.Candidate("new-b", now.minus(Duration.ofDays(1)), null),
                new DrillRotation.Candidate("new-a", now.minus(Duration.ofDays(1)), null));
        assertEquals(List.of("overdue", "new-a", "new-b", "older"), DrillRotation.tonight(c, 7, 4, now));
        assertEquals(DrillRotation.tonight(c, 7, 4, now), DrillRotation.tonight(reversed(c), 7, 4, now), "the same records, the same sample");
    }

    static <T> List<T> reversed(List<T> l) {
        List<T> r = new ArrayList<>(l);
        java.util.Collections.reverse(r);
        return r;
    }

    @Test
    void aFailedDrillIsTriedAgainTheNextNightOnTopOfTheRotation() {
        Fleet f = new Fleet(70, START.minus(Duration.ofDays(1)));
        List<String> first = f.night(START, 7, 0, List.of("db-003"));
        assertTrue(first.contains("db-003"));
        List<String> second = f.night(START.plus(Duration.ofDays(1)), 7, 0, List.of());
        assertEquals(11, second.size(), "the 10 of the rotation and the failed one");
        assertTrue(second.contains("db-003"));
        List<String> third = f.night(START.plus(Duration.ofDays(2)), 7, 0, List.of());
        assertTrue(!third.contains("db-003"), "passed again: back in the rotation");
    }

    @Test
    void perNightIsAtLeastWhatThePeriodNeeds() {
        assertEquals(143, DrillRotation.perNight(1000, 7, 5));
        assertEquals(143, DrillRotation.perNight(1000, 7, 20));
        assertEquals(200, DrillRotation.perNight(1000, 7, 200));
        assertEquals(3, DrillRotation.perNight(3, 7, 200), "never more than the fleet");
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> DrillRotation.perNight(10, 0, 1)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> DrillRotation.perNight(10, 7, -1)).exitCode);
    }
}
