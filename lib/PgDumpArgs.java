import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * pg_dump's command line. Checks extra pg_dump arguments the way pg_dump's getopt_long reads them (option values, joined short
 * flags such as -vf, unambiguous abbreviations such as --fi), and refuses those that would break the
 * contract: another output file or format, another database or connection, parallel mode, a prompt.
 */
final class PgDumpArgs {
    private static final String SHORT_WITH_VALUE = "deEfFhjnNpStTUZ";
    private static final Set<String> LONG_WITH_VALUE = Set.of("compress", "dbname", "encoding", "exclude-extension", "exclude-schema",
            "exclude-table", "exclude-table-and-children", "exclude-table-data", "exclude-table-data-and-children", "extension",
            "extra-float-digits", "file", "filter", "format", "host", "include-foreign-data", "jobs", "lock-wait-timeout", "port",
            "restrict-key", "role", "rows-per-insert", "schema", "section", "snapshot", "superuser", "sync-method", "table",
            "table-and-children", "username");
    private static final Set<String> LONG_FLAGS = Set.of("attribute-inserts", "binary-upgrade", "blobs", "clean", "column-inserts", "create",
            "data-only", "disable-dollar-quoting", "disable-triggers", "enable-row-security", "help", "if-exists", "inserts", "large-objects",
            "load-via-partition-root", "no-acl", "no-blobs", "no-comments", "no-data", "no-large-objects", "no-owner", "no-password",
            "no-policies", "no-privileges", "no-publications", "no-schema", "no-security-labels", "no-statistics", "no-subscriptions",
            "no-sync", "no-table-access-method", "no-tablespaces", "no-toast-compression", "no-unlogged-table-data", "on-conflict-do-nothing",
            "password", "quote-all-identifiers", "schema-only", "sequence-data", "serializable-deferrable", "statistics", "statistics-only",
            "strict-names", "use-set-session-authorization", "verbose", "version", "with-data", "with-schema", "with-statistics");
    private static final Map<String, String> REFUSED = new LinkedHashMap<>();
    private static final Map<Character, String> SHORT_NAMES = Map.ofEntries(Map.entry('f', "file"), Map.entry('F', "format"),
            Map.entry('d', "dbname"), Map.entry('h', "host"), Map.entry('p', "port"), Map.entry('U', "username"), Map.entry('j', "jobs"),
            Map.entry('Z', "compress"), Map.entry('W', "password"), Map.entry('V', "version"), Map.entry('?', "help"));

    static {
        String conn = "the connection comes from --database-url (put host, port, user and database in the URL)";
        REFUSED.put("file", "backup streams pg_dump's output to S3, it cannot also go to a file");
        REFUSED.put("format", "backups are always custom format (-Fc)");
        REFUSED.put("dbname", conn);
        REFUSED.put("host", conn);
        REFUSED.put("port", conn);
        REFUSED.put("username", conn);
        REFUSED.put("jobs", "pg_dump's parallel mode needs the directory format, which cannot be streamed (backup's own --jobs dumps several databases at once)");
        REFUSED.put("compress", "use backup's --compress option, which is recorded in the manifest");
        REFUSED.put("password", "pg_dump must never prompt: the password comes from the database URL");
        REFUSED.put("snapshot", "backup exports its own snapshot, shared by pg_dump and the exact row counts");
        REFUSED.put("lock-wait-timeout", "use backup's --lock-wait-timeout, which also bounds the row counts and names the blocking session");
        REFUSED.put("version", "it prints a version, not a dump");
        REFUSED.put("help", "it prints help, not a dump");
    }

    /**
     * pg_dump's command line for one backup: custom format to stdout, the chosen compression, never a prompt, the exported
     * snapshot (null: none) and the lock wait (0: none), then the (checked) extra arguments and the database.
     */
    static List<String> command(PgTools.Tool pgDump, DumpCompression compression, String snapshotId, long lockWaitMillis, List<String> extraArgs,
                                ConnInfo conn) {
        List<String> cmd = new ArrayList<>(List.of(pgDump.path().toString(), "--format=custom", compression.arg(), "--no-password"));
        if (snapshotId != null) cmd.add("--snapshot=" + snapshotId);
        if (lockWaitMillis > 0) cmd.add("--lock-wait-timeout=" + lockWaitMillis);
        // --serializable-deferrable: our transaction waited for the safe snapshot and exported it; pg_dump imports it in
        // REPEATABLE READ (PostgreSQL refuses an import into a READ ONLY DEFERRABLE transaction).
        cmd.addAll(snapshotId == null ? extraArgs : without(extraArgs, "serializable-deferrable"));
        // The URL without its password: the password reaches pg_dump only through PGPASSWORD in its environment.
        cmd.addAll(List.of("--dbname", conn.withoutPassword()));
        return cmd;
    }

    /** Returns the arguments unchanged, or throws a usage error naming the refused one and why. */
    static List<String> check(List<String> args) {
        List<String> list = args == null ? List.of() : List.copyOf(args);
        for (int i = 0; i < list.size(); i++) {
            String a = list.get(i);
            if (a.equals("--")) throw refuse(a, "pg_dump would take what follows as a database name; " + REFUSED.get("dbname"));
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String given = eq < 0 ? a.substring(2) : a.substring(2, eq);
                String value = eq < 0 ? null : a.substring(eq + 1);
                String option = resolveLong(given, a);
                if (option != null && LONG_WITH_VALUE.contains(option) && value == null) value = i + 1 < list.size() ? list.get(++i) : null;
                if (option != null) checkOption(option, value, a);
            } else if (a.startsWith("-") && a.length() > 1) {
                for (int j = 1; j < a.length(); j++) {
                    char c = a.charAt(j);
                    String value = null;
                    boolean takesValue = SHORT_WITH_VALUE.indexOf(c) >= 0;
                    if (takesValue) value = j + 1 < a.length() ? a.substring(j + 1) : i + 1 < list.size() ? list.get(++i) : null;
                    String option = SHORT_NAMES.get(c);
                    if (option != null) checkOption(option, value, a);
                    if (takesValue) break;
                }
            } else {
                throw refuse(a, "pg_dump would take it as the database name; " + REFUSED.get("dbname")
                        + " (an option's value must follow it, e.g. -t TABLE or --table=TABLE)");
            }
        }
        return list;
    }

    /** Whether the (checked) arguments contain the long flag {@code option}, spelled in full or abbreviated. */
    static boolean has(List<String> args, String option) { return args.size() != without(args, option).size(); }

    /** The (checked) arguments without the long flag {@code option} (a flag: it takes no value). */
    static List<String> without(List<String> args, String option) {
        List<String> kept = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--") && a.indexOf('=') < 0 && a.length() > 2 && option.equals(resolveLong(a.substring(2), a))) continue;
            kept.add(a);
        }
        return kept;
    }

    /** getopt_long's matching: exact name, else a prefix; a prefix of a refused option is refused, whatever else it could mean. */
    private static String resolveLong(String given, String arg) {
        if (LONG_WITH_VALUE.contains(given) || LONG_FLAGS.contains(given)) return given;
        for (String refused : REFUSED.keySet()) {
            if (!given.isEmpty() && refused.startsWith(given)) {
                throw refuse(arg, "it abbreviates --" + refused + ": " + REFUSED.get(refused) + " (spell options in full)");
            }
        }
        String match = null;
        for (Set<String> names : List.of(LONG_WITH_VALUE, LONG_FLAGS)) {
            for (String n : names) {
                if (n.startsWith(given)) {
                    if (match != null) return null; // ambiguous: pg_dump rejects it itself
                    match = n;
                }
            }
        }
        return match; // null: unknown to us, pg_dump decides
    }

    private static void checkOption(String option, String value, String arg) {
        String why = REFUSED.get(option);
        if (why == null) return;
        if (option.equals("format") && value != null && (value.equalsIgnoreCase("c") || value.equalsIgnoreCase("custom"))) return;
        throw refuse(arg, why);
    }

    private static Failure refuse(String arg, String why) {
        return Failure.usage("pg_dump argument '" + arg + "' is not allowed: " + why);
    }

    private PgDumpArgs() {}
}
