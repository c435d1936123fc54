import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** lib/BackupSelection: how --at reads a time. */
class BackupSelectionTest {
    @Test
    void atAcceptsInstantsOffsetsDatesAndRefusesTheFuture() {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");
        assertEquals(Instant.parse("2026-11-23T02:00:00Z"), BackupSelection.parseAt("2026-11-23T02:00:00Z", now));
        assertEquals(Instant.parse("2026-11-23T02:00:00Z"), BackupSelection.parseAt("2026-11-23T04:00:00+02:00", now));
        assertEquals(Instant.parse("2026-11-23T23:59:59Z"), BackupSelection.parseAt("2026-11-23", now));
        assertEquals(Instant.parse("2026-11-25T23:59:59Z"), BackupSelection.parseAt("2026-11-25", now), "today is fine");
        assertEquals(Instant.parse("2026-11-23T02:00:00Z"), BackupSelection.parseAt("2026-11-23T02-00-00Z", now), "the key's stamp");
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> BackupSelection.parseAt("2026-11-26", now)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> BackupSelection.parseAt("2026-11-25T12:00:01Z", now)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> BackupSelection.parseAt("last tuesday", now)).exitCode);
    }
}
