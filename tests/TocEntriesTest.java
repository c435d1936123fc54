import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The TOC entry rule backup records and restore checks: lines of pg_restore --list that are neither blank nor comments. */
class TocEntriesTest {
    @Test
    void commentsAndBlankLinesAreNotEntries() {
        List<String> listing = List.of(
                ";",
                "; Archive created at 2026-11-30 10:00:00 UTC",
                ";     dbname: app",
                ";",
                "; Selected TOC Entries:",
                ";",
                "215; 1259 16385 TABLE public t app",
                "",
                "3310; 0 16385 TABLE DATA public t app",
                "   ");
        assertEquals(2, TocEntries.count(listing));
        assertTrue(TocEntries.isEntry("215; 1259 16385 TABLE public t app"));
        assertFalse(TocEntries.isEntry("; Selected TOC Entries:"));
        assertFalse(TocEntries.isEntry(""));
        assertEquals(0, TocEntries.count(List.of(";", "; an empty database lists none")));
    }
}
