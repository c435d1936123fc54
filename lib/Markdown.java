import java.util.ArrayList;
import java.util.List;

/**
 * The one Markdown builder for GitHub's job summary ({@link StepSummary}): headings, lines and tables, with
 * every cell escaped so that a name or an error message cannot break the table (a '|', a newline) or start
 * code or HTML of its own (backticks, angle brackets). Emphasis characters are left alone: names such as
 * {@code my_db} stay readable, and the worst they can do is italicise a word. What goes in is plain text; {@link #code} marks a cell as code.
 */
final class Markdown {
    private final StringBuilder sb = new StringBuilder();

    Markdown heading(String text) {
        sb.append("### ").append(escape(text)).append("\n\n");
        return this;
    }

    /** A heading of plain text and {@link Raw} parts (e.g. a {@link #code} span), joined as given. */
    Markdown heading(Object... parts) {
        sb.append("### ");
        for (Object p : parts) sb.append(p instanceof Raw raw ? raw.markdown() : escape(String.valueOf(p)));
        sb.append("\n\n");
        return this;
    }

    Markdown line(String text) {
        sb.append(escape(text)).append("\n\n");
        return this;
    }

    /** A table; {@code align} per column: 'l' or 'r'. */
    Table table(String align, String... header) {
        return new Table(align, header);
    }

    @Override
    public String toString() { return sb.toString(); }

    /** A cell rendered as inline code (for keys and commands): backticks inside are dropped, not escaped. */
    static String code(String text) {
        if (text == null) return "";
        return "`" + text.replace("`", "'").replace("\n", " ").replace("\r", " ") + "`";
    }

    /** Plain text made safe for a Markdown table cell or line. */
    static String escape(String text) {
        if (text == null) return "";
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n', '\r' -> out.append(' ');
                case '|', '\\', '`', '<', '>' -> out.append('\\').append(c);
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Marks text that {@link #escape} must leave alone (already code, or our own markup such as an emoji). */
    record Raw(String markdown) {}

    final class Table {
        private final String align;
        private final String[] header;
        private final List<Object[]> rows = new ArrayList<>();

        private Table(String align, String[] header) {
            if (align.length() != header.length) throw new IllegalArgumentException("one alignment per column");
            this.align = align;
            this.header = header;
        }

        /** Cells are escaped plain text unless given as {@link Raw}; null prints as "-". */
        Table row(Object... cells) {
            rows.add(cells);
            return this;
        }

        /** Appends the table to its document and returns the document. */
        Markdown end() {
            sb.append("| ");
            for (int i = 0; i < header.length; i++) sb.append(escape(header[i])).append(i < header.length - 1 ? " | " : " |\n");
            sb.append('|');
            for (char a : align.toCharArray()) sb.append(a == 'r' ? "---:|" : "---|");
            sb.append('\n');
            for (Object[] r : rows) {
                sb.append("| ");
                for (int i = 0; i < header.length; i++) {
                    Object c = i < r.length ? r[i] : "";
                    sb.append(c == null ? "-" : c instanceof Raw raw ? raw.markdown() : escape(String.valueOf(c)));
                    sb.append(i < header.length - 1 ? " | " : " |\n");
                }
            }
            sb.append('\n');
            return Markdown.this;
        }
    }
}
