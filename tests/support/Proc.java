import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Running helper commands in tests (initdb, moto_server, jbang, bash, npm, age...). Unlike {@link PgTools#run}, whose
 * children get only what a PostgreSQL client needs from our environment, these inherit all of it (plus {@code env}):
 * the test's tools need JAVA_HOME, JBANG_*, the AWS settings of a sandbox and so on.
 */
final class Proc {
    static String run(List<String> cmd, Map<String, String> env, long timeoutSeconds) {
        PgTools.Result r = exec(cmd, env, null, timeoutSeconds);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + r.exitCode() + ":\n" + r.stdout() + r.stderr());
        }
        return r.stdout();
    }

    /** Runs {@code cmd} to completion with our whole environment plus {@code env}, optional stdin, and a timeout (then killed, exit -1). */
    static PgTools.Result exec(List<String> cmd, Map<String, String> env, InputStream stdin, long timeoutSeconds) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            Process p = pb.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            Thread o = new Thread(() -> { try { p.getInputStream().transferTo(out); } catch (IOException ignored) { } });
            Thread e = new Thread(() -> { try { p.getErrorStream().transferTo(err); } catch (IOException ignored) { } });
            o.start();
            e.start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) stdin.transferTo(in);
            } catch (IOException ignored) {
                // the command did not read its input
            }
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly().waitFor();
            o.join();
            e.join();
            return new PgTools.Result(done ? p.exitValue() : -1, out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8) + (done ? "" : "\n(killed after " + timeoutSeconds + " s)"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
        }
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private Proc() {}
}
