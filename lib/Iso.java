import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** ISO-8601 instants as operators read and type them (--at): 2026-11-23T02:00:00Z. */
final class Iso {
    static String iso(Instant t) { return t.truncatedTo(ChronoUnit.SECONDS).toString(); }

    private Iso() {}
}
