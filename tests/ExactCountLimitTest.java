import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** --exact-count-limit values: binary sizes, 0 counts no table, unlimited counts all. */
class ExactCountLimitTest {
    @Test
    void exactCountLimitValues() {
        Map<String, Long> limits = Map.of("10GiB", 10L << 30, "0", -1L, "unlimited", Long.MAX_VALUE, "500MB", 500L << 20);
        for (var e : limits.entrySet()) assertEquals(e.getValue(), ExactCountLimit.parse(e.getKey()), e.getKey());
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ExactCountLimit.parse("big")).exitCode);
    }
}
