import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * prune's interlocks, as a pure function over one name's listing: they only ever add to what the rules
 * ({@link RetentionPolicy}) keep.
 * <ul>
 *   <li>the newest complete backup is always kept ("newest");</li>
 *   <li>the --min-keep newest complete backups are kept ("min-keep"); with --require-verified, the --min-keep
 *       newest verified ones and every backup newer than them ("min-keep-verified", "newer-than-verified"),
 *       and everything when there are fewer verified backups than that ("too-few-verified");</li>
 *   <li>when the newest complete backup is older than --max-age (or there is none), nothing of this name is
 *       deleted ({@link PrunePlan#held()});</li>
 *   <li>only complete backups count ({@link BackupStatus}): for the rules, as the newest, for --min-keep, --max-age
 *       and --require-verified. A backup that is not complete never protects, and never costs, a complete one;</li>
 *   <li>incomplete backups (a dump, no manifest) and phantoms (a manifest, no dump: nothing to lose) are removed
 *       once older than --grace by the key's time and by S3's LastModified, else left to finish;</li>
 *   <li>every other backup that is not complete is left alone and reported: its dump may be the only copy of real
 *       data (a size or manifest that disagrees), or it is not ours to judge (a newer manifest format, a date in the
 *       future, a manifest deleted while we listed).</li>
 * </ul>
 */
final class PrunePlanner {
    /** As below, counting a backup as verified when it has a verify record (pure tests; the command passes its check). */
    static PrunePlan plan(String name, List<BackupListing.Entry> entries, PruneSettings s, Instant now) {
        return plan(name, entries, s, now, BackupListing.Entry::verified);
    }

    static PrunePlan plan(String name, List<BackupListing.Entry> entries, PruneSettings s, Instant now, Predicate<BackupListing.Entry> verified) {
        List<BackupListing.Entry> complete = new ArrayList<>(), incomplete = new ArrayList<>(), notComplete = new ArrayList<>();
        for (BackupListing.Entry e : entries) {
            if (e.complete()) complete.add(e);
            else if (e.incomplete() || phantom(e)) incomplete.add(e);
            else if (e.status().hasManifest()) notComplete.add(e); // a lone verify record is nobody's: left, unreported as before
        }
        complete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());
        incomplete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());
        notComplete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());

        List<Instant> times = complete.stream().map(e -> e.key().startedAt()).toList();
        List<List<String>> reasons = RetentionPolicy.apply(times, s.policy(), now, s.zone());

        if (!complete.isEmpty()) reasons.get(0).add(0, "newest");
        List<Integer> protectors = new ArrayList<>();
        for (int i = 0; i < complete.size(); i++) if (!s.requireVerified() || verified.test(complete.get(i))) protectors.add(i);
        String minKeepLabel = s.requireVerified() ? "min-keep-verified" : "min-keep";
        for (int k = 0; k < Math.min(s.minKeep(), protectors.size()); k++) addOnce(reasons.get(protectors.get(k)), minKeepLabel);
        // Backups newer than the oldest protector that counts are not yet protected by anything: keep them.
        int protectedUpTo = protectors.size() >= s.minKeep() ? protectors.get(s.minKeep() - 1) : complete.size() - 1;
        String unprotectedLabel = protectors.size() >= s.minKeep() ? "newer-than-verified" : s.requireVerified() ? "too-few-verified" : "min-keep";
        for (int i = 0; i <= protectedUpTo; i++) if (reasons.get(i).isEmpty()) reasons.get(i).add(unprotectedLabel);

        String held = null;
        BackupListing.Entry newest = complete.isEmpty() ? null : complete.get(0);
        if (s.maxAge() != null) {
            if (newest == null) held = "no complete backup at all (--max-age " + Durations.human(s.maxAge()) + ")";
            else if (newest.key().startedAt().isBefore(now.minus(s.maxAge()))) {
                held = "the newest complete backup (" + newest.key().stamp() + ") is " + Durations.human(Duration.between(newest.key().startedAt(), now))
                        + " old, older than --max-age " + Durations.human(s.maxAge());
            }
        }

        List<PrunePlan.Decision> keep = new ArrayList<>(), delete = new ArrayList<>();
        for (int i = 0; i < complete.size(); i++) {
            List<String> r = reasons.get(i);
            if (r.isEmpty() && held != null) r.add("held");
            (r.isEmpty() ? delete : keep).add(new PrunePlan.Decision(complete.get(i), List.copyOf(r)));
        }
        List<BackupListing.Entry> remove = new ArrayList<>(), wait = new ArrayList<>();
        Instant graceCutoff = now.minus(s.grace());
        for (BackupListing.Entry e : incomplete) {
            S3Object left = e.dump() != null ? e.dump() : e.manifest();
            boolean old = e.key().startedAt().isBefore(graceCutoff) && (left.lastModified() == null || left.lastModified().isBefore(graceCutoff));
            (held == null && old ? remove : wait).add(e);
        }
        return new PrunePlan(name, keep, delete, remove, wait, notComplete, newest, held);
    }

    /**
     * A manifest without its dump that holds nothing to lose: no dump, or a manifest that is invalid or names
     * another dump, next to no dump. Not a newer format's manifest (it may keep its data elsewhere), not one dated
     * in the future (never older than --grace), not one that vanished while we listed.
     */
    static boolean phantom(BackupListing.Entry e) {
        if (e.dump() != null || e.manifest() == null) return false;
        return switch (e.status().state()) {
            case NO_DUMP, MANIFEST_INVALID, OTHER_DUMP -> true;
            default -> false;
        };
    }

    private static void addOnce(List<String> list, String label) { if (!list.contains(label)) list.add(label); }

    private PrunePlanner() {}
}
