import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A script's main class started in a child JVM and left running, for the tests that stall, signal or kill it
 * mid-way ({@link Scripts#runProcess} runs one to its end): stdout discarded, stderr collected (and recorded for the
 * secret scan by {@link #end}).
 */
record ChildScript(Process process, ByteArrayOutputStream err, Thread reader) {
    static ChildScript start(String mainClass, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread t = new Thread(() -> { try { p.getErrorStream().transferTo(err); } catch (IOException ignored) { } });
        t.setDaemon(true);
        t.start();
        return new ChildScript(p, err, t);
    }

    String stderr() { return err.toString(StandardCharsets.UTF_8); }

    /** The child's descendant processes running {@code program} (e.g. "pg_restore"). */
    List<ProcessHandle> descendants(String program) {
        return process.toHandle().descendants().filter(h -> h.info().command().orElse("").endsWith("/" + program)).toList();
    }

    /** SIGTERM (Process.destroy would also close our end of its stderr). */
    void sigterm() { process.toHandle().destroy(); }

    /** Waits for the child to end (after a signal, or of itself), records and returns its stderr. */
    String end() throws Exception {
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the child did not end\n" + stderr());
        reader.join(10_000);
        Output.record("", stderr());
        return stderr();
    }

    /** Kills the child if it still runs (for finally blocks). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }
}
