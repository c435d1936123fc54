import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * How one backup name stands, judged from what the bucket holds (never from what a backup job says about itself:
 * a job that did not run reports nothing). A pure function of the listing ({@link BackupListing}: only complete
 * backups count, {@link BackupStatus}), the drill records next to them ({@link VerifyRecord#vouchesFor}), the
 * thresholds and the time of the check. Used by {@code restore check}.
 *
 * <p>Per name: the newest complete backup and its age; the newest complete backup a drill proved; the newest
 * backup's size against the median of the {@value #SIZE_WINDOW} complete backups before it; backups left without
 * a manifest for longer than a backup can run; backups that are not complete. Each finding is a {@link Problem}
 * saying what to do; the verdict is the gravest of them.
 *
 * @param known       why the check looked at this name: "listed" (found under the prefix), "expected" (--expect,
 *                    --names-file), "remembered" (the --state file: it had a complete backup when last checked)
 * @param newest      the newest complete backup, null when there is none
 * @param verified    the newest complete backup a drill passed for, null when there is none
 * @param medianBytes the median size of the complete backups before the newest (up to {@value #SIZE_WINDOW}), null without any
 * @param compared    how many backups that median is of
 * @param leftovers   backups without a manifest older than --max-incomplete-age
 * @param notComplete backups with a manifest that are not complete (the reason is in their problem)
 * @param cutOff      multipart uploads of this name never completed nor aborted, older than --max-incomplete-age
 */
record BackupHealth(String name, Verdict verdict, List<Problem> problems, List<String> known, Backup newest, Backup verified,
                    Long medianBytes, int compared, int complete, int leftovers, int notComplete, int cutOff) {

    /** How many complete backups before the newest its size is compared with (their median). */
    static final int SIZE_WINDOW = 7;

    /** From fine to gravest: a name's verdict is its gravest problem's. */
    enum Verdict {
        OK, UNVERIFIED, ANOMALY, STALE, MISSING;

        String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** One finding and what to do about it, as one line that starts with the name. */
    record Problem(Verdict verdict, String message) {}

    /** A complete backup as the report shows it. */
    record Backup(String key, Instant startedAt, long sizeBytes) {
        static Backup of(BackupListing.Entry e) { return new Backup(e.key().dumpKey(), e.key().startedAt(), e.status().manifest().sizeBytes()); }
    }

    /**
     * @param maxAge           the newest complete backup may be this old
     * @param maxUnverifiedAge the newest backup a drill proved may be this old; null: drills are not checked
     * @param maxShrink        the newest backup may be this fraction smaller than the median (0.5: half); null: not checked
     * @param maxIncompleteAge a dump without a manifest may be this old (a backup still running), then it is a leftover
     */
    record Thresholds(Duration maxAge, Duration maxUnverifiedAge, Double maxShrink, Duration maxIncompleteAge) {
        /** From the options as typed: durations ("26h", "off" for the drill check), the shrink as "50%" or "off". */
        static Thresholds parse(String maxAge, String maxUnverifiedAge, String maxShrink, String maxIncompleteAge) {
            return new Thresholds(Durations.parse("--max-age", maxAge), Durations.parseOrOff("--max-unverified-age", maxUnverifiedAge),
                    shrink(maxShrink), Durations.parse("--max-incomplete-age", maxIncompleteAge));
        }

        /** "50%" (or "50") → 0.5; "off" → null. Between 1% and 99%: 0 would flag every byte less, 100% nothing at all. */
        static Double shrink(String raw) {
            String s = raw == null ? "" : raw.strip();
            if (s.equalsIgnoreCase("off")) return null;
            String number = s.endsWith("%") ? s.substring(0, s.length() - 1).strip() : s;
            double percent;
            try {
                percent = Double.parseDouble(number);
            } catch (NumberFormatException e) {
                throw Failure.usage("--max-shrink '" + raw + "' is not a percentage: use e.g. 50% (or off)");
            }
            if (!(percent >= 1 && percent <= 99)) throw Failure.usage("--max-shrink must be between 1% and 99% (or off), not " + raw);
            return percent / 100;
        }

        String describeShrink() { return maxShrink == null ? "off" : percent(maxShrink); }
    }

    /**
     * A multipart upload of one of this name's dumps that is still open: a backup cut off before its upload completed
     * (a killed runner, a timeout), which leaves no object at all.
     *
     * @param startedAt the time in its key (the backup's start)
     * @param initiated when S3 says the upload began; null when it does not say
     */
    record Upload(Instant startedAt, Instant initiated) {}

    /** As {@link #judge(String, List, List, Function, Thresholds, Instant, List)} without open uploads. */
    static BackupHealth judge(String name, List<BackupListing.Entry> entries, List<String> known, Function<BackupListing.Entry, VerifyRecord> drills,
                              Thresholds t, Instant now) {
        return judge(name, entries, known, drills, t, now, List.of());
    }

    /**
     * Judges one name. {@code entries}: the name's backups as listed (any state); {@code drills}: the drill record next
     * to a listed backup, or null when there is none or it cannot be read; it is asked only for complete backups with a
     * record, newest first, until one vouches for its backup. {@code known}: why this name is checked. {@code uploads}: the
     * name's open multipart uploads; those older than --max-incomplete-age by both their key's time and S3's are a problem.
     */
    static BackupHealth judge(String name, List<BackupListing.Entry> entries, List<String> known, Function<BackupListing.Entry, VerifyRecord> drills,
                              Thresholds t, Instant now, List<Upload> uploads) {
        List<BackupListing.Entry> complete = entries.stream().filter(BackupListing.Entry::complete)
                .sorted(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed()).toList();
        List<Problem> problems = new ArrayList<>();
        Backup newest = complete.isEmpty() ? null : Backup.of(complete.get(0));
        Backup verified = null;
        Long median = null;
        int compared = 0;

        if (newest == null) {
            problems.add(new Problem(Verdict.MISSING, name + ": " + (entries.isEmpty() ? "no backup at all under its prefix" : "no complete backup ("
                    + entries.size() + " other object group" + (entries.size() == 1 ? "" : "s") + " under its prefix, none restorable)")
                    + whyExpected(known) + ": check that the backup job still runs for " + name + " and succeeds (its log says why not); 'restore list --name "
                    + name + " --all' shows what is there"));
        } else {
            Duration age = Duration.between(newest.startedAt(), now);
            if (age.compareTo(t.maxAge()) > 0) {
                problems.add(new Problem(Verdict.STALE, name + ": the newest complete backup is " + Durations.human(age) + " old (started "
                        + newest.startedAt() + "), more than --max-age " + Durations.human(t.maxAge()) + ": no backup has succeeded since; look at the"
                        + " backup job's recent runs (failing, or not running at all: a schedule GitHub disabled or delayed, a stopped cron)"));
            }

            // Drills: the newest record decides whether the last drill failed; the newest that vouches, how old the proof is.
            BackupListing.Entry lastDrilled = null;
            VerifyRecord lastDrill = null;
            for (BackupListing.Entry e : complete) {
                if (!e.verified()) continue;
                VerifyRecord r = drills.apply(e);
                if (r == null) continue;
                if (lastDrill == null) {
                    lastDrill = r;
                    lastDrilled = e;
                }
                if (r.vouchesFor(e.status().manifest())) {
                    verified = Backup.of(e);
                    break;
                }
            }
            if (lastDrill != null && !lastDrill.vouchesFor(lastDrilled.status().manifest())) {
                String what = lastDrill.passed() ? "passed for another dump (its SHA-256 is not the manifest's)"
                        : "FAILED" + (lastDrill.reasons() == null || lastDrill.reasons().isEmpty() ? "" : ": " + String.join("; ", lastDrill.reasons()));
                problems.add(new Problem(Verdict.UNVERIFIED, name + ": the newest drill, of the backup started " + lastDrilled.key().startedAt() + ", " + what
                        + ": see its record ('restore list --name " + name + "') and run 'restore drill --name " + name + "' again; until one passes,"
                        + " treat the backups of " + name + " as unproven"));
            } else if (t.maxUnverifiedAge() != null && verified == null) {
                problems.add(new Problem(Verdict.UNVERIFIED, name + ": no complete backup has a passed restore drill: run 'restore drill --name " + name
                        + "' (the backup workflow's drill job does, for DRILL_NAME), or --max-unverified-age off if you do not drill"));
            }
            if (t.maxUnverifiedAge() != null && verified != null) {
                Duration proofAge = Duration.between(verified.startedAt(), now);
                if (proofAge.compareTo(t.maxUnverifiedAge()) > 0) {
                    problems.add(new Problem(Verdict.UNVERIFIED, name + ": the newest backup a drill proved is " + Durations.human(proofAge) + " old (started "
                            + verified.startedAt() + "), more than --max-unverified-age " + Durations.human(t.maxUnverifiedAge())
                            + ": no drill has passed since; look at the drill job's recent runs, or run 'restore drill --name " + name + "'"));
                }
            }

            List<BackupListing.Entry> before = complete.subList(1, Math.min(complete.size(), SIZE_WINDOW + 1));
            if (!before.isEmpty()) {
                median = median(before.stream().map(e -> e.status().manifest().sizeBytes()).toList());
                compared = before.size();
                if (t.maxShrink() != null && median > 0 && newest.sizeBytes() < median * (1 - t.maxShrink())) {
                    double shrink = 1 - (double) newest.sizeBytes() / median;
                    problems.add(new Problem(Verdict.ANOMALY, name + ": the newest backup (started " + newest.startedAt() + ") is " + newest.sizeBytes()
                            + " bytes, " + percent(shrink) + " smaller than the median of the " + compared + " before it (" + median + " bytes), more than"
                            + " --max-shrink " + t.describeShrink() + ": a dropped table, a truncated dump or an emptied database? compare the two"
                            + " with 'restore list --name " + name + "' and drill the newest; it clears once the smaller size is the usual one"));
                }
            }
        }

        int leftovers = 0;
        Instant newestLeftover = null;
        for (BackupListing.Entry e : entries) {
            if (e.incomplete() && Duration.between(e.key().startedAt(), now).compareTo(t.maxIncompleteAge()) > 0) {
                leftovers++;
                if (newestLeftover == null || e.key().startedAt().isAfter(newestLeftover)) newestLeftover = e.key().startedAt();
            }
        }
        if (leftovers > 0) {
            problems.add(new Problem(Verdict.ANOMALY, name + ": " + leftovers + (leftovers == 1 ? " dump" : " dumps") + " without a manifest older than"
                    + " --max-incomplete-age " + Durations.human(t.maxIncompleteAge()) + " (the newest started " + newestLeftover + "): a backup that failed"
                    + " or was cut off; its job's log says why; prune deletes such leftovers after its --grace"));
        }
        int cutOff = 0;
        Instant newestCut = null;
        for (Upload u : uploads) {
            // Both clocks: a key names a time a store's clock may disagree with, and Initiated may be missing.
            boolean overdue = Duration.between(u.startedAt(), now).compareTo(t.maxIncompleteAge()) > 0
                    && (u.initiated() == null || Duration.between(u.initiated(), now).compareTo(t.maxIncompleteAge()) > 0);
            if (!overdue) continue;
            cutOff++;
            if (newestCut == null || u.startedAt().isAfter(newestCut)) newestCut = u.startedAt();
        }
        if (cutOff > 0) {
            problems.add(new Problem(Verdict.ANOMALY, name + ": " + cutOff + (cutOff == 1 ? " upload" : " uploads") + " of a dump never completed, older"
                    + " than --max-incomplete-age " + Durations.human(t.maxIncompleteAge()) + " (the newest started " + newestCut + "): a backup cut off"
                    + " mid-upload (a killed runner, a timeout: its job's log says which); the bucket's lifecycle rule (setup-aws) or prune aborts such"
                    + " uploads, so one still open after days means neither runs"));
        }
        int notComplete = 0;
        for (BackupListing.Entry e : entries) {
            if (e.complete() || !e.status().hasManifest() || e.status().state() == BackupStatus.State.VANISHED) continue;
            notComplete++;
            problems.add(new Problem(Verdict.ANOMALY, name + ": the backup started " + e.key().startedAt() + " is not complete: " + e.status().describe()
                    + ": it is never restored; inspect it with 'restore list --name " + name + "' and remove it once understood"));
        }

        Verdict verdict = problems.stream().map(Problem::verdict).max(Comparator.naturalOrder()).orElse(Verdict.OK);
        return new BackupHealth(name, verdict, List.copyOf(problems), List.copyOf(known), newest, verified, median, compared, complete.size(),
                leftovers, notComplete, cutOff);
    }

    /** The newest backup's size against the median: -0.8 for 80% smaller; null without a median to compare with. */
    Double sizeChange() {
        if (newest == null || medianBytes == null || medianBytes == 0) return null;
        return (double) (newest.sizeBytes() - medianBytes) / medianBytes;
    }

    boolean ok() { return verdict == Verdict.OK; }

    /** The middle value; for an even count the lower middle one, a size that really occurred. */
    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get((sorted.size() - 1) / 2);
    }

    /** 0.5 → "50%", 0.125 → "12.5%". */
    static String percent(double fraction) {
        double p = Math.round(fraction * 1000) / 10.0;
        return (p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p)) + "%";
    }

    private static String whyExpected(List<String> known) {
        Set<String> k = Set.copyOf(known);
        if (k.contains("remembered")) return ", though it had one when this check last ran (its --state file remembers it)";
        if (k.contains("expected")) return ", though it is expected (--expect, --names-file)";
        return "";
    }
}
