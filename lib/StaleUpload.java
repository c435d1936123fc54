import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/** A multipart upload of ours for prune to abort; {@code name} is null for backup's preflight probe. */
record StaleUpload(String name, String key, String uploadId, Instant initiated) {

    /**
     * Multipart uploads under the prefix (or PREFIX/NAME/) whose key parses as ours and that were started before
     * {@code before}, by S3's {@code Initiated} and by the key's own time (either alone may be wrong: a store's clock
     * or its idea of Initiated, a key that names a time): a backup that died before completing its upload; and,
     * without --name, backup's preflight probe whose abort failed (name null). Uploads of foreign keys are left alone.
     */
    static List<StaleUpload> list(S3Client s3, String bucket, String prefix, String onlyName, Instant before) {
        String listPrefix = onlyName == null ? BackupKey.rootPrefix(prefix) : BackupKey.namePrefix(prefix, onlyName);
        List<StaleUpload> stale = new ArrayList<>();
        for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(listPrefix)).uploads()) {
            // backup's access probe, left in progress when its abort failed: ours, of no name
            if (onlyName == null && u.key().equals(BackupKey.preflightKey(prefix))) {
                if (u.initiated() != null && u.initiated().isBefore(before)) stale.add(new StaleUpload(null, u.key(), u.uploadId(), u.initiated()));
                continue;
            }
            var parsed = BackupKey.parse(prefix, u.key());
            if (parsed.isEmpty() || (onlyName != null && !parsed.get().backup().name().equals(onlyName))) continue;
            if (u.initiated() != null && u.initiated().isBefore(before) && parsed.get().backup().startedAt().isBefore(before)) {
                stale.add(new StaleUpload(parsed.get().backup().name(), u.key(), u.uploadId(), u.initiated()));
            }
        }
        return stale;
    }
}
