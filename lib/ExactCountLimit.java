import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * --exact-count-limit: tables up to this size (main fork, pg_class.relpages: as of its last VACUUM or ANALYZE) get an exact count(*) in the dump's
 * snapshot. The count reads the table once more (measured in docs/performance.md#row-counts-and-read-back); above the limit
 * the archive's own count stands alone.
 */
final class ExactCountLimit {
    static final String DEFAULT = "10GiB";
    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?", Pattern.CASE_INSENSITIVE);

    /** "10GiB", "500MB", "0" (count nothing), "unlimited" → bytes (binary units). */
    static long parse(String text) {
        String v = text == null ? "" : text.strip();
        if (v.equalsIgnoreCase("unlimited")) return Long.MAX_VALUE;
        Matcher m = SIZE.matcher(v);
        if (!m.matches()) throw Failure.usage("invalid --exact-count-limit '" + text + "': e.g. 10GiB, 500MiB, 0 (count no table), unlimited");
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; case 't' -> 40; default -> 0; };
        try {
            long bytes = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
            return bytes == 0 ? -1 : bytes; // 0: no table is counted (not even empty ones)
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private ExactCountLimit() {}
}
