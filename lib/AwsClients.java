import java.net.URI;
import java.time.Duration;
import picocli.CommandLine.Option;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Region and endpoint options, shared by every script. Credentials always come from the standard AWS chain
 * (environment, profile, web identity in GitHub Actions, instance role): no script takes keys as options.
 */
class AwsOptions {
    @Option(names = "--region", paramLabel = "REGION", defaultValue = "${env:AWS_REGION:-${env:AWS_DEFAULT_REGION}}",
            description = "AWS region (env AWS_REGION or AWS_DEFAULT_REGION; else the AWS profile's).")
    String region;

    @Option(names = "--endpoint-url", paramLabel = "URL", defaultValue = "${env:AWS_ENDPOINT_URL}",
            description = "S3/IAM/STS-compatible endpoint instead of AWS, e.g. http://127.0.0.1:5000 (env AWS_ENDPOINT_URL). Uses path-style addressing.")
    String endpointUrl;

    @Option(names = "--s3-compat", paramLabel = "STORE", defaultValue = "${env:S3_COMPAT}",
            description = "The store behind --endpoint-url: aws, r2, b2, gcs, minio, ceph, wasabi, spaces, hetzner or generic (env S3_COMPAT;"
                    + " default: from the endpoint's host, aws without an endpoint). Decides checksum headers, conditional writes, batch deletes"
                    + " and retries (docs/stores.md).")
    String s3Compat;

    /** The store's profile: from --s3-compat, else from the endpoint's host. */
    StoreProfile store() { return StoreProfile.of(s3Compat, endpoint()); }

    URI endpoint() {
        if (endpointUrl == null || endpointUrl.isBlank()) return null;
        try {
            URI uri = URI.create(endpointUrl.strip());
            if (uri.getScheme() == null || uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                throw new IllegalArgumentException();
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw Failure.usage("invalid --endpoint-url '" + endpointUrl + "': expected http(s)://HOST[:PORT]");
        }
    }

    Region regionOrNull() {
        if (region == null || region.isBlank()) return null;
        if (!store().validRegion(region.strip())) { // other stores name theirs otherwise: auto, fsn1, us-west-004
            throw Failure.usage("invalid AWS region '" + region + "' (expected e.g. eu-central-1)");
        }
        return Region.of(region.strip());
    }
}

/**
 * Builds the AWS clients. Why the synchronous Apache HTTP client everywhere: uploads are multipart with parts
 * we cut ourselves (see backup.java), so nothing needs the async client; the sync client retries each part
 * from its in-memory copy, and it does not trip over emulators that answer "Expect: 100-continue" twice.
 */
final class AwsClients {
    /*
     * Every S3 call is bounded (issue 15): a server or middlebox that stops reading a part's body blocks the socket
     * write, and SO_TIMEOUT bounds only reads; without a limit one attempt hung for ~40 minutes while pg_dump kept its
     * transaction open on the production server. The SDK aborts an attempt that outlives its attempt timeout (which
     * also unblocks a stalled write) and retries it, and gives up on the call, retries and back-off included, at the
     * call timeout. docs/stores.md#timeouts states these numbers: keep them in step.
     */
    static final int MAX_ATTEMPTS = 8;
    /** Metadata calls (create/abort/list/head, manifests, deletes, IAM, STS): each attempt, and the whole call. */
    static final Duration ATTEMPT = Duration.ofSeconds(60);
    static final Duration CALL = Duration.ofMinutes(3);
    /** UploadPart: each attempt gets PART_BASE plus the part's size at PART_MIN_RATE; the call PART_CALL_ATTEMPTS such attempts. */
    static final Duration PART_BASE = Duration.ofSeconds(60);
    static final long PART_MIN_RATE = 128L << 10; // bytes per second, per part in flight
    static final int PART_CALL_ATTEMPTS = 3;
    /** CompleteMultipartUpload: S3 may take minutes to assemble a large object (it keeps the connection alive meanwhile). */
    static final Duration COMPLETE_ATTEMPT = Duration.ofMinutes(5);
    static final Duration COMPLETE_CALL = Duration.ofMinutes(15);
    /** Silence on a connection: bounds each read of a download's body, which no call timeout covers (it may take hours). */
    static final Duration SOCKET_READ = Duration.ofSeconds(120);

    /**
     * Test knob, not a user feature: PGDUMP_S3_TEST_TIMEOUT_SCALE (a number between 0 and 1) shrinks the call and attempt
     * timeouts above (not SOCKET_READ), so that the tests of stalled calls take seconds instead of minutes. Unset or invalid: 1.
     */
    static final double SCALE = scale(System.getenv("PGDUMP_S3_TEST_TIMEOUT_SCALE"));

    static double scale(String value) {
        try {
            double d = value == null ? 1 : Double.parseDouble(value.strip());
            return d > 0 && d <= 1 ? d : 1;
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    static Duration scaled(Duration d) { return Duration.ofMillis(Math.max(100, (long) (d.toMillis() * SCALE))); }

    /** One attempt to send a part of {@code bytes}: e.g. 124 s for 8 MiB, 100 s for 5 MiB, 34 min for a 256 MiB part. */
    static Duration partAttempt(long bytes) { return PART_BASE.plusMillis(Math.max(0, bytes) * 1000 / PART_MIN_RATE); }

    /** The limits of one UploadPart call, sized to the part (a slow link may take minutes for a large part; a stall may not). */
    static AwsRequestOverrideConfiguration partTimeouts(long bytes) {
        Duration attempt = partAttempt(bytes);
        return AwsRequestOverrideConfiguration.builder()
                .apiCallAttemptTimeout(scaled(attempt))
                .apiCallTimeout(scaled(attempt.multipliedBy(PART_CALL_ATTEMPTS)))
                .build();
    }

    static AwsRequestOverrideConfiguration completeTimeouts() {
        return AwsRequestOverrideConfiguration.builder().apiCallAttemptTimeout(scaled(COMPLETE_ATTEMPT)).apiCallTimeout(scaled(COMPLETE_CALL)).build();
    }

    static S3Client s3(AwsOptions options) { return s3(options, new ExecutionInterceptor[0]); }

    /** With interceptors, e.g. setup-aws's dry-run guard that refuses every mutating call. */
    static S3Client s3(AwsOptions options, ExecutionInterceptor... interceptors) {
        StoreProfile store = options.store();
        var builder = S3Client.builder()
                .httpClientBuilder(http())
                .overrideConfiguration(retries(store, interceptors));
        Region region = options.regionOrNull();
        URI endpoint = options.endpoint();
        if (region != null) builder.region(region);
        else if (endpoint != null) builder.region(Region.of(store.defaultRegion(endpoint))); // emulators accept any region
        if (endpoint != null) builder.endpointOverride(endpoint).forcePathStyle(true);
        store.configure(builder);
        return builder.build();
    }

    static IamClient iam(AwsOptions options) { return iam(options, new ExecutionInterceptor[0]); }

    static IamClient iam(AwsOptions options, ExecutionInterceptor... interceptors) {
        var builder = IamClient.builder().httpClientBuilder(http()).overrideConfiguration(retries(interceptors)).region(Region.AWS_GLOBAL);
        URI endpoint = options.endpoint();
        if (endpoint != null) builder.endpointOverride(endpoint).region(Region.US_EAST_1);
        return builder.build();
    }

    static StsClient sts(AwsOptions options) { return sts(options, new ExecutionInterceptor[0]); }

    static StsClient sts(AwsOptions options, ExecutionInterceptor... interceptors) {
        var builder = StsClient.builder().httpClientBuilder(http()).overrideConfiguration(retries(interceptors));
        Region region = options.regionOrNull();
        URI endpoint = options.endpoint();
        if (region != null) builder.region(region);
        else if (endpoint != null) builder.region(Region.US_EAST_1);
        if (endpoint != null) builder.endpointOverride(endpoint);
        return builder.build();
    }

    private static ApacheHttpClient.Builder http() {
        return ApacheHttpClient.builder()
                .maxConnections(16)
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(SOCKET_READ);
    }

    /**
     * More attempts than the SDK default (3): a nightly job should ride out a minute of S3 throttling. Every call
     * is bounded, by default with the metadata call's limits (see {@link #ATTEMPT}).
     */
    private static ClientOverrideConfiguration retries(ExecutionInterceptor... interceptors) { return retries(StoreProfile.AWS, interceptors); }

    /** The store's own retry set on top (B2: see {@link StoreProfile#configure(StandardRetryStrategy.Builder)}). */
    private static ClientOverrideConfiguration retries(StoreProfile store, ExecutionInterceptor... interceptors) {
        StandardRetryStrategy.Builder strategy = AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(MAX_ATTEMPTS);
        store.configure(strategy);
        var builder = ClientOverrideConfiguration.builder()
                .retryStrategy(strategy.build())
                .apiCallAttemptTimeout(scaled(ATTEMPT))
                .apiCallTimeout(scaled(CALL));
        for (ExecutionInterceptor i : interceptors) builder.addExecutionInterceptor(i);
        return builder.build();
    }

    private AwsClients() {}
}
