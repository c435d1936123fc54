import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** --lock-wait-timeout values: durations in milliseconds, a bare number is seconds, 0 waits forever, a day at most. */
class LockWaitTimeoutTest {
    @Test
    void lockWaitTimeoutValues() {
        assertEquals(300_000, LockWaitTimeout.parse(LockWaitTimeout.DEFAULT));
        assertEquals(2_000, LockWaitTimeout.parse("2s"));
        assertEquals(2_000, LockWaitTimeout.parse("2"));
        assertEquals(90 * 60_000, LockWaitTimeout.parse("90min"));
        assertEquals(1_500, LockWaitTimeout.parse("1500ms"));
        assertEquals(0, LockWaitTimeout.parse("0"));
        for (String bad : List.of("soon", "-1s", "2d", "25h", "1.5m")) {
            assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> LockWaitTimeout.parse(bad), bad).exitCode);
        }
    }
}
