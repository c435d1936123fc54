import java.net.URI;
import java.time.Duration;
import picocli.CommandLine.Option;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
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
        if (!region.strip().matches("[a-z]{2}(-[a-z]+)+-\\d+|aws-global")) {
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
    static S3Client s3(AwsOptions options) { return s3(options, new ExecutionInterceptor[0]); }

    /** With interceptors, e.g. setup-aws's dry-run guard that refuses every mutating call. */
    static S3Client s3(AwsOptions options, ExecutionInterceptor... interceptors) {
        var builder = S3Client.builder()
                .httpClientBuilder(http())
                .overrideConfiguration(retries(interceptors));
        Region region = options.regionOrNull();
        URI endpoint = options.endpoint();
        if (region != null) builder.region(region);
        else if (endpoint != null) builder.region(Region.US_EAST_1); // emulators accept any region
        if (endpoint != null) builder.endpointOverride(endpoint).forcePathStyle(true);
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
                .socketTimeout(Duration.ofSeconds(120));
    }

    /** More attempts than the SDK default (3): a nightly job should ride out a minute of S3 throttling. */
    private static ClientOverrideConfiguration retries(ExecutionInterceptor... interceptors) {
        var builder = ClientOverrideConfiguration.builder()
                .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(8).build());
        for (ExecutionInterceptor i : interceptors) builder.addExecutionInterceptor(i);
        return builder.build();
    }

    private AwsClients() {}
}
