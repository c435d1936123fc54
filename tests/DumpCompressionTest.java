import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The --compress default (the best the client offers) and what older pg_dumps accept. */
class DumpCompressionTest {
    @Test
    void compressionDefaultsToTheBestTheClientOffers() {
        assertEquals(new DumpCompression("--compress=6", "gzip:6"), DumpCompression.choose(null, 14));
        assertEquals(new DumpCompression("--compress=6", "gzip:6"), DumpCompression.choose(null, 15));
        assertEquals(new DumpCompression("--compress=zstd", "zstd"), DumpCompression.choose(null, 16));
        assertEquals(new DumpCompression("--compress=zstd", "zstd"), DumpCompression.choose(" ", 17));
        assertEquals(new DumpCompression("--compress=lz4:3", "lz4:3"), DumpCompression.choose("lz4:3", 17));
        assertEquals(new DumpCompression("--compress=0", "none"), DumpCompression.choose("0", 15));
        assertEquals(new DumpCompression("--compress=9", "gzip:9"), DumpCompression.choose("9", 15));
        assertEquals("none", DumpCompression.label("none"));
        assertEquals(new DumpCompression("--compress=gzip:9", "gzip:9"), DumpCompression.choose("gzip:9", 16));
        for (String notFor15 : List.of("zstd", "gzip:9", "none", "10")) {
            Failure f = assertThrows(Failure.class, () -> DumpCompression.choose(notFor15, 15), notFor15);
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("pg_dump 16"), f.getMessage());
        }
    }
}
