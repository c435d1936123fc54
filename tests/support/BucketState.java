import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * What a bucket holds, for before/after comparisons in the fault tests: every key with its ETag and size,
 * and the multipart uploads in progress. Read straight from the emulator (never through a fault proxy).
 */
record BucketState(Map<String, String> objects, List<String> uploads) {

    static BucketState of(String bucket) {
        Map<String, String> objects = new TreeMap<>();
        List<String> uploads = new ArrayList<>();
        try (S3Client s3 = S3Server.get().s3()) {
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) objects.put(o.key(), o.eTag() + " " + o.size());
            for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket)).uploads()) uploads.add(u.key());
        }
        uploads.sort(null);
        return new BucketState(objects, uploads);
    }

    List<String> keys() { return new ArrayList<>(objects.keySet()); }

    /** Every object of {@code before} is still here, byte for byte (same ETag and size). */
    void assertKeeps(BucketState before) {
        for (var e : before.objects.entrySet()) {
            assertEquals(e.getValue(), objects.get(e.getKey()), "an earlier object changed or vanished: " + e.getKey() + "\nnow: " + objects.keySet());
        }
    }

    /** Nothing changed at all: same objects, no new upload in progress. */
    void assertUnchangedSince(BucketState before) {
        assertEquals(before.objects, objects, "the bucket's objects changed");
        assertEquals(before.uploads, uploads, "multipart uploads changed");
    }

    /**
     * Every backup under the prefix is complete (manifest and the dump it names, whose SHA-256 and size match)
     * or recognisably incomplete (a dump without manifest); never a manifest without its dump.
     */
    static void assertEveryBackupCompleteOrIncomplete(String bucket, String prefix) {
        try (S3Client s3 = S3Server.get().s3()) {
            for (BackupListing.Entry e : BackupListing.list(s3, bucket, prefix, null)) {
                if (e.manifest() == null) continue; // incomplete (dump only) or a lone verify record: never restored
                assertTrue(e.dump() != null, "a manifest without its dump: " + e.key().base());
                Manifest m = Manifest.parse(s3.getObjectAsBytes(b -> b.bucket(bucket).key(e.key().manifestKey())).asString(StandardCharsets.UTF_8), "m");
                byte[] dump = s3.getObjectAsBytes(b -> b.bucket(bucket).key(m.dumpKey())).asByteArray();
                assertEquals(m.sizeBytes(), dump.length, "size of " + m.dumpKey());
                assertEquals(m.sha256(), TestBackups.sha256(dump), "SHA-256 of " + m.dumpKey());
            }
        }
    }
}
