import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PgTools.start: what a child writes on stdout arrives complete and alone, even when the child has exited first. */
class PgToolsStreamingTest {
    @Test
    void outputWrittenBeforeTheChildExitsIsNotLostAndStderrStaysApart() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (PgTools.Streaming p = PgTools.start(List.of("sh", "-c", "head -c 40000 /dev/zero; echo 'a warning' >&2"), Map.of())) {
                p.stdin().close();
                p.process().waitFor(); // the child is gone before we read a byte of its output
                byte[] out = p.stdout().readAllBytes();
                assertEquals(0, p.waitFor());
                assertEquals(40000, out.length, "stdout complete, without stderr mixed in");
                assertEquals("a warning", p.stderr().strip());
            }
        }
    }
}
