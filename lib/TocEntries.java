import java.util.List;

/**
 * The one rule for counting an archive's table of contents as {@code pg_restore --list} prints it: every line
 * that is neither blank nor a comment (';') is an entry. backup records this count in the manifest while the dump
 * streams, and restore's checks compare the archive with it: both must count the same way, so both count here.
 */
final class TocEntries {
    /** Whether a line of {@code pg_restore --list} output is a TOC entry. */
    static boolean isEntry(String line) { return !line.isBlank() && !line.startsWith(";"); }

    /** The TOC entries among the lines of {@code pg_restore --list} output. */
    static int count(List<String> lines) { return (int) lines.stream().filter(TocEntries::isEntry).count(); }

    private TocEntries() {}
}
