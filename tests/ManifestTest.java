import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestTest {
    static Manifest sample() {
        return new Manifest(1, Version.TOOL, Version.VERSION, "neondb", "neondb", "ep-x.neon.tech", "pg-backups/neondb/neondb_2026-11-23T02-00-00Z.dump",
                "2026-11-23T02:00:00Z", "2026-11-23T02:03:00Z", 12345, "ab".repeat(32), "17.2", "17.4", "custom", "zstd:3",
                new Manifest.Encryption("age", List.of("age1xyz")), 42,
                List.of(new Manifest.TableStat("public", "Ünïcode \"t\"", 100, 101L)), List.of("--exclude-table-data=audit"));
    }

    @Test
    void roundTrips() {
        Manifest m = sample();
        assertEquals(m, Manifest.parse(m.toJson(), "test"));
    }

    @Test
    void unknownFieldsAreIgnored() {
        String json = sample().toJson().replaceFirst("\\{", "{\"futureField\": {\"a\": [1,2]}, \"another\": true,");
        assertEquals(sample(), Manifest.parse(json, "test"));
    }

    @Test
    void missingOptionalFieldsAreNull() {
        Manifest m = Manifest.parse("{\"formatVersion\":1,\"dumpKey\":\"k\",\"sha256\":\"00\",\"sizeBytes\":1}", "test");
        assertNull(m.encryption());
        assertNull(m.tables());
    }

    @Test
    void invalidJsonIsInvalidData() {
        Failure f = assertThrows(Failure.class, () -> Manifest.parse("{not json", "k"));
        assertEquals(Exit.DATA_INVALID, f.exitCode);
        f = assertThrows(Failure.class, () -> Manifest.parse("{\"formatVersion\":1}", "k"));
        assertEquals(Exit.DATA_INVALID, f.exitCode);
    }

    @Test
    void newerFormatIsAClearConfigError() {
        String json = sample().toJson().replace("\"formatVersion\" : 1", "\"formatVersion\" : 99");
        Failure f = assertThrows(Failure.class, () -> Manifest.parse(json, "k"));
        assertEquals(Exit.CONFIG, f.exitCode);
        assertEquals(true, f.getMessage().contains("upgrade"));
    }
}
