import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Durations}: the durations options take. */
class DurationsTest {
    @Test
    void durations() {
        assertEquals(Duration.ofHours(24), Durations.parse("--grace", "24h"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("--grace", "90m"));
        assertEquals(Duration.ofDays(2), Durations.parse("--grace", "2d"));
        assertEquals(Duration.ofHours(36), Durations.parse("--grace", "1d12h"));
        assertEquals(Duration.ofDays(14), Durations.parse("--grace", "2w"));
        assertEquals(Duration.ZERO, Durations.parse("--grace", "0s"));
        assertEquals(Duration.ofHours(6), Durations.parse("--grace", "PT6H"));
        for (String bad : List.of("", "-1h", "24", "h", "1.5h", "1y", "PT-1H", "99999999999999999999d")) {
            Failure f = assertThrows(Failure.class, () -> Durations.parse("--grace", bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("--grace"), f.getMessage());
        }
    }
}
