import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** lib/TocListing: what `pg_restore --list` says about an archive (the TOC entry count the manifest recorded, table data). */
class TocListingTest {
    static final String LIST = """
            ;
            ; Archive created at 2026-11-23 02:00:00 UTC
            ;     dbname: app
            ;
            ; Selected TOC Entries:
            ;
            215; 1259 16385 TABLE public orders app
            3350; 0 16385 TABLE DATA public orders app
            3351; 0 16390 TABLE DATA sales order_lines app
            216; 1259 16395 TABLE public orders_archive app

            """;

    @Test
    void countsTheLinesThatAreNotComments() {
        assertEquals(4, TocListing.of(LIST).entries());
    }

    @Test
    void tellsWhichTablesHaveData() {
        TocListing toc = TocListing.of(LIST);
        assertTrue(toc.hasDataFor("public", "orders"));
        assertTrue(toc.hasDataFor("sales", "order_lines"));
        assertFalse(toc.hasDataFor("public", "orders_archive"), "a table without its TABLE DATA entry");
        assertFalse(toc.hasDataFor("public", "order"), "a prefix of a name is not the name");
    }
}
