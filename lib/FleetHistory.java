import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What a fleet's past says, per backup name, for planning: the newest <em>complete</em> backup's size and duration
 * (from its manifest) and the newest drill record's time and verdict. One listing of the prefix (1,000 keys a
 * request, grouped by {@link BackupListing#group}), then only the few objects that matter per name are read: the
 * newest manifest (an older one when the newest is not complete) and the newest verify record, {@code readers} at a
 * time. A fleet of 3,000 names with 30 backups each is 90 listing requests and about 6,000 small GETs, not the 90,000
 * of judging every backup ({@link BackupListing#list}).
 */
final class FleetHistory {
    /**
     * The newest complete backup of a name: when it started, its size, how long it took (null when the manifest's
     * times do not say); and when the name's oldest backup still listed started.
     */
    record Past(String name, Instant startedAt, long sizeBytes, Double durationSeconds, Instant firstBackup) {}

    /** The last drill of a name: when it finished and whether it passed. */
    record LastDrill(String name, Instant at, boolean passed) {}

    record History(Map<String, Past> backups, Map<String, LastDrill> drills) {
        static History empty() { return new History(Map.of(), Map.of()); }
    }

    /** What was read of one name: either may be null (no complete backup, no drill). */
    private record NameRead(Past past, LastDrill drill) {}

    /** How many older backups are looked at when the newest ones are not complete, before the name counts as new. */
    private static final int TRIES = 3;

    /**
     * Reads the history of {@code names} (null: every name under the prefix). Any S3 failure fails the whole read
     * (a plan is not made from half a history without saying so); a manifest or record that is damaged only makes
     * that backup not count.
     */
    static History read(S3Client s3, String bucket, String prefix, Collection<String> names, int readers) {
        Set<String> wanted = names == null ? null : Set.copyOf(names);
        Map<String, List<BackupListing.Listed>> byName = new HashMap<>(); // each name's backups, newest first
        for (BackupListing.Listed l : BackupListing.group(s3, bucket, prefix, null, wanted == null ? null : wanted::contains)) {
            byName.computeIfAbsent(l.key().name(), n -> new ArrayList<>()).add(0, l);
        }
        Instant now = Instant.now();
        List<Callable<NameRead>> reads = new ArrayList<>();
        for (var e : byName.entrySet()) {
            String name = e.getKey();
            List<BackupListing.Listed> backups = e.getValue();
            reads.add(() -> new NameRead(newestComplete(s3, bucket, name, backups, now), lastDrill(s3, bucket, name, backups, now)));
        }
        Map<String, Past> pastByName = new HashMap<>();
        Map<String, LastDrill> drillByName = new HashMap<>();
        for (NameRead r : Threads.all(readers, "fleet-history", "reading the fleet's manifests", reads)) {
            if (r.past() != null) pastByName.put(r.past().name(), r.past());
            if (r.drill() != null) drillByName.put(r.drill().name(), r.drill());
        }
        return new History(Map.copyOf(pastByName), Map.copyOf(drillByName));
    }

    private static Past newestComplete(S3Client s3, String bucket, String name, List<BackupListing.Listed> backups, Instant now) {
        int tried = 0;
        for (BackupListing.Listed b : backups) {
            if (b.manifest() == null || b.dump() == null) continue; // not complete without reading anything
            if (tried++ == TRIES) break;
            BackupStatus status = BackupListing.check(s3, bucket, b.key(), b.dump(), b.manifest(), false, now);
            if (!status.complete()) continue;
            Manifest m = status.manifest();
            return new Past(name, b.key().startedAt(), m.sizeBytes(), seconds(m.startedAt(), m.finishedAt()), backups.get(backups.size() - 1).key().startedAt());
        }
        return null;
    }

    /**
     * The newest drill record that stands beside a complete backup (the rule of {@link VerifyRecord#vouchedFor}: a record
     * next to a phantom, a damaged or a future-dated backup is no drill of it). A record that says passed but not of
     * this dump (its sha256 differs from the manifest's) vouches for nothing: it counts as a drill that did not pass,
     * so that the database is drilled again soon.
     */
    private static LastDrill lastDrill(S3Client s3, String bucket, String name, List<BackupListing.Listed> backups, Instant now) {
        int tried = 0;
        for (BackupListing.Listed b : backups) {
            if (b.verify() == null || b.manifest() == null || b.dump() == null) continue; // a record beside no backup is no drill of ours
            if (tried++ == TRIES) break;
            BackupStatus status = BackupListing.check(s3, bucket, b.key(), b.dump(), b.manifest(), false, now);
            if (!status.complete()) continue;
            VerifyRecord record = VerifyRecord.read(s3, bucket, b.key());
            if (record == null) continue; // unreadable: as if that drill had not happened
            Instant at = instant(record.finishedAt());
            if (at == null) at = b.verify().lastModified();
            return new LastDrill(name, at, record.vouchesFor(status.manifest()));
        }
        return null;
    }

    static Double seconds(String startedAt, String finishedAt) {
        Instant a = instant(startedAt), b = instant(finishedAt);
        if (a == null || b == null || b.isBefore(a)) return null;
        return Duration.between(a, b).toMillis() / 1000.0;
    }

    private static Instant instant(String s) {
        if (s == null) return null;
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private FleetHistory() {}
}
