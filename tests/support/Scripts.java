import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** Runs the scripts the way tests need: in-process through picocli (fast), or as a child JVM (env, signals, /proc). */
final class Scripts {
    record Run(int exit, String out, String err) {
        @Override
        public String toString() { return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err; }
    }

    /** In-process, with the same Cli setup as main(), capturing the @Spec writers. */
    static Run run(Object command, String... args) {
        CommandLine cl = Cli.commandLine(command);
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        Output.record(out.toString(), err.toString());
        return new Run(exit, out.toString(), err.toString());
    }

    /** Starts a script's main class in a child JVM with the test classpath and extra environment. */
    static Process start(String mainClass, Map<String, String> env, List<String> args) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs a script's main class in a child JVM to completion. */
    static Run runProcess(String mainClass, Map<String, String> env, String... args) throws Exception {
        Process p = start(mainClass, env, List.of(args));
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        Thread t1 = new Thread(() -> { try { p.getInputStream().transferTo(out); } catch (java.io.IOException ignored) { } });
        Thread t2 = new Thread(() -> { try { p.getErrorStream().transferTo(err); } catch (java.io.IOException ignored) { } });
        t1.start();
        t2.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) p.destroyForcibly();
        t1.join();
        t2.join();
        Output.record(out.toString(), err.toString());
        Output.recordStepSummary(env.get("GITHUB_STEP_SUMMARY"));
        return new Run(p.exitValue(), out.toString(), err.toString());
    }

    /** The repository root (tests run from it: `jbang tests/run.java`). */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) if (q.resolve("jbang-catalog.json").toFile().exists()) return q;
        throw new IllegalStateException("run the tests from the repository (no jbang-catalog.json above " + p + ")");
    }

    private Scripts() {}
}

/**
 * Everything any script printed during the suite, so security tests can scan it for secrets: in-process and
 * child runs ({@link Scripts}), other children the tests start (they call {@link #record}), GitHub step
 * summaries the scripts wrote ({@link #recordStepSummary}), and whatever reached the test JVM's own stdout and
 * stderr ({@link #teeStandardStreams}, installed by the test runner).
 */
final class Output {
    private static final StringBuffer ALL = new StringBuffer();
    private static final StringBuffer SUMMARIES = new StringBuffer();
    private static final java.io.ByteArrayOutputStream STANDARD = new java.io.ByteArrayOutputStream();

    static void record(String out, String err) {
        ALL.append(out).append('\n').append(err).append('\n');
    }

    /** The content of a GITHUB_STEP_SUMMARY file a script wrote (null or missing: nothing). */
    static void recordStepSummary(String file) {
        if (file == null || file.isBlank()) return;
        try {
            Path p = Path.of(file);
            if (java.nio.file.Files.exists(p)) SUMMARIES.append(java.nio.file.Files.readString(p)).append('\n');
        } catch (java.io.IOException e) {
            SUMMARIES.append("(unreadable step summary ").append(file).append(": ").append(e.getMessage()).append(")\n");
        }
    }

    static String all() { return ALL.toString(); }

    static String stepSummaries() { return SUMMARIES.toString(); }

    /** What the test JVM printed on its stdout and stderr since {@link #teeStandardStreams}. */
    static String standardStreams() {
        synchronized (STANDARD) {
            return STANDARD.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** From now on, a copy of System.out and System.err is kept (product code that bypasses the @Spec writers shows up here). */
    static void teeStandardStreams() {
        System.setOut(tee(System.out));
        System.setErr(tee(System.err));
    }

    private static java.io.PrintStream tee(java.io.PrintStream original) {
        java.io.OutputStream both = new java.io.OutputStream() {
            @Override public void write(int b) {
                original.write(b);
                synchronized (STANDARD) { STANDARD.write(b); }
            }
            @Override public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                synchronized (STANDARD) { STANDARD.write(b, off, len); }
            }
            @Override public void flush() { original.flush(); }
        };
        return new java.io.PrintStream(both, true, java.nio.charset.StandardCharsets.UTF_8);
    }

    private Output() {}
}
