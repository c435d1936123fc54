import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Upload part sizes: 10,000 parts hold more than a TiB, small dumps use small parts, and the --part-size option. */
class PartSizesTest {
    static final long MiB = 1L << 20;
    static final long GiB = 1L << 30;
    static final long TiB = 1L << 40;

    @Test
    void tenThousandPartsHoldMoreThanATebibyteForEveryFirstPartSize() {
        for (long first : List.of(5 * MiB, 8 * MiB, 16 * MiB, 100 * MiB, 512 * MiB, GiB)) {
            long total = 0;
            for (int part = 1; part <= PartSizes.MAX_PARTS; part++) {
                long size = PartSizes.size(part, first);
                assertTrue(size >= 5 * MiB && size <= 5 * GiB, "part " + part + " of first " + first + ": " + size);
                assertTrue(size <= Integer.MAX_VALUE, "a Java array holds it");
                total += size;
            }
            assertTrue(total >= TiB, "first " + first + ": 10,000 parts hold only " + total);
        }
    }

    @Test
    void defaultPartsStaySmallForDumpsUpToEightGigabytesThenDouble() {
        long first = PartSizes.parse("8MiB");
        assertEquals(8 * MiB, first);
        long total = 0;
        for (int part = 1; part <= 1000; part++) {
            assertEquals(8 * MiB, PartSizes.size(part, first));
            total += PartSizes.size(part, first);
        }
        assertTrue(total >= 8_000_000_000L, "" + total);
        assertEquals(16 * MiB, PartSizes.size(1001, first));
        assertEquals(32 * MiB, PartSizes.size(2001, first));
        assertEquals(256 * MiB, PartSizes.size(10_000, first)); // the ceiling: 3 buffers stay under 1 GiB
    }

    @Test
    void partSizeOption() {
        assertEquals(5 * MiB, PartSizes.parse("5MiB"));
        assertEquals(64 * MiB, PartSizes.parse("64M"));
        assertEquals(GiB, PartSizes.parse("1GiB"));
        assertEquals(6 * MiB, PartSizes.parse(String.valueOf(6 * MiB)));
        for (String bad : List.of("4MiB", "2GiB", "lots", "-8MiB", "99999999999999999999")) {
            Failure f = assertThrows(Failure.class, () -> PartSizes.parse(bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
        }
    }
}
