import java.util.LinkedHashMap;
import java.util.Map;

/** The exit codes every script shares (docs/architecture.md#exit-codes), and the failure type that carries one. */
final class Exit {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int PARTIAL = 3;
    static final int USAGE = 64;
    static final int DATA_INVALID = 65;
    static final int UNAVAILABLE = 69;
    static final int NO_PERMISSION = 77;
    static final int CONFIG = 78;

    /** The list printed at the end of every --help. */
    static Map<String, String> helpList() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put("0", "success");
        codes.put("1", "the operation failed");
        codes.put("3", "partial: some of several databases failed");
        codes.put("64", "invalid usage or input");
        codes.put("65", "backup data invalid (checksum mismatch, corrupt or unreadable dump)");
        codes.put("69", "a service is unreachable (database, S3)");
        codes.put("77", "permission denied (AWS AccessDenied, Postgres authentication)");
        codes.put("78", "environment or configuration problem (pg_dump missing or too old, no credentials, ...)");
        return codes;
    }

    private Exit() {}
}

/**
 * A failure that already knows its exit code and its one-line message for the operator.
 * Scripts throw it for every expected problem; {@link Cli} prints the message (no stack trace
 * unless --verbose) and exits with the code.
 */
class Failure extends RuntimeException {
    final int exitCode;

    Failure(int exitCode, String message) {
        super(Redact.text(message));
        this.exitCode = exitCode;
    }

    Failure(int exitCode, String message, Throwable cause) {
        super(Redact.text(message), cause);
        this.exitCode = exitCode;
    }

    static Failure usage(String message) { return new Failure(Exit.USAGE, message); }
}
