///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// Sources are UTF-8 whatever the locale (cron, systemd, containers with LANG unset or C would read them as ASCII).
//COMPILE_OPTIONS -encoding UTF-8
//MAIN TestRunner
//DEPS org.junit:junit-bom:5.14.1@pom
//DEPS org.junit.jupiter:junit-jupiter
//DEPS org.junit.platform:junit-platform-launcher
//DEPS org.testcontainers:testcontainers:1.21.4
//DEPS org.testcontainers:postgresql:1.21.4
//DEPS org.testcontainers:localstack:1.21.4
//DEPS org.yaml:snakeyaml:2.5
//SOURCES ../backup.java
//SOURCES ../prune.java
//SOURCES ../restore.java
//SOURCES ../setup-aws.java
//SOURCES ../lib/*.java
//SOURCES support/*.java
//SOURCES *Test.java

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The test suite's entry point: `jbang tests/run.java [ClassNamePattern...]`.
 * Runs every *Test class with the JUnit Platform, prints a tree as it goes, and ends with
 * "N passed, N failed[, N skipped]". Exits non-zero on any failure, or when no test ran.
 */
class TestRunner {
    public static void main(String[] args) throws Exception {
        Path jar = Path.of(TestRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> patterns = new ArrayList<>();
        for (String a : args) patterns.add(a.contains(".") || a.contains("*") ? a : ".*" + a + ".*");
        if (patterns.isEmpty()) patterns.add(".*Test");
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClasspathRoots(Set.of(jar)))
                .filters(includeClassNamePatterns(patterns.toArray(String[]::new)))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "false")
                // Classes run in discovery order, except those with @Order: SecretScanTest runs last and scans all output.
                .configurationParameter("junit.jupiter.testclass.order.default", "org.junit.jupiter.api.ClassOrderer$OrderAnnotation")
                // One class at a time, one test at a time; test methods marked @Execution(CONCURRENT) (the fault tests,
                // which mostly wait for retry back-offs) run together, still inside their class's turn.
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "same_thread")
                .configurationParameter("junit.jupiter.execution.parallel.mode.classes.default", "same_thread")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "4")
                .build();
        Output.teeStandardStreams();
        Tree tree = new Tree(System.out);
        Launcher launcher = LauncherFactory.create();
        long start = System.nanoTime();
        launcher.execute(request, tree);
        tree.printFailures();
        System.out.printf("%nSuite took %.0f s.%n", (System.nanoTime() - start) / 1e9);
        for (Runnable r : TestRunner.AT_END) r.run();
        String line = tree.passed + " passed, " + tree.failed + " failed" + (tree.skipped.get() > 0 ? ", " + tree.skipped + " skipped" : "");
        System.out.println(line);
        System.out.flush();
        boolean ok = tree.failed.get() == 0 && tree.passed.get() > 0;
        if (tree.passed.get() == 0 && tree.failed.get() == 0) System.err.println("No test ran.");
        System.exit(ok ? 0 : 1); // fixtures (PostgreSQL, moto) stop in their shutdown hooks
    }

    /** Things to print just before the final line (e.g. the fault suite's summary). */
    static final List<Runnable> AT_END = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Prints each class and test as it finishes; counts tests (and failed containers, e.g. a fixture that cannot start). */
    static final class Tree implements TestExecutionListener {
        final AtomicInteger passed = new AtomicInteger(), failed = new AtomicInteger(), skipped = new AtomicInteger();
        private final PrintStream out;
        private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        private final ConcurrentHashMap<String, Long> started = new ConcurrentHashMap<>();
        private TestPlan plan;

        Tree(PrintStream out) { this.out = out; }

        @Override public void testPlanExecutionStarted(TestPlan testPlan) { this.plan = testPlan; }

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
            if (id.isContainer() && depth(id) == 2) out.println(id.getDisplayName());
            else if (id.isContainer() && depth(id) > 2) out.println(indent(id) + id.getDisplayName());
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                skipped.incrementAndGet();
                out.println(indent(id) + "[skip] " + id.getDisplayName() + " (" + reason + ")");
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            double secs = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1e9;
            boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
            if (id.isTest()) {
                if (ok) passed.incrementAndGet(); else failed.incrementAndGet();
                out.printf("%s%s %s (%.1f s)%n", indent(id), ok ? "[ok]  " : "[FAIL]", id.getDisplayName(), secs);
            } else if (ok && depth(id) == 2) {
                // A class's whole time, fixtures and concurrent tests included: what the suite's length is made of.
                out.printf("  (%s took %.1f s)%n", id.getDisplayName(), secs);
            } else if (!ok) {
                failed.incrementAndGet();
                out.println(indent(id) + "[FAIL] " + id.getDisplayName() + " (the whole container failed)");
            }
            if (!ok) {
                Throwable t = result.getThrowable().orElse(null);
                StringBuilder sb = new StringBuilder(id.getDisplayName()).append(" [").append(id.getUniqueId()).append("]\n");
                if (t != null) {
                    var sw = new java.io.StringWriter();
                    t.printStackTrace(new java.io.PrintWriter(sw));
                    // The message and our own frames; JUnit's and the JDK's frames are noise here.
                    for (String line : sw.toString().split("\n")) {
                        String l = line.strip();
                        if (l.startsWith("at java.") || l.startsWith("at org.junit.") || l.startsWith("at jdk.") || l.startsWith("at sun.")) continue;
                        sb.append("    ").append(line).append('\n');
                    }
                }
                failures.add(sb.toString());
            }
        }

        @Override
        public void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {
            entry.getKeyValuePairs().forEach((k, v) -> out.println(indent(id) + "  " + k + ": " + v));
        }

        void printFailures() {
            if (failures.isEmpty()) return;
            out.println("\nFailures:");
            for (String f : failures) out.println("- " + f);
        }

        private int depth(TestIdentifier id) {
            int d = 0;
            for (var p = java.util.Optional.of(id); p.isPresent(); p = p.get().getParentId().map(plan::getTestIdentifier)) d++;
            return d;
        }

        private String indent(TestIdentifier id) { return "  ".repeat(Math.max(0, depth(id) - 2)); }
    }
}
