import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3/IAM/STS emulator the tests use, started once per suite (design.md section 5): AWS_ENDPOINT_URL if
 * set; else Testcontainers LocalStack when Docker is available; else `moto_server` on a free loopback port,
 * stopped when the suite's JVM exits; else s3proxy ({@link S3Proxy}, S3 only: the IAM tests then fail saying
 * they need moto). {@link #s3proxy()} is a second, independent S3 server for the tests that run on both.
 *
 * In-process script runs get credentials through the SDK's system properties; child processes get
 * {@link #env()}.
 */
final class S3Server {
    static final String ACCESS_KEY = "testing";
    static final String SECRET_KEY = Secrets.register("testing-secret");
    static final String REGION = "us-east-1";
    private static S3Server instance;
    private static S3Server proxy;

    final String endpoint;
    final String kind; // "external", "localstack", "moto"

    private S3Server(String endpoint, String kind) {
        this.endpoint = endpoint;
        this.kind = kind;
    }

    static synchronized S3Server get() {
        if (instance == null) {
            instance = start();
            System.setProperty("aws.accessKeyId", ACCESS_KEY);
            System.setProperty("aws.secretAccessKey", SECRET_KEY);
            System.setProperty("aws.region", REGION);
        }
        return instance;
    }

    boolean isMoto() { return kind.equals("moto"); }

    /** Whether this server also speaks IAM and STS (setup-aws's tests need them). */
    boolean hasIam() { return !kind.equals("s3proxy"); }

    /** s3proxy, a second S3 implementation (filesystem backend), started once; the suite's server when it is one. */
    static synchronized S3Server s3proxy() {
        S3Server main = get();
        if (main.kind.equals("s3proxy")) return main;
        if (proxy == null) proxy = new S3Server(S3Proxy.start(), "s3proxy");
        return proxy;
    }

    /** Fails a test that needs IAM/STS with what to install, when the suite runs on an S3-only server. */
    S3Server requireIam() {
        if (!hasIam()) {
            throw new IllegalStateException("this test needs IAM and STS, which " + kind + " does not serve: install moto with its server"
                    + " (pip install 'moto[server]') or set AWS_ENDPOINT_URL to an S3/IAM/STS endpoint");
        }
        return this;
    }

    /** Environment for a child process (a script run as a user would) to reach the emulator. */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AWS_ENDPOINT_URL", endpoint);
        env.put("AWS_ACCESS_KEY_ID", ACCESS_KEY);
        env.put("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        env.put("AWS_REGION", REGION);
        return env;
    }

    AwsOptions options() {
        AwsOptions o = new AwsOptions();
        o.endpointUrl = endpoint;
        o.region = REGION;
        return o;
    }

    S3Client s3() { return AwsClients.s3(options()); }

    /** A new empty bucket with a unique name. */
    String createBucket(String prefix) {
        String name = (prefix + "-" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase();
        try (S3Client s3 = s3()) {
            s3.createBucket(b -> b.bucket(name));
        }
        return name;
    }

    /** Every key in the bucket, sorted. */
    List<String> keys(String bucket) {
        List<String> keys = new ArrayList<>();
        try (S3Client s3 = s3()) {
            for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).build()).contents()) keys.add(o.key());
        }
        keys.sort(null);
        return keys;
    }

    private static S3Server start() {
        String external = System.getenv("AWS_ENDPOINT_URL");
        if (external != null && !external.isBlank()) return new S3Server(external, "external");
        if (Docker.available()) return new S3Server(Docker.startLocalStack(), "localstack");
        Path moto = PgTools.which("moto_server", System.getenv("PATH"));
        if (moto == null) {
            System.err.println("S3Server: no moto_server on PATH: using s3proxy (S3 only; the IAM tests need moto: pip install 'moto[server]')");
            return new S3Server(S3Proxy.start(), "s3proxy");
        }
        return startMoto(moto);
    }

    private static S3Server startMoto(Path moto) {
        try {
            int port = PgServer.freePort();
            Path log = Files.createTempFile("moto-", ".log");
            ProcessBuilder pb = new ProcessBuilder(moto.toString(), "-H", "127.0.0.1", "-p", String.valueOf(port))
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            Process process = pb.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                process.destroy();
                try { Files.deleteIfExists(log); } catch (IOException ignored) { /* temp file */ }
            }));
            String endpoint = "http://127.0.0.1:" + port;
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                if (!process.isAlive()) throw new IllegalStateException("moto_server exited: " + Files.readString(log));
                try {
                    HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + "/moto-api/").toURL().openConnection();
                    c.setConnectTimeout(500);
                    if (c.getResponseCode() > 0) return new S3Server(endpoint, "moto");
                } catch (IOException notYet) {
                    Thread.sleep(200);
                }
            }
            throw new IllegalStateException("moto_server did not answer on " + endpoint + " within 60 s");
        } catch (IOException e) {
            throw new IllegalStateException("cannot start moto_server: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting moto_server");
        }
    }
}
