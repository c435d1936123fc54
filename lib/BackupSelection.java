import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/** --name, --at, --key: which backup. Latest of the only name by default. */
class BackupSelection {
    @Option(names = "--name", paramLabel = "NAME", description = "Backup name (needed when several names are under the prefix).")
    String name;

    @Option(names = "--at", paramLabel = "TIME", description = "The newest backup at or before TIME: an ISO-8601 instant (2026-11-23T02:00:00Z,"
            + " 2026-11-23T04:00:00+02:00) or a date (2026-11-23: up to the end of that day, UTC).")
    String at;

    @Option(names = "--key", paramLabel = "KEY", description = "Exactly this backup: its dump or manifest key, as 'restore list' shows it.")
    String key;

    /** Parses --at; a future time or an unreadable one is a usage error. */
    static Instant parseAt(String raw, Instant now) {
        String s = raw.strip();
        Instant at = null;
        Instant earliest = null; // for a date: its start, which must not be in the future
        try {
            at = OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException notOffset) {
            try {
                LocalDate day = LocalDate.parse(s);
                earliest = day.atStartOfDay(ZoneOffset.UTC).toInstant();
                at = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusSeconds(1);
            } catch (DateTimeParseException notDate) {
                try {
                    at = BackupKey.parseStamp(s);
                } catch (DateTimeParseException notStamp) {
                    try {
                        LocalDateTime.parse(s);
                        throw Failure.usage("--at '" + s + "' has no time zone: add Z for UTC (" + s + "Z) or an offset (+02:00)");
                    } catch (DateTimeParseException unreadable) {
                        throw Failure.usage("cannot read --at '" + s + "': use an ISO-8601 instant (2026-11-23T02:00:00Z, 2026-11-23T04:00:00+02:00) or a date (2026-11-23)");
                    }
                }
            }
        }
        if ((earliest != null ? earliest : at).isAfter(now)) {
            throw Failure.usage("--at " + s + " is in the future (now is " + Iso.iso(now) + ")");
        }
        return at;
    }
}
