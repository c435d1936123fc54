import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * Reads the bucket for {@code restore check}: one listing of the prefix (every manifest read: {@link BackupListing}),
 * one of the open multipart uploads under it (a backup cut off mid-upload leaves nothing else), then per name the drill records the verdict needs, newest first until one vouches (a few GETs per name, several
 * names at a time), and {@link BackupHealth#judge} for every name listed, expected or remembered, but not ignored.
 * Only list and get: whatever role may read backups may run it (without s3:ListBucketMultipartUploads, uploads are not
 * looked at, and the report says so). A fault of S3 (unreachable, access denied) fails the
 * whole check with its exit code: no name is ever judged on a transport fault.
 */
final class BackupCheck {
    static final int READERS = 8;

    /**
     * @param healths     one per name, in name order
     * @param uploadsNote why open multipart uploads were not looked at (the role may not list them), or null
     */
    record Result(List<BackupHealth> healths, String uploadsNote) {}

    static Result run(S3Client s3, String bucket, String prefix, Collection<String> expected, Collection<String> remembered,
                      Set<String> ignored, BackupHealth.Thresholds thresholds, Instant now) {
        Map<String, List<BackupListing.Entry>> byName = new TreeMap<>();
        Map<String, List<String>> known = new TreeMap<>();
        for (BackupListing.Entry e : BackupListing.list(s3, bucket, prefix, null)) {
            byName.computeIfAbsent(e.key().name(), k -> new ArrayList<>()).add(e);
            mark(known, e.key().name(), "listed");
        }
        Map<String, List<BackupHealth.Upload>> uploads = new TreeMap<>();
        String uploadsNote = null;
        try {
            for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(BackupKey.rootPrefix(prefix))).uploads()) {
                var parsed = BackupKey.parse(prefix, u.key());
                if (parsed.isEmpty()) continue; // not ours (backup's own access probe included: prune's business)
                String name = parsed.get().backup().name();
                BackupHealth.Upload up = new BackupHealth.Upload(parsed.get().backup().startedAt(), u.initiated());
                uploads.computeIfAbsent(name, k -> new ArrayList<>()).add(up);
                // A name whose only trace is an upload cut off long ago is one to judge (its first backup died);
                // one still uploading is not yet.
                if (older(up.startedAt(), now, thresholds) && (up.initiated() == null || older(up.initiated(), now, thresholds))) mark(known, name, "listed");
            }
        } catch (AwsServiceException e) {
            // A role that may read backups but not list uploads (the restorer role): the rest of the check stands.
            if (e.statusCode() != 403) throw e;
            uploadsNote = "open multipart uploads not checked: " + Errors.fromAws(e).getMessage()
                    + " (grant s3:ListBucketMultipartUploads on the bucket to see backups cut off mid-upload)";
        }
        for (String name : expected) mark(known, name, "expected");
        for (String name : remembered) mark(known, name, "remembered");
        known.keySet().removeAll(ignored);

        List<Callable<BackupHealth>> judge = new ArrayList<>();
        for (var e : known.entrySet()) {
            List<BackupListing.Entry> entries = byName.getOrDefault(e.getKey(), List.of());
            List<BackupHealth.Upload> open = uploads.getOrDefault(e.getKey(), List.of());
            judge.add(() -> BackupHealth.judge(e.getKey(), entries, e.getValue(), entry -> VerifyRecord.read(s3, bucket, entry.key()), thresholds, now, open));
        }
        return new Result(Threads.all(READERS, "drill-record-reader", "reading drill records", judge), uploadsNote);
    }

    private static boolean older(Instant t, Instant now, BackupHealth.Thresholds thresholds) {
        return Duration.between(t, now).compareTo(thresholds.maxIncompleteAge()) > 0;
    }

    private static void mark(Map<String, List<String>> known, String name, String why) {
        List<String> reasons = known.computeIfAbsent(name, k -> new ArrayList<>());
        if (!reasons.contains(why)) reasons.add(why);
    }

    private BackupCheck() {}
}
