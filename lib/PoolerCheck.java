import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * No dump through a transaction pooler (docs/architecture.md#safety-rules). pg_dump sets session state (row_security = off,
 * an empty search_path, its snapshot's isolation) in statements of their own; behind a pooler in transaction
 * mode, those land on whichever server connection is free, not on the one that runs the dump. A dump then exits 0
 * with the rows a row-level security policy hid, and the empty search_path leaks into the pool's connections that
 * the application uses ("relation does not exist").
 *
 * <p>What is recognised:
 * <ul>
 *   <li>Neon's pooled endpoint by its name: the first DNS label ends with {@code -pooler}
 *       (ep-cool-123-pooler.us-east-2.aws.neon.tech). Neon's direct endpoint is the same name without it, so the
 *       dump switches to that host ({@link #directHost}); a {@code hostaddr} parameter is kept as it is (it names
 *       the address to connect to, the host name still chooses the endpoint).</li>
 *   <li>PgBouncer, whatever its name or port, by its admin console ({@link #probe}): a connection to the
 *       database {@code pgbouncer} with the same credentials is answered by PgBouncer ("not allowed" for a role
 *       that is not one of its admin or stats users; SHOW VERSION, and the pool mode, for one that is), while
 *       PostgreSQL says that database does not exist. Session mode is fine for pg_dump; transaction or
 *       statement mode, or a mode this role cannot read, is refused.</li>
 * </ul>
 * Not recognised: other poolers (pgcat, Odyssey, Supavisor, RDS Proxy...), and a PgBouncer whose admin console
 * is disabled or reached through something that rewrites the database name. For those, the exact row counts in
 * the dump's snapshot still catch a dump that missed rows (see DumpSnapshot), and the documentation asks for the
 * direct connection string.
 */
final class PoolerCheck {
    /** A host switch: the URL to use, and the host names before and after. */
    record Switch(ConnInfo conn, String from, String to) {}

    /** What the PgBouncer probe found: null fields when it is not PgBouncer. */
    record Finding(boolean pgbouncer, String version, String poolMode) {
        static final Finding NONE = new Finding(false, null, null);

        boolean sessionMode() { return "session".equals(poolMode); }
    }

    /**
     * Neon's pooled host → its direct host: every host of the URL whose first DNS label ends with "-pooler" loses
     * that suffix. Null when no host is pooled. A pooled host in a {@code host=} parameter cannot be rewritten
     * (the parameter is passed to libpq untouched): usage error naming the direct host.
     */
    static Switch directHost(ConnInfo conn) {
        String inParam = conn.param("host");
        if (inParam != null && pooled(inParam)) {
            throw Failure.usage("the database URL's host parameter names a pooled endpoint (" + inParam + "): pg_dump needs a direct"
                    + " connection; use host=" + rewrite(inParam) + " (or --allow-pooler if this pooler runs in session mode)");
        }
        String spec = conn.hostSpec();
        if (spec.isEmpty() || !pooled(spec)) return null;
        return new Switch(conn.withHostSpec(rewrite(spec)), names(spec), names(rewrite(spec)));
    }

    /** True when a host of "h1[:p1],h2[:p2]" has a first DNS label ending with -pooler. */
    static boolean pooled(String spec) {
        for (String h : hosts(spec)) if (firstLabel(h).toLowerCase(Locale.ROOT).endsWith("-pooler")) return true;
        return false;
    }

    /** The same list with "-pooler" dropped from each first label (ports kept). */
    static String rewrite(String spec) {
        List<String> out = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String host = hostOf(part);
            String label = firstLabel(host);
            String rest = part.substring(host.length());
            if (label.toLowerCase(Locale.ROOT).endsWith("-pooler")) {
                host = label.substring(0, label.length() - "-pooler".length()) + host.substring(label.length());
            }
            out.add(host + rest);
        }
        return String.join(",", out);
    }

    private static String names(String spec) { return String.join(",", hosts(spec)); }

    private static List<String> hosts(String spec) {
        List<String> out = new ArrayList<>();
        for (String part : spec.split(",")) if (!part.isBlank()) out.add(hostOf(part.strip()));
        return out;
    }

    /** "name:5432" → "name"; "[::1]:5432" → "[::1]" (an address: never pooled by name). */
    private static String hostOf(String part) {
        if (part.startsWith("[")) {
            int close = part.indexOf(']');
            return close < 0 ? part : part.substring(0, close + 1);
        }
        int colon = part.indexOf(':');
        return colon < 0 ? part : part.substring(0, colon);
    }

    private static String firstLabel(String host) {
        if (host.startsWith("[")) return "";
        int dot = host.indexOf('.');
        return dot < 0 ? host : host.substring(0, dot);
    }

    /**
     * Asks whether {@code conn} leads to PgBouncer: one connection to its admin console database {@code pgbouncer}
     * (on PostgreSQL, a login that fails with "database "pgbouncer" does not exist", logged by the server).
     */
    static Finding probe(PgTools.Tool psql, ConnInfo conn) {
        ConnInfo admin = conn.withDatabase("pgbouncer");
        List<String> cmd = List.of(psql.path().toString(), "-X", "-w", "-A", "-F", "|", "-d", admin.withoutPassword(),
                "-c", "SHOW VERSION", "-c", "SHOW POOLS", "-c", "SHOW CONFIG");
        PgTools.Result r;
        try {
            r = PgTools.run(cmd, admin.childEnvironment(), null, 60);
        } catch (Failure f) {
            return Finding.NONE; // no answer at all: PostgreSQL's own connection worked, so not a PgBouncer we can tell
        }
        String out = r.stdout();
        String version = null;
        for (String line : out.split("\n")) if (line.startsWith("PgBouncer ")) version = line.strip();
        // PgBouncer's answer to a role outside admin_users/stats_users, before any password is checked.
        if (version == null) return r.stderr().matches("(?s).*FATAL:\\s+not allowed\\b.*") ? new Finding(true, null, null) : Finding.NONE;
        return new Finding(true, version, poolMode(out, conn.database()));
    }

    /** The pool mode of our database's pools (SHOW POOLS), else the default (SHOW CONFIG); null when neither says. */
    static String poolMode(String output, String database) {
        List<String> modes = new ArrayList<>();
        String configured = null;
        String[] header = null;
        for (String line : output.split("\n")) {
            String[] cells = line.split("\\|", -1);
            if (line.startsWith("database|") || line.startsWith("key|")) {
                header = cells;
                continue;
            }
            if (header == null || cells.length != header.length) continue;
            Map<String, String> row = new java.util.HashMap<>();
            for (int i = 0; i < cells.length; i++) row.put(header[i], cells[i]);
            if (header[0].equals("database") && database.equals(row.get("database")) && row.get("pool_mode") != null && !row.get("pool_mode").isEmpty()) {
                modes.add(row.get("pool_mode"));
            } else if (header[0].equals("key") && "pool_mode".equals(row.get("key"))) {
                configured = row.get("value");
            }
        }
        if (modes.contains("transaction")) return "transaction";
        if (modes.contains("statement")) return "statement";
        if (!modes.isEmpty()) return modes.get(0);
        return configured;
    }

    /** Refuses a PgBouncer that is not known to run in session mode (exit 64, with what to do). */
    static void refuse(Finding f, String host) {
        String what = f.version() != null ? f.version() : "PgBouncer";
        String mode = f.poolMode() != null ? " in " + f.poolMode() + " pooling mode" : " (its pool mode is not visible to this role)";
        throw Failure.usage("the database URL leads to " + what + mode + " at " + host + ", not to PostgreSQL itself: through a transaction pooler,"
                + " pg_dump's session settings land on other server connections and a dump can silently miss rows. Use the direct connection"
                + " string (Neon: the host without -pooler)" + (f.poolMode() == null ? ", or --allow-pooler if this PgBouncer runs in session mode" : ""));
    }

    private PoolerCheck() {}
}
