import java.util.Locale;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/** What S3 holds under a key, as the writer role may see it: its size and ETag. */
final class StoredObject {
    /**
     * The stored object's size and ETag, or null when there is none. HeadObject needs s3:GetObject; a role without
     * it can still see them through a listing of the exact key (s3:ListBucket on the prefix).
     */
    static S3Object find(S3Client s3, String bucket, String key) {
        try {
            var head = s3.headObject(b -> b.bucket(bucket).key(key));
            return S3Object.builder().key(key).size(head.contentLength()).eTag(head.eTag()).build();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return null;
            if (e.statusCode() != 403) throw e;
            return s3.listObjectsV2(b -> b.bucket(bucket).prefix(key).maxKeys(1)).contents().stream()
                    .filter(o -> o.key().equals(key)).findFirst().orElse(null);
        }
    }

    /** The object's ETag without quotes, lowercase ("" if none): comparable with an MD5 in hex. */
    static String etag(S3Object o) { return o.eTag() == null ? "" : o.eTag().replace("\"", "").toLowerCase(Locale.ROOT); }

    private StoredObject() {}
}
