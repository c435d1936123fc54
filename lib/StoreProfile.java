import java.net.URI;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * What one S3-compatible store accepts, so that every script talks to it the way it documents (docs/stores.md).
 * Chosen with --s3-compat / S3_COMPAT, else from the endpoint's host ({@link #detect}): AWS without an endpoint.
 *
 * <ul>
 * <li>{@code checksums}: the store takes S3's flexible checksums (x-amz-checksum-crc32, the x-amz-sdk-checksum-algorithm
 *   header, aws-chunked trailers). AWS SDK 2.30+ sends them on every upload by default; GCS, B2 and several others refuse
 *   or mis-sign them. Without: no aws-chunked bodies, and the SDK computes checksums only where an operation requires one (and then Content-MD5,
 *   as before 2.30: {@link LegacyMd5Plugin}), and each part carries a Content-MD5 instead of a CRC32. The manifest's
 *   SHA-256 of the whole object stays the source of truth either way.</li>
 * <li>{@code conditionalWrites}: the store honours If-None-Match: * on PutObject and CompleteMultipartUpload (a key is
 *   created only if absent, atomically). Without: the writer checks with HeadObject that the key is absent, then
 *   writes. That is NOT atomic: it still refuses to replace an object that existed when it looked, but two writers of
 *   the same key within the same moment (two backups of one name started in the same second and finishing together)
 *   can both succeed, the later replacing the earlier. The check after the manifest (the dump's size) still catches
 *   a replacement of a different size.</li>
 * <li>{@code batchDelete}: DeleteObjects works and its reply can be trusted. Without (GCS does not implement it, B2's
 *   reply can be malformed): one DeleteObject per key.</li>
 * <li>{@code burstyErrors}: the store answers 500/503 in bursts by design (B2) and sometimes refuses a part with 400
 *   "request body was too small": those are retried per request with backoff, and the SDK's retry quota (which stops
 *   retrying after a burst of failures across the client) is off.</li>
 * </ul>
 * Every store gets equal-sized parts (R2 refuses anything else at completion: {@link PartPlan}) and no
 * x-amz-storage-class header (R2 refuses it; the bucket's default class applies).
 */
record StoreProfile(String id, String label, boolean checksums, boolean conditionalWrites, boolean batchDelete, boolean burstyErrors) {

    static final StoreProfile AWS = new StoreProfile("aws", "Amazon S3", true, true, true, false);
    static final StoreProfile R2 = new StoreProfile("r2", "Cloudflare R2", false, true, true, false);
    static final StoreProfile B2 = new StoreProfile("b2", "Backblaze B2", false, false, false, true);
    static final StoreProfile GCS = new StoreProfile("gcs", "Google Cloud Storage (XML API, HMAC keys)", false, false, false, false);
    static final StoreProfile MINIO = new StoreProfile("minio", "MinIO", true, true, true, false);
    static final StoreProfile CEPH = new StoreProfile("ceph", "Ceph RGW", false, true, true, false);
    static final StoreProfile WASABI = new StoreProfile("wasabi", "Wasabi", false, false, true, false);
    static final StoreProfile SPACES = new StoreProfile("spaces", "DigitalOcean Spaces", false, false, true, false);
    static final StoreProfile HETZNER = new StoreProfile("hetzner", "Hetzner Object Storage", false, false, true, false);
    /** An unknown store: the conservative checksums; conditional writes tried, with the plain write where it answers 501. */
    static final StoreProfile GENERIC = new StoreProfile("generic", "an S3-compatible store", false, true, true, false);

    static final StoreProfile[] ALL = {AWS, R2, B2, GCS, MINIO, CEPH, WASABI, SPACES, HETZNER, GENERIC};

    static final String NAMES = Arrays.stream(ALL).map(StoreProfile::id).collect(Collectors.joining(", "));

    /**
     * The profile for --s3-compat (case-insensitive), or when blank the one the endpoint's host names:
     * <pre>
     *   no endpoint, *.amazonaws.com        aws
     *   *.r2.cloudflarestorage.com          r2
     *   *.backblazeb2.com                   b2
     *   storage.googleapis.com              gcs
     *   *.wasabisys.com                     wasabi
     *   *.digitaloceanspaces.com            spaces
     *   *.your-objectstorage.com            hetzner
     *   anything else (MinIO, Ceph, ...)    generic
     * </pre>
     * MinIO and Ceph run on hosts of their owners' choosing: name them with --s3-compat.
     */
    static StoreProfile of(String compat, URI endpoint) {
        if (compat != null && !compat.isBlank()) {
            String id = compat.strip().toLowerCase(Locale.ROOT);
            for (StoreProfile p : ALL) if (p.id.equals(id)) return p;
            throw Failure.usage("unknown --s3-compat '" + compat.strip() + "': one of " + NAMES);
        }
        return detect(endpoint);
    }

    static StoreProfile detect(URI endpoint) {
        if (endpoint == null || endpoint.getHost() == null) return AWS;
        String host = endpoint.getHost().toLowerCase(Locale.ROOT);
        if (host.endsWith(".amazonaws.com") || host.endsWith(".amazonaws.com.cn")) return AWS;
        if (host.endsWith(".r2.cloudflarestorage.com")) return R2;
        if (host.endsWith(".backblazeb2.com")) return B2;
        if (host.equals("storage.googleapis.com")) return GCS;
        if (host.endsWith(".wasabisys.com")) return WASABI;
        if (host.endsWith(".digitaloceanspaces.com")) return SPACES;
        if (host.endsWith(".your-objectstorage.com")) return HETZNER;
        return GENERIC;
    }

    boolean isAws() { return this == AWS; }

    /**
     * The signing region when none is given: what the store documents for its S3 API. B2 and Hetzner sign with the
     * region in their host (s3.us-west-004.backblazeb2.com, fsn1.your-objectstorage.com), R2 and GCS with "auto";
     * elsewhere us-east-1, which emulators and most stores accept.
     */
    String defaultRegion(URI endpoint) {
        String host = endpoint == null || endpoint.getHost() == null ? "" : endpoint.getHost().toLowerCase(Locale.ROOT);
        return switch (id) {
            case "r2", "gcs" -> "auto";
            case "b2" -> host.matches("s3\\.[a-z0-9-]+\\.backblazeb2\\.com") ? host.split("\\.")[1] : "us-east-1";
            case "wasabi" -> host.matches("s3\\.[a-z0-9-]+\\.wasabisys\\.com") ? host.split("\\.")[1] : "us-east-1";
            case "hetzner" -> host.matches("[a-z0-9-]+\\.your-objectstorage\\.com") ? host.split("\\.")[0] : "us-east-1";
            default -> "us-east-1";
        };
    }

    /** A region name this store could sign with: AWS's form for AWS, any plain name elsewhere (auto, fsn1, nyc3, us-west-004). */
    boolean validRegion(String region) {
        return isAws() ? region.matches("[a-z]{2}(-[a-z]+)+-\\d+|aws-global") : region.matches("[a-z0-9][a-z0-9-]{0,62}");
    }

    /**
     * The client's checksum behaviour (see the class comment). Without flexible checksums, no aws-chunked bodies
     * either: over plain HTTP the SDK would otherwise sign uploads chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD),
     * which GCS does not accept; it signs the whole body instead (over HTTPS it sends UNSIGNED-PAYLOAD either way).
     */
    void configure(S3ClientBuilder builder) {
        if (checksums) return;
        builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .addPlugin(LegacyMd5Plugin.create())
                .serviceConfiguration(c -> c.chunkedEncodingEnabled(false));
    }

    /** The retry set: B2's bursts and its "request body was too small" retried, without the retry quota. */
    void configure(StandardRetryStrategy.Builder retries) {
        if (!burstyErrors) return;
        retries.retryOnException(StoreProfile::bodyTooSmall).circuitBreakerEnabled(false);
    }

    /**
     * B2's intermittent 400 "The request body was too small" on UploadPart (wal-g#1741), and IncompleteBody (the
     * body arrived shorter than its Content-Length): the request was fine, its bytes did not all arrive; our bodies
     * are buffers, so resending is safe. Not EntityTooSmall: a part below the store's minimum stays too small.
     */
    static boolean bodyTooSmall(Throwable t) {
        if (!(t instanceof AwsServiceException e) || e.statusCode() != 400) return false;
        String code = e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "" : e.awsErrorDetails().errorCode();
        String message = e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null ? "" : e.awsErrorDetails().errorMessage();
        return code.equals("IncompleteBody") || message.toLowerCase(Locale.ROOT).contains("request body was too small");
    }

    @Override public String toString() { return id; }
}
