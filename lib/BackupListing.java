import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The backups under a prefix, as a (paginated) listing of S3 shows them, grouped per backup, each judged complete
 * or not ({@link BackupStatus}: that reads every manifest, one GET each, {@value #READERS} at a time). Shared by
 * restore (list, select) and prune (retention). Keys that do not parse as ours are left out, so nothing built on
 * this listing can touch a foreign object.
 */
final class BackupListing {
    /** Manifests are small objects: read a few at a time. */
    static final int READERS = 8;

    /** One backup's objects (any of them may be missing) and what they amount to. */
    record Entry(BackupKey key, S3Object dump, S3Object manifest, S3Object verify, BackupStatus status, List<S3Object> objects) {
        /**
         * For a directory-format backup (backup --parallel), {@code dump} stands for its objects as one: key
         * NAME_STAMP.dump.d/, their total size, the latest LastModified; {@code objects} are the objects themselves
         * (empty for a single-object dump).
         */
        Entry(BackupKey key, S3Object dump, S3Object manifest, S3Object verify, BackupStatus status) {
            this(key, dump, manifest, verify, status, List.of());
        }

        /** The keys a deletion of the dump removes: the dump, or every object of a directory-format backup. */
        List<String> dumpKeys() {
            if (!objects.isEmpty()) return objects.stream().map(S3Object::key).toList();
            return dump == null ? List.of() : List.of(dump.key());
        }

        /** Complete: restorable as it stands (see {@link BackupStatus}); the only backups that count. */
        boolean complete() { return status.complete(); }

        /** A dump without a manifest: a failed or still-running backup. */
        boolean incomplete() { return manifest == null && dump != null; }

        /** A verify record exists (whether it vouches for the backup is {@link VerifyRecord#vouchedFor}'s question). */
        boolean verified() { return verify != null; }
    }

    /**
     * One backup's objects as the listing shows them, before anything is read: any of them may be missing. For a
     * directory-format backup (backup --parallel), {@code dump} stands for its objects as one (see {@link #directory})
     * and {@code objects} are the objects themselves (empty for a single-object dump).
     */
    record Listed(BackupKey key, S3Object dump, S3Object manifest, S3Object verify, List<S3Object> objects) {}

    /**
     * Lists PREFIX/ (or PREFIX/NAME/ when {@code name} is given) and groups the objects per backup, keeping only the
     * names {@code names} accepts (null: every name); nothing is read. By name, then oldest first.
     */
    static List<Listed> group(S3Client s3, String bucket, String prefix, String name, Predicate<String> names) {
        String listPrefix = name == null ? BackupKey.rootPrefix(prefix) : BackupKey.namePrefix(prefix, name);
        Map<String, S3Object[]> grouped = new TreeMap<>();
        Map<String, BackupKey> keys = new TreeMap<>();
        Map<String, List<S3Object>> directories = new TreeMap<>();
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(listPrefix).build();
        for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
            var parsed = BackupKey.parse(prefix, object.key());
            if (parsed.isEmpty()) continue;
            BackupKey key = parsed.get().backup();
            if (names != null && !names.test(key.name())) continue;
            String id = key.base();
            keys.put(id, key);
            S3Object[] slots = grouped.computeIfAbsent(id, k -> new S3Object[3]);
            if (parsed.get().kind() == BackupKey.Kind.DUMP_OBJECT) directories.computeIfAbsent(id, k -> new ArrayList<>()).add(object);
            else slots[parsed.get().kind().ordinal()] = object;
        }
        List<Listed> listed = new ArrayList<>();
        for (var e : grouped.entrySet()) {
            S3Object[] o = e.getValue();
            BackupKey key = keys.get(e.getKey());
            List<S3Object> objects = directories.getOrDefault(e.getKey(), List.of());
            S3Object dump = o[BackupKey.Kind.DUMP.ordinal()] != null || objects.isEmpty() ? o[BackupKey.Kind.DUMP.ordinal()] : directory(key, objects);
            List<S3Object> parts = dump != null && dump.key().equals(key.objectsPrefix()) ? List.copyOf(objects) : List.of();
            listed.add(new Listed(key, dump, o[BackupKey.Kind.MANIFEST.ordinal()], o[BackupKey.Kind.VERIFY.ordinal()], parts));
        }
        listed.sort(Comparator.comparing((Listed l) -> l.key().name()).thenComparing(l -> l.key().startedAt()));
        return listed;
    }

    /**
     * Lists PREFIX/ (or PREFIX/NAME/ when {@code name} is given), groups the objects per backup and judges each,
     * sorted by name, then oldest first. A manifest that cannot be read for a reason of S3 (network, permission)
     * fails the whole listing: a backup is never judged on a transport fault.
     */
    static List<Entry> list(S3Client s3, String bucket, String prefix, String name) {
        Instant now = Instant.now();
        List<Callable<Entry>> judge = new ArrayList<>();
        for (Listed l : group(s3, bucket, prefix, name, null)) {
            judge.add(() -> new Entry(l.key(), l.dump(), l.manifest(), l.verify(), check(s3, bucket, l.key(), l.dump(), l.manifest(), false, now), l.objects()));
        }
        return Threads.all(READERS, "manifest-reader", "reading manifests", judge);
    }

    /** A directory-format backup's objects as one listed "dump": its prefix, their total size, the latest LastModified. */
    static S3Object directory(BackupKey key, List<S3Object> objects) {
        long size = 0;
        Instant last = null;
        for (S3Object o : objects) {
            size += o.size() == null ? 0 : o.size();
            if (o.lastModified() != null && (last == null || o.lastModified().isAfter(last))) last = o.lastModified();
        }
        return S3Object.builder().key(key.objectsPrefix()).size(size).lastModified(last).build();
    }

    /**
     * Reads a listed backup's manifest (none, when the listing has none) and judges the backup. {@code tables}: keep
     * the per-table statistics (a drill needs them; a listing does not hold them).
     */
    static BackupStatus check(S3Client s3, String bucket, BackupKey key, S3Object dump, S3Object manifest, boolean tables, Instant now) {
        if (manifest == null) return BackupStatus.judge(key, dump, null, null, null, false, now);
        Manifest m = null;
        Failure unreadable = null;
        boolean vanished = false;
        if (manifest.size() != null && manifest.size() > BackupStatus.MAX_MANIFEST_BYTES) {
            unreadable = Manifest.tooLarge(key.manifestKey(), BackupStatus.MAX_MANIFEST_BYTES);
        } else {
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key.manifestKey()))) {
                try {
                    m = Manifest.read(in, BackupStatus.MAX_MANIFEST_BYTES, tables, key.manifestKey());
                } catch (Failure f) {
                    in.abort(); // do not drain the rest of an oversized object
                    unreadable = f;
                }
            } catch (NoSuchKeyException e) {
                vanished = true;
            } catch (java.io.IOException | RuntimeException e) { // S3 or the network, not the manifest: no verdict
                Failure f = Errors.classify(e instanceof java.io.UncheckedIOException u ? u.getCause() : e);
                throw new Failure(f.exitCode, "cannot read the manifest " + key.manifestKey() + ": " + f.getMessage()
                        + (f.exitCode == Exit.NO_PERMISSION ? " (every backup's manifest is read to tell complete backups from others:"
                                + " the role needs s3:GetObject on PREFIX/*.manifest.json)" : ""), e);
            }
        }
        return BackupStatus.judge(key, dump, manifest, m, unreadable, vanished, now);
    }

    private BackupListing() {}
}
