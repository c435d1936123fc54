import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * A moto_server of a test's own, for what must not leak into the shared {@link S3Server}: IAM enforcement
 * (moto's switch is global to its process: on, every request must be signed by a known IAM user or assumed
 * role and be allowed by its policies). Start it in a try-with-resources; close() stops the process.
 *
 * What moto's enforcement can and cannot check (design.md section 5) is listed in {@link #GAPS}.
 */
final class PrivateMoto implements AutoCloseable {
    /** AWS behaviour this emulator cannot check; tests that rely on enforcement say which of these apply. */
    static final String GAPS = "moto ignores policy conditions (s3:prefix on ListBucket, kms:ViaService, the trust policy's aud/sub:"
            + " AssumeRoleWithWebIdentity accepts any token for any role), rejects a signed listing whose prefix contains an encoded '/',"
            + " authorizes DeleteObjects against the bucket ARN instead of each key, and evaluates bucket policies without their conditions";

    final String endpoint;
    private final Process process;
    private final Path log;

    private PrivateMoto(String endpoint, Process process, Path log) {
        this.endpoint = endpoint;
        this.process = process;
        this.log = log;
    }

    static boolean available() { return PgTools.which("moto_server", System.getenv("PATH")) != null; }

    static PrivateMoto start() { return start(Map.of()); }

    /** With moto's own settings in its environment, e.g. S3_UPLOAD_PART_MIN_SIZE (S3's 5 MiB minimum part, lowered for a test). */
    static PrivateMoto start(Map<String, String> settings) {
        Path moto = PgTools.which("moto_server", System.getenv("PATH"));
        if (moto == null) throw new IllegalStateException("moto_server is not on PATH (pip install 'moto[server]')");
        try {
            int port = PgServer.freePort();
            Path log = Files.createTempFile("moto-private-", ".log");
            ProcessBuilder pb = new ProcessBuilder(moto.toString(), "-H", "127.0.0.1", "-p", String.valueOf(port))
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(settings);
            Process p = pb.start();
            PrivateMoto m = new PrivateMoto("http://127.0.0.1:" + port, p, log);
            Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                if (!p.isAlive()) throw new IllegalStateException("moto_server exited: " + Files.readString(log));
                try {
                    HttpURLConnection c = (HttpURLConnection) URI.create(m.endpoint + "/moto-api/").toURL().openConnection();
                    c.setConnectTimeout(500);
                    if (c.getResponseCode() > 0) return m;
                } catch (IOException notYet) {
                    Thread.sleep(200);
                }
            }
            m.close();
            throw new IllegalStateException("moto_server did not answer within 60 s");
        } catch (IOException e) {
            throw new IllegalStateException("cannot start moto_server: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** From now on every request is authenticated and authorized against IAM policies. */
    void enforceIam() { resetAuth("0"); }

    /** Back to moto's default: anything goes. */
    void relaxIam() { resetAuth("inf"); }

    private void resetAuth(String value) {
        try {
            // The body is the number itself (moto reads request.data; a form content type would hide it).
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint + "/moto-api/reset-auth"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException("moto reset-auth " + value + ": HTTP " + r.statusCode() + " " + r.body());
        } catch (IOException e) {
            throw new IllegalStateException("moto reset-auth: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** Options for in-process script runs (credentials: the suite's system properties, which moto accepts unenforced). */
    AwsOptions options() {
        AwsOptions o = new AwsOptions();
        o.endpointUrl = endpoint;
        o.region = S3Server.REGION;
        return o;
    }

    /** Environment for a child process that acts with these credentials. */
    Map<String, String> env(AwsCredentials credentials) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AWS_ENDPOINT_URL", endpoint);
        env.put("AWS_REGION", S3Server.REGION);
        env.put("AWS_ACCESS_KEY_ID", credentials.accessKeyId());
        env.put("AWS_SECRET_ACCESS_KEY", Secrets.register(credentials.secretAccessKey()));
        if (credentials instanceof AwsSessionCredentials session) env.put("AWS_SESSION_TOKEN", Secrets.register(session.sessionToken()));
        return env;
    }

    /** Credentials for a role, as GitHub's OIDC token would give them (moto accepts any token string: see GAPS). */
    AwsSessionCredentials assumeRoleWithWebIdentity(String roleArn) {
        try (StsClient sts = StsClient.builder().endpointOverride(URI.create(endpoint)).region(Region.of(S3Server.REGION))
                .credentialsProvider(AnonymousCredentialsProvider.create()).httpClientBuilder(ApacheHttpClient.builder()).build()) {
            var c = sts.assumeRoleWithWebIdentity(r -> r.roleArn(roleArn).roleSessionName("github-actions").webIdentityToken("header.payload.signature"))
                    .credentials();
            return AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
        }
    }

    S3Client s3(AwsCredentials credentials) {
        return S3Client.builder().endpointOverride(URI.create(endpoint)).forcePathStyle(true).region(Region.of(S3Server.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(credentials)).httpClientBuilder(ApacheHttpClient.builder()).build();
    }

    /** IAM with the suite's default credentials (for arranging users and policies before enforcement is on). */
    IamClient iam() {
        return IamClient.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY)))
                .httpClientBuilder(ApacheHttpClient.builder()).build();
    }

    S3Client s3() { return s3(AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY)); }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
            Files.deleteIfExists(log);
        } catch (Exception ignored) {
            // best effort: the shutdown hook tries again
        }
    }
}
