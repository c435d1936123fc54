import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** lib/Markdown: cells cannot break a table or inject code/HTML; code cells and raw markup pass as given. */
class MarkdownTest {
    @Test
    void escapesCellsAndKeepsTableShape() {
        String md = new Markdown().heading("pgdump-s3 backup: 1 of 2")
                .table("lr", "name", "size")
                .row("a|b\nc `x` <b>", "1 KiB")
                .row(new Markdown.Raw("❌ " + Markdown.code("k`ey")), null)
                .end().toString();
        assertEquals("### pgdump-s3 backup: 1 of 2\n\n"
                + "| name | size |\n|---|---:|\n"
                + "| a\\|b c \\`x\\` \\<b\\> | 1 KiB |\n"
                + "| ❌ `k'ey` | - |\n\n", md);
    }

    @Test
    void namesWithUnderscoresStayReadable() {
        assertTrue(Markdown.escape("my_db_1").equals("my_db_1"));
    }
}
