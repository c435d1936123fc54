import java.time.DateTimeException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators type them in options ("26h", "8d", "1d12h", ISO-8601 "PT26H") and as reports show them
 * ("3d 4h"): prune's --max-age and --grace, and every other duration option.
 */
final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+)(w|d|h|m|s)");

    /** The longest duration an option takes: longer is a typo (999999999d), and near Instant's range it overflows. */
    static final Duration MAX = Duration.ofDays(36_500);

    /**
     * "24h", "90m", "2d", "1d12h", "0s" (or ISO-8601 "PT24H"), at most 100 years; negative, unitless, too long or
     * overflowing values are usage errors naming {@code option}.
     */
    static Duration parse(String option, String raw) {
        String s = raw == null ? "" : raw.strip().toLowerCase(Locale.ROOT);
        String hint = option + " '" + raw + "' is not a duration: use e.g. 24h, 90m, 2d, 1d12h or 0s";
        Duration total = Duration.ZERO;
        if (s.startsWith("p")) {
            try {
                total = Duration.parse(s.toUpperCase(Locale.ROOT));
            } catch (DateTimeException | ArithmeticException e) {
                throw Failure.usage(hint);
            }
            if (total.isNegative()) throw Failure.usage(option + " must not be negative, not " + raw);
        } else {
            if (!s.matches("(\\d+[wdhms])+")) throw Failure.usage(hint);
            Matcher m = PART.matcher(s);
            try {
                while (m.find()) {
                    long n = Long.parseLong(m.group(1));
                    total = total.plus(switch (m.group(2)) {
                        case "w" -> Duration.ofDays(Math.multiplyExact(n, 7));
                        case "d" -> Duration.ofDays(n);
                        case "h" -> Duration.ofHours(n);
                        case "m" -> Duration.ofMinutes(n);
                        default -> Duration.ofSeconds(n);
                    });
                }
            } catch (ArithmeticException | NumberFormatException e) {
                throw Failure.usage(option + " '" + raw + "' is too large: at most 100 years (36500d)");
            }
        }
        if (total.compareTo(MAX) > 0) throw Failure.usage(option + " '" + raw + "' is more than 100 years (36500d): give a real duration, e.g. 30d or 26w");
        return total;
    }

    /** As {@link #parse}, or null for "off" (the check it sets is not made). */
    static Duration parseOrOff(String option, String raw) {
        if (raw != null && raw.strip().equalsIgnoreCase("off")) return null;
        return parse(option, raw);
    }

    /** "3d 4h", "45m", "0s": ages for humans, to the two largest units. */
    static String human(Duration d) {
        long s = Math.max(0, d.getSeconds());
        long days = s / 86_400, hours = s % 86_400 / 3600, minutes = s % 3600 / 60;
        if (days > 0) return days + "d" + (hours > 0 ? " " + hours + "h" : "");
        if (hours > 0) return hours + "h" + (minutes > 0 ? " " + minutes + "m" : "");
        if (minutes > 0) return minutes + "m";
        return s + "s";
    }

    private Durations() {}
}
