import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The part-size plan: one size per upload, from the database's size, within S3's and the heap's limits. */
class PartPlanTest {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    @Test
    void smallDatabasesGetEightMiBParts() {
        assertEquals(8 * MIB, PartPlan.of(null, 0).partSize());
        assertEquals(8 * MIB, PartPlan.of(null, 450_000).partSize());
        assertEquals(8 * MIB, PartPlan.of(null, 16 * GIB).partSize()); // 64 GiB over 10,000 parts: 6.9 MiB
        assertEquals(9 * MIB, PartPlan.of(null, 20 * GIB).partSize()); // 80 GiB: 8.2 MiB, rounded up
    }

    @Test
    void largerDatabasesGetPartsSoThatFourTimesTheirSizeFitsInTenThousandParts() {
        for (long db : new long[] {25 * GIB, 100 * GIB, 1024 * GIB, 2000 * GIB, 123_456_789_012L}) {
            PartPlan p = PartPlan.of(null, db);
            assertFalse(p.explicit());
            assertTrue(p.capacity() >= PartPlan.SAFETY * db, db + " -> " + p);
            assertEquals(0, p.partSize() % MIB, "whole MiB: " + p);
            assertTrue(p.partSize() - MIB < PartPlan.SAFETY * db / PartPlan.MAX_PARTS, "not more than a MiB of slack: " + p);
        }
        assertEquals(420 * MIB, PartPlan.of(null, 1024 * GIB).partSize()); // 4 TiB / 10,000 = 419.4 MiB, rounded up
    }

    @Test
    void neverAboveOneGiBAndThenSaysSoUpFront() {
        PartPlan huge = PartPlan.of(null, 5000 * GIB);
        assertEquals(GIB, huge.partSize());
        assertTrue(huge.warning().contains("cannot be stored as one S3 object"), huge.warning());
        assertEquals(GIB, PartPlan.of(null, Long.MAX_VALUE).partSize()); // no overflow
        assertNull(PartPlan.of(null, 1024 * GIB).warning());
    }

    @Test
    void unknownDatabaseSizeGetsAMiddleSizeAndAWarning() {
        PartPlan p = PartPlan.of(null, -1);
        assertEquals(32 * MIB, p.partSize());
        assertTrue(p.warning().contains("could not be read") && p.warning().contains("--part-size"), p.warning());
    }

    @Test
    void partSizeOverridesThePlanAndWarnsWhenTheDatabaseLooksTooLargeForIt() {
        PartPlan p = PartPlan.of(PartPlan.parse("8MiB"), 500 * GIB);
        assertTrue(p.explicit());
        assertEquals(8 * MIB, p.partSize());
        String w = p.warning();
        assertTrue(w != null && w.contains("--part-size 8.0 MiB holds a dump of up to 78.1 GiB") && w.contains("--part-size auto would use 205.0 MiB"), w);
        assertNull(PartPlan.of(PartPlan.parse("256MiB"), 500 * GIB).warning());
        assertNull(PartPlan.of(PartPlan.parse("64m"), -1).warning(), "the user chose: nothing to say");
    }

    @Test
    void parse() {
        assertNull(PartPlan.parse(null));
        assertNull(PartPlan.parse(""));
        assertNull(PartPlan.parse("auto"));
        assertNull(PartPlan.parse(" AUTO "));
        assertEquals(8 * MIB, PartPlan.parse("8MiB"));
        assertEquals(16 * MIB, PartPlan.parse("16M"));
        assertEquals(5 * MIB, PartPlan.parse("5242880"));
        assertEquals(GIB, PartPlan.parse("1GiB"));
        for (String bad : new String[] {"4MiB", "2GiB", "8 parsecs", "-8MiB", "99999999999999999999G"}) {
            Failure f = assertThrows(Failure.class, () -> PartPlan.parse(bad), bad);
            assertEquals(Exit.USAGE, f.exitCode, bad);
            assertTrue(f.getMessage().contains("--part-size"), f.getMessage());
        }
    }

    @Test
    void theTestKnobOnlyLowersTheMinimumWithinReason() {
        assertEquals(PartPlan.S3_MIN, PartPlan.minimum(null));
        assertEquals(PartPlan.S3_MIN, PartPlan.minimum("nonsense"));
        assertEquals(PartPlan.S3_MIN, PartPlan.minimum("0"));
        assertEquals(PartPlan.S3_MIN, PartPlan.minimum(String.valueOf(64 * MIB)));
        assertEquals(8192, PartPlan.minimum("8192"));
    }

    @Test
    void outgrowingThePlanNamesThePartSizeToUse() {
        PartPlan p = PartPlan.of(null, 10 * GIB); // 8 MiB parts: 78.1 GiB
        assertTrue(PartPlan.beyondLimit(10_001));
        assertFalse(PartPlan.beyondLimit(10_000));
        long written = p.capacity() + 1;
        Failure f = p.outgrown(written);
        assertEquals(Exit.FAILED, f.exitCode);
        assertTrue(f.getMessage().contains("planned for a database of 10.0 GiB") && f.getMessage().contains("run it again with --part-size 16MiB"), f.getMessage());
        // the suggestion is a valid --part-size, with room for half as much again as was written
        assertEquals("16MiB", p.suggestion(written));
        long suggested = PartPlan.parse(p.suggestion(3 * written));
        assertTrue(suggested * PartPlan.MAX_PARTS >= 4 * written, p.suggestion(3 * written));

        PartPlan explicit = PartPlan.of(PartPlan.parse("5MiB"), -1);
        assertTrue(explicit.outgrown(explicit.capacity() + 1).getMessage().contains("(--part-size)"));
        assertEquals("1024MiB", PartPlan.of(PartPlan.parse("700MiB"), -1).suggestion(700 * MIB * 10_000L));

        Failure max = PartPlan.of(null, 5000 * GIB).outgrown(10_000 * GIB);
        assertTrue(max.getMessage().contains("cannot be stored as one S3 object"), max.getMessage());
    }

    @Test
    void saysUpFrontWhenThreePartsMayNotFitTheHeap() {
        PartPlan big = PartPlan.of(null, 1024 * GIB); // 420 MiB parts: 1.2 GiB for 3
        assertNull(big.memoryWarning(4 * GIB, 1));
        String w = big.memoryWarning(GIB, 1);
        assertTrue(w != null && w.contains("3 parts of 420.0 MiB") && w.contains("JAVA_TOOL_OPTIONS=-Xmx") && !w.contains("--jobs"), w);
        String jobs = big.memoryWarning(4 * GIB, 4);
        assertTrue(jobs != null && jobs.contains("(4 at once)") && jobs.contains("lower --jobs"), jobs);
        // the heap it names is enough: no warning with it
        long named = Long.parseLong(jobs.replaceAll(".*-Xmx(\\d+)m.*", "$1")) << 20;
        assertNull(big.memoryWarning(named, 4), jobs);
        assertNull(PartPlan.of(null, GIB).memoryWarning(512 * MIB, 8), "8 MiB parts fit a small heap");
    }
}
