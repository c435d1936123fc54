import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one table printer for humans (stderr): columns padded to their widest cell, counted in code points so
 * that unicode names line up, two spaces between columns, no trailing blanks. Columns whose header is
 * given to {@link #right} are right-aligned (sizes, durations).
 */
final class TextTable {
    private final String[] header;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    TextTable(String... header) {
        this.header = header.clone();
        this.right = new boolean[header.length];
    }

    /** Right-aligns the named columns. */
    TextTable right(String... columns) {
        for (String c : columns) {
            int i = Arrays.asList(header).indexOf(c);
            if (i < 0) throw new IllegalArgumentException("no column " + c);
            right[i] = true;
        }
        return this;
    }

    /** Adds a row; null cells print as "-", missing trailing cells as "". */
    TextTable row(Object... cells) {
        String[] r = new String[header.length];
        for (int i = 0; i < r.length; i++) r[i] = i < cells.length ? (cells[i] == null ? "-" : String.valueOf(cells[i])) : "";
        rows.add(r);
        return this;
    }

    boolean isEmpty() { return rows.isEmpty(); }

    /** The table with its header, one line per row, each ending with a newline. */
    String render() {
        int[] width = new int[header.length];
        List<String[]> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (String[] r : all) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], length(r[i]));
        StringBuilder sb = new StringBuilder();
        for (String[] r : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                String pad = " ".repeat(width[i] - length(r[i]));
                line.append(right[i] ? pad + r[i] : r[i] + pad);
                if (i < r.length - 1) line.append("  ");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() { return render(); }

    private static int length(String s) { return s.codePointCount(0, s.length()); }
}
