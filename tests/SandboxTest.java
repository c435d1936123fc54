import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The README's first command works as written: the sandbox runs setup-aws → backup → prune → restore through JBang. */
class SandboxTest {
    @Test
    void theSandboxRunsTheWholeJobEndToEnd() {
        org.junit.jupiter.api.Assumptions.assumeTrue(PgTools.which("moto_server", System.getenv("PATH")) != null,
                "moto_server is not installed: the sandbox's s3proxy path is tested below");
        String output = sandbox(Map.of());
        assertTrue(output.contains("$ jbang setup-aws.java"), output);
        assertFalse(output.contains("not run here"), output);
    }

    /** A machine with Java, JBang and PostgreSQL only: no moto_server on PATH, so the sandbox starts s3proxy itself. */
    @Test
    void withoutMotoTheSandboxStartsS3proxy() {
        String path = Arrays.stream(System.getenv("PATH").split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty() && !Files.isExecutable(Path.of(dir, "moto_server")))
                .collect(Collectors.joining(File.pathSeparator));
        String output = sandbox(Map.of("PATH", path));
        assertTrue(output.contains("local S3 server (s3proxy)"), output);
        assertTrue(output.contains("not run here: s3proxy serves S3 but not IAM/STS"), output);
    }

    private static String sandbox(Map<String, String> env) {
        PgTools.Result r = Proc.exec(List.of("bash", Scripts.repoRoot().resolve("tests/sandbox.sh").toString()), env, null, 900);
        String output = r.stdout() + r.stderr();
        Output.record(r.stdout(), r.stderr());
        assertEquals(0, r.exitCode(), output);
        for (String step : List.of("$ jbang backup.java", "$ jbang prune.java --keep-days 7", "$ jbang restore.java list",
                "$ jbang restore.java verify", "$ jbang restore.java drill", "drill: PASSED")) {
            assertTrue(output.contains(step), step + " in:\n" + output);
        }
        assertTrue(output.contains("restored: 20000 orders"), output);
        assertTrue(output.contains("Sandbox done"), output);
        return output;
    }
}
