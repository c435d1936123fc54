import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The backups under a prefix, as a (paginated) listing of S3 shows them, grouped per backup. Shared by
 * restore (list, select) and prune (retention). Keys that do not parse as ours are left out, so nothing
 * built on this listing can touch a foreign object.
 */
final class BackupListing {

    /** One backup's objects; any of them may be missing. */
    record Entry(BackupKey key, S3Object dump, S3Object manifest, S3Object verify) {
        /** A backup exists only when its manifest exists (design.md section 2). */
        boolean complete() { return manifest != null; }

        /** A dump without a manifest: a failed or still-running backup. */
        boolean incomplete() { return manifest == null && dump != null; }

        boolean verified() { return verify != null; }
    }

    /**
     * Lists PREFIX/ (or PREFIX/NAME/ when {@code name} is given) and groups the objects per backup, sorted by
     * name, then oldest first.
     */
    static List<Entry> list(S3Client s3, String bucket, String prefix, String name) {
        String listPrefix = name == null ? BackupKey.rootPrefix(prefix) : BackupKey.namePrefix(prefix, name);
        Map<String, S3Object[]> grouped = new TreeMap<>();
        Map<String, BackupKey> keys = new TreeMap<>();
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(listPrefix).build();
        for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
            var parsed = BackupKey.parse(prefix, object.key());
            if (parsed.isEmpty()) continue;
            BackupKey key = parsed.get().backup();
            String id = key.base();
            keys.put(id, key);
            grouped.computeIfAbsent(id, k -> new S3Object[3])[parsed.get().kind().ordinal()] = object;
        }
        List<Entry> entries = new ArrayList<>();
        for (var e : grouped.entrySet()) {
            S3Object[] o = e.getValue();
            entries.add(new Entry(keys.get(e.getKey()), o[BackupKey.Kind.DUMP.ordinal()], o[BackupKey.Kind.MANIFEST.ordinal()], o[BackupKey.Kind.VERIFY.ordinal()]));
        }
        entries.sort((a, b) -> {
            int byName = a.key().name().compareTo(b.key().name());
            return byName != 0 ? byName : a.key().startedAt().compareTo(b.key().startedAt());
        });
        return entries;
    }

    /** Reads and checks a backup's manifest. */
    static Manifest readManifest(S3Client s3, String bucket, BackupKey key) {
        try {
            return Manifest.parse(Manifest.fetchSmall(s3, bucket, key.manifestKey(), "manifest"), key.manifestKey());
        } catch (NoSuchKeyException e) {
            throw new Failure(Exit.FAILED, "backup " + key.base() + " has no manifest: it is incomplete and is not restored");
        }
    }

    private BackupListing() {}
}
