import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * --lock-wait-timeout: how long pg_dump may wait for a table lock. Default 5 minutes: long enough to ride out a
 * migration or a maintenance command that holds a table briefly, short enough that a lock held by a stuck
 * session fails the night's backup within minutes, naming the session, instead of holding it (and pg_dump's
 * locks on the tables it already has) for as long as the job may run.
 */
final class LockWaitTimeout {
    static final String DEFAULT = "5m";
    private static final Pattern VALUE = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|min|h)?", Pattern.CASE_INSENSITIVE);

    /** "30s", "5m", "1h", "1500ms", "0" (no limit) → milliseconds; a bare number is seconds. */
    static long parse(String text) {
        Matcher m = VALUE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) throw Failure.usage("invalid --lock-wait-timeout '" + text + "': e.g. 30s, 5m, 1h, or 0 to wait forever");
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        long ms = switch (unit) { case "ms" -> n; case "m", "min" -> n * 60_000; case "h" -> n * 3_600_000; default -> n * 1000; };
        if (ms > 24L * 3_600_000) throw Failure.usage("--lock-wait-timeout " + text + " is more than a day: use 0 to wait forever");
        if (ms > Integer.MAX_VALUE) throw Failure.usage("invalid --lock-wait-timeout '" + text + "'");
        return ms;
    }

    private LockWaitTimeout() {}
}
