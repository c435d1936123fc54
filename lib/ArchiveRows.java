import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Reads a custom-format archive back as it streams, and counts the rows each table's data block holds. The
 * archive's bytes (plaintext) are fed to {@code pg_restore --data-only --file=-}, which decompresses every data
 * block and prints it as {@code COPY schema.table (...) FROM stdin;}, one line per row, then {@code \.}; we count
 * the lines. So a backup knows, for each table, the rows a restore of it will load, and that every block of the
 * archive can be read: pg_restore exits non-zero on an archive that is cut short, corrupt or not an archive at
 * all (backup then publishes nothing).
 *
 * <p>Rows are counted only in COPY blocks (pg_dump's default): every table's data entry ("-- Data for Name: ...;
 * Type: TABLE DATA") must be followed by its COPY. With --inserts and friends it is followed by INSERT statements,
 * whose lines are not rows: then nothing is counted ({@link Result#counted} false), but the archive is still read to
 * its end. With --load-via-partition-root each partition's block is attributed by that comment (its COPY names the
 * root).
 */
final class ArchiveRows {
    /** What reading the archive gave: per-table rows (by [schema, table]) when counted, and whether pg_restore read it all. */
    record Result(Map<List<String>, Long> rows, boolean counted, boolean readable, String problem) {}

    private static final byte[] COPY = "COPY ".getBytes(StandardCharsets.US_ASCII);
    private static final String DATA_COMMENT = "-- Data for Name: ";

    private final PgTools.Streaming proc;
    private final Thread reader;
    private volatile boolean countRows = true;
    private final boolean byComment;
    private final Map<List<String>, Long> rows = new HashMap<>();
    private volatile IOException readFailure;
    private boolean feeding = true;
    private String feedProblem;

    private ArchiveRows(PgTools.Streaming proc, boolean byComment) {
        this.proc = proc;
        this.byComment = byComment;
        this.reader = Threads.start("archive-rows", () -> {
            try (InputStream in = proc.stdout()) {
                parse(in);
            } catch (IOException e) {
                readFailure = e;
            }
        });
    }

    /**
     * Starts pg_restore (the one beside {@code pgDump}, else any not older; given pg_restore itself, that one).
     * {@code pgDumpArgs}, the dump's extra arguments (as the manifest records them), say whether it was made with
     * --load-via-partition-root (then blocks are attributed by their comment).
     */
    static ArchiveRows start(PgTools.Tool pgDump, List<String> pgDumpArgs) {
        // getopt's unique prefix: "--load" and longer spell --load-via-partition-root (pg_dump has no other --load...)
        return start(pgDump, pgDumpArgs.stream().anyMatch(a -> a.startsWith("--load") && "--load-via-partition-root".startsWith(a)));
    }

    /** As {@link #start(PgTools.Tool, List)}, told directly whether the dump loads via the partition root. */
    static ArchiveRows start(PgTools.Tool pgDump, boolean viaPartitionRoot) {
        Path sibling = pgDump.path().resolveSibling("pg_restore");
        PgTools.Tool pgRestore = Files.isExecutable(sibling) ? PgTools.probe(sibling) : PgTools.select("pg_restore", null, pgDump.major());
        return new ArchiveRows(PgTools.start(List.of(pgRestore.path().toString(), "--data-only", "--file=-"), Map.of()), viaPartitionRoot);
    }

    /** The next bytes of the archive, in order (called from the upload's pump thread). */
    void feed(byte[] buf, int off, int len) {
        if (!feeding) return;
        try {
            proc.stdin().write(buf, off, len);
        } catch (IOException e) {
            // pg_restore stopped reading: it failed (finish() reports its exit status and message)
            feeding = false;
            feedProblem = e.getMessage();
        }
    }

    /** After the last byte: waits for pg_restore to read to the end and returns what it found. */
    Result finish() throws InterruptedException {
        feeding = false;
        try {
            proc.stdin().close();
        } catch (IOException ignored) {
            // pg_restore already gone: its exit status says why
        }
        if (!proc.process().waitFor(10, TimeUnit.MINUTES)) {
            proc.close();
            return new Result(null, false, false, "pg_restore did not finish reading the archive within 10 minutes");
        }
        int exit = proc.waitFor();
        reader.join(60_000);
        if (exit != 0) {
            String said = Errors.lastLines(proc.stderr(), 3);
            return new Result(null, false, false, "pg_restore cannot read it (exit " + exit + (said.isEmpty() ? "" : ": " + said) + ")");
        }
        if (readFailure != null) return new Result(null, false, true, "its output could not be read: " + readFailure.getMessage());
        boolean counted = countRows;
        return new Result(counted ? Map.copyOf(rows) : null, counted, true, feedProblem);
    }

    void close() {
        feeding = false;
        proc.close();
    }

    /**
     * Scans pg_restore's SQL output: outside a data block, lines are read whole (comments, SET, COPY headers);
     * inside one, only newlines are counted until the {@code \.} line. Bytes, not characters: fast, and any encoding.
     */
    private void parse(InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        byte[] line = new byte[4096];
        int lineLen = 0;
        boolean lineTooLong = false;
        boolean inCopy = false;
        boolean atLineStart = true;
        int terminator = 0;   // inside a block: how much of "\\.\n" the current line has matched from its start (-1: not a terminator)
        long n = 0;
        List<String> current = null;
        List<String> commented = null;
        boolean pending = false; // a "Data for Name ... TABLE DATA" comment not yet followed by its COPY
        for (int read; (read = in.read(buf)) > 0; ) {
            for (int i = 0; i < read; i++) {
                byte b = buf[i];
                if (inCopy) {
                    if (atLineStart) terminator = 0;
                    if (terminator >= 0) {
                        if (terminator == 0 && b == '\\') terminator = 1;
                        else if (terminator == 1 && b == '.') terminator = 2;
                        else if (terminator == 2 && b == '\n') {
                            inCopy = false;
                            if (countRows && current != null) rows.merge(current, n, Long::sum);
                            atLineStart = true;
                            continue;
                        } else terminator = -1;
                    }
                    if (b == '\n') {
                        n++;
                        atLineStart = true;
                    } else {
                        atLineStart = false;
                    }
                    continue;
                }
                if (b != '\n') {
                    if (lineLen < line.length) line[lineLen++] = b;
                    else if (lineLen < (1 << 20)) { // a COPY header with many long column names: grow, up to 1 MiB
                        line = java.util.Arrays.copyOf(line, line.length * 2);
                        line[lineLen++] = b;
                    } else lineTooLong = true;
                    continue;
                }
                if (!lineTooLong && startsWith(line, lineLen, COPY)) {
                    String header = new String(line, 0, lineLen, StandardCharsets.UTF_8);
                    if (header.endsWith(" FROM stdin;")) {
                        current = byComment && commented != null ? commented : copyTarget(header);
                        commented = null;
                        pending = false;
                        inCopy = true;
                        atLineStart = true;
                        n = 0;
                    }
                } else if (!lineTooLong && lineLen > DATA_COMMENT.length() && line[0] == '-' && line[1] == '-') {
                    // "-- Data for Name: ..." names the block that follows ("-- load via partition root ..." comes after it)
                    List<String> named = dataComment(new String(line, 0, lineLen, StandardCharsets.UTF_8));
                    if (named != null) {
                        if (pending) countRows = false; // the previous table's data was not a COPY block: INSERTs
                        commented = named;
                        pending = true;
                    }
                }
                lineLen = 0;
                lineTooLong = false;
            }
        }
        if (pending) countRows = false;
    }

    private static boolean startsWith(byte[] line, int len, byte[] prefix) {
        if (len < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (line[i] != prefix[i]) return false;
        return true;
    }

    /** "COPY public.orders (id, note) FROM stdin;" → [public, orders]; quoted names unquoted ("a""b" → a"b). */
    static List<String> copyTarget(String header) {
        int[] at = {COPY.length};
        String schema = identifier(header, at);
        if (schema == null || at[0] >= header.length() || header.charAt(at[0]) != '.') return null;
        at[0]++;
        String table = identifier(header, at);
        return table == null ? null : List.of(schema, table);
    }

    private static String identifier(String s, int[] at) {
        int i = at[0];
        if (i >= s.length()) return null;
        if (s.charAt(i) == '"') {
            StringBuilder sb = new StringBuilder();
            for (i++; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"') {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                        sb.append('"');
                        i++;
                    } else {
                        at[0] = i + 1;
                        return sb.toString();
                    }
                } else {
                    sb.append(c);
                }
            }
            return null;
        }
        int start = i;
        while (i < s.length() && s.charAt(i) != '.' && s.charAt(i) != ' ' && s.charAt(i) != '(') i++;
        at[0] = i;
        return i > start ? s.substring(start, i) : null;
    }

    /** "-- Data for Name: orders; Type: TABLE DATA; Schema: public; Owner: app" → [public, orders]; else null. */
    static List<String> dataComment(String line) {
        if (!line.startsWith(DATA_COMMENT)) return null;
        int type = line.indexOf("; Type: TABLE DATA; Schema: ");
        if (type < 0) return null;
        int owner = line.lastIndexOf("; Owner: ");
        if (owner < type) return null;
        return List.of(line.substring(type + "; Type: TABLE DATA; Schema: ".length(), owner), line.substring(DATA_COMMENT.length(), type));
    }
}
