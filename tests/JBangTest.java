import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
}
