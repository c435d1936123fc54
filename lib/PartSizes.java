import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Part sizes: {@code first} (8 MiB by default) for parts 1-1,000, doubling every 1,000 parts, up to
 * 256 MiB. So dumps up to ~8 GB use 8 MiB buffers, and 10,000 parts hold more than 1 TiB for any first size
 * from S3's 5 MiB minimum to 1 GiB. Buffers are Java arrays, hence the 1 GiB ceiling (S3's is 5 GiB).
 */
final class PartSizes {
    static final int MAX_PARTS = 10_000;
    static final long MIN = 5L << 20;
    static final long MAX_FIRST = 1L << 30;
    static final long MAX_GROWN = 256L << 20;
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);

    static int size(int partNumber, long first) {
        long doubled = first << Math.min(20, (partNumber - 1) / 1000);
        return (int) Math.max(first, Math.min(doubled, MAX_GROWN));
    }

    /** "8MiB", "16M", "5242880": binary units; between S3's 5 MiB minimum and 1 GiB. */
    static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) throw Failure.usage("invalid --part-size '" + text + "': e.g. 8MiB, 64MiB");
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; default -> 0; };
        long value;
        try {
            value = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw Failure.usage("invalid --part-size '" + text + "'");
        }
        if (value < MIN || value > MAX_FIRST) throw Failure.usage("--part-size must be between 5MiB (S3's minimum) and 1GiB, not " + text);
        return value;
    }

    private PartSizes() {}
}
