import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's first command works as written: the sandbox runs setup-aws → backup → prune → restore through JBang. */
class SandboxTest {
    @Test
    void theSandboxRunsTheWholeJobEndToEnd() {
        PgTools.Result r = Proc.exec(List.of("bash", Scripts.repoRoot().resolve("tests/sandbox.sh").toString()), Map.of(), null, 600);
        String output = r.stdout() + r.stderr();
        Output.record(r.stdout(), r.stderr());
        assertEquals(0, r.exitCode(), output);
        for (String step : List.of("$ jbang setup-aws.java", "$ jbang backup.java", "$ jbang prune.java --keep-days 7",
                "$ jbang restore.java list", "$ jbang restore.java verify", "$ jbang restore.java drill", "drill: PASSED")) {
            assertTrue(output.contains(step), step + " in:\n" + output);
        }
        assertTrue(output.contains("restored: 20000 orders"), output);
        assertTrue(output.contains("Sandbox done"), output);
    }
}
