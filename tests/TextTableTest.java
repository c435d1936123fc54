import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** lib/TextTable: columns padded by code points, right-aligned numbers, no trailing blanks, nulls as "-". */
class TextTableTest {
    @Test
    void padsByCodePointsAndAlignsRight() {
        String t = new TextTable("NAME", "SIZE", "NOTE").right("SIZE")
                .row("ünïcode", "1.5 KiB", "ok")
                .row("a", "12 B", null)
                .render();
        assertEquals("NAME        SIZE  NOTE\n"
                + "ünïcode  1.5 KiB  ok\n"
                + "a           12 B  -\n", t);
    }

    @Test
    void lastColumnHasNoTrailingBlanks() {
        String t = new TextTable("A", "B").row("x", "").row("longer", "y").render();
        assertEquals("A       B\nx\nlonger  y\n", t);
    }
}
