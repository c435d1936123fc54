import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The scripts run through JBang as users run them: from the file, and by catalog alias. */
class JBangTest {
    static PgTools.Result jbang(String... args) {
        Path root = Scripts.repoRoot();
        Path jbang = PgTools.which("jbang", System.getenv("PATH"));
        if (jbang == null) jbang = root.resolve("tools/jbang");
        List<String> cmd = new ArrayList<>(List.of(jbang.toString()));
        cmd.addAll(List.of(args));
        PgTools.Result r = Proc.exec(cmd, Map.of(), null, 600);
        Output.record(r.stdout(), r.stderr());
        return r;
    }

    @ParameterizedTest(name = "jbang {0}.java --help")
    @ValueSource(strings = {"backup", "prune", "restore", "setup-aws"})
    void scriptHelp(String script) {
        PgTools.Result r = jbang(Scripts.repoRoot().resolve(script + ".java").toString(), "--help");
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stdout().startsWith("Usage: " + script), r.stdout());
    }

    @ParameterizedTest(name = "jbang {0}@checkout --version resolves the catalog alias")
    @ValueSource(strings = {"backup", "prune", "restore", "setup-aws"})
    void catalogAlias(String alias) {
        PgTools.Result r = jbang(alias + "@" + Scripts.repoRoot(), "--version");
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        assertTrue(r.stdout().startsWith(Version.TOOL + " " + Version.VERSION), r.stdout());
    }

    /**
     * Built where the locale is not UTF-8 (cron, systemd units, minimal containers: LANG unset or C), javac would read
     * the sources as ASCII and stop at their first non-ASCII character; //COMPILE_OPTIONS -encoding UTF-8 says what
     * they are. A fresh build in a JBang cache of its own, so the jar the other tests use is not the one proven.
     */
    @ParameterizedTest(name = "jbang {0}.java builds with LANG=C and LC_ALL empty")
    @ValueSource(strings = {"backup", "prune", "restore", "setup-aws"})
    void scriptBuildsWithoutAUtf8Locale(String script) throws Exception {
        Path cache = Files.createTempDirectory("jbang-cache-c-locale");
        try {
            Path root = Scripts.repoRoot();
            Path jbang = PgTools.which("jbang", System.getenv("PATH"));
            if (jbang == null) jbang = root.resolve("tools/jbang");
            Map<String, String> env = new HashMap<>();
            System.getenv().keySet().stream().filter(k -> k.startsWith("LC_")).forEach(k -> env.put(k, ""));
            env.put("LANG", "C");
            env.put("LC_ALL", "");
            env.put("JAVA_TOOL_OPTIONS", ""); // no -Dfile.encoding from the outside either
            env.put("JBANG_CACHE_DIR", cache.toString());
            PgTools.Result r = Proc.exec(List.of(jbang.toString(), root.resolve(script + ".java").toString(), "--version"), env, null, 600);
            Output.record(r.stdout(), r.stderr());
            assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
            assertTrue(r.stdout().startsWith(Version.TOOL + " " + Version.VERSION), r.stdout() + r.stderr());
        } finally {
            try (var all = Files.walk(cache)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The test runner builds the scripts, lib/ and the tests (several with non-ASCII text) the same way. */
    @Test
    void everyEntryPointDeclaresItsSourceEncoding() throws Exception {
        for (String file : List.of("backup.java", "prune.java", "restore.java", "setup-aws.java", "tests/run.java")) {
            assertTrue(Files.readAllLines(Scripts.repoRoot().resolve(file)).contains("//COMPILE_OPTIONS -encoding UTF-8"), file);
        }
    }
}
