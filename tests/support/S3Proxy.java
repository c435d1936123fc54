import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A second, independent S3 implementation for the tests: s3proxy (org.gaul:s3proxy, a Java S3 server on Jetty)
 * with its filesystem backend, started through JBang from Maven Central like any other dependency, so it needs
 * nothing but Java and JBang. It serves S3 only (no IAM/STS). Plain HTTP on a free loopback port, objects in a
 * temp directory; stopped and deleted when the JVM exits. tests/sandbox.sh starts it the same way.
 */
final class S3Proxy {
    static final String VERSION = "4.1.0";
    static final String COORDINATES = "org.gaul:s3proxy:" + VERSION + ":jar-with-dependencies";

    /** Starts one; returns its endpoint (http://127.0.0.1:PORT). Credentials are S3Server's. */
    static String start() {
        try {
            Path dir = Files.createTempDirectory("s3proxy-");
            Path data = Files.createDirectories(dir.resolve("data"));
            int port = PgServer.freePort();
            String endpoint = "http://127.0.0.1:" + port;
            Path conf = dir.resolve("s3proxy.conf");
            Files.writeString(conf, String.join("\n",
                    "s3proxy.endpoint=" + endpoint,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + S3Server.ACCESS_KEY,
                    "s3proxy.credential=" + S3Server.SECRET_KEY,
                    "jclouds.provider=filesystem",
                    "jclouds.filesystem.basedir=" + data) + "\n");
            Path log = dir.resolve("s3proxy.log");
            List<String> cmd = new ArrayList<>(List.of(jbang(), "--main", "org.gaul.s3proxy.Main", COORDINATES, "--properties", conf.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            Process process = pb.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                process.descendants().forEach(ProcessHandle::destroy);
                process.destroy();
                try {
                    process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // exiting anyway
                }
                deleteTree(dir);
            }));
            long deadline = System.currentTimeMillis() + 180_000; // the first run downloads ~55 MB from Maven Central
            while (System.currentTimeMillis() < deadline) {
                if (!process.isAlive()) throw new IllegalStateException("s3proxy exited: " + Files.readString(log));
                try {
                    HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + "/").toURL().openConnection();
                    c.setConnectTimeout(500);
                    if (c.getResponseCode() > 0) return endpoint;
                } catch (IOException notYet) {
                    Thread.sleep(300);
                }
            }
            throw new IllegalStateException("s3proxy did not answer on " + endpoint + " within 180 s: " + Files.readString(log));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start s3proxy: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting s3proxy");
        }
    }

    /** The jbang on PATH, else the repository's stand-in tools/jbang. */
    private static String jbang() {
        Path onPath = PgTools.which("jbang", System.getenv("PATH"));
        return onPath != null ? onPath.toString() : Scripts.repoRoot().resolve("tools/jbang").toString();
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp dir
        }
    }

    private S3Proxy() {}
}
