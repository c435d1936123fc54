import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The environment of a PostgreSQL client tool we start (pg_dump, pg_restore, psql): only what such a tool needs
 * from ours, plus what the caller adds (the password, see {@link ConnInfo#childEnvironment()}).
 *
 * <p>An allow-list, not a deny-list: our own environment holds secrets a child must not get (the AWS secret key
 * and session token, the database URLs of a fleet file's ${VAR}s, DATABASE_URL, NEON_API_KEY, GITHUB_TOKEN,
 * restore's age key...), and their names are the user's choice, so no list of names to remove can be complete.
 * A variable missing from this list costs a libpq feature and shows as a plain error; a secret missing from a
 * deny-list would be handed to every pg_dump, readable in its /proc/PID/environ. Kept: the basics (PATH, HOME,
 * user, locale, TZ, TMPDIR, LD_LIBRARY_PATH for tools installed outside the system's paths), OpenSSL's and
 * Kerberos' settings (verify-full with the system's CA store, GSSAPI logins), and every variable libpq and the
 * client tools read (PGHOST, PGSSLROOTCERT, PGSERVICEFILE, ... and PGPASSWORD, the user's own, which the
 * URL's password replaces when there is one).
 */
final class ChildEnvironment {
    static final Set<String> ALLOWED = Set.of(
            "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG", "LANGUAGE", "LD_LIBRARY_PATH",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF", "OPENSSL_MODULES",
            "KRB5_CONFIG", "KRB5CCNAME", "KRB5_KTNAME", "KRB5_CLIENT_KTNAME",
            // libpq (fe-connect.c's connection options and environment options, PostgreSQL 14 to 18)
            "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE",
            "PGSYSCONFDIR", "PGLOCALEDIR", "PGOPTIONS", "PGAPPNAME", "PGCLIENTENCODING", "PGCONNECT_TIMEOUT", "PGCHANNELBINDING",
            "PGREQUIREAUTH", "PGREQUIREPEER", "PGSSLMODE", "PGSSLNEGOTIATION", "PGSSLCOMPRESSION", "PGSSLCERT", "PGSSLKEY",
            "PGSSLCERTMODE", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR", "PGSSLSNI", "PGSSLMINPROTOCOLVERSION",
            "PGSSLMAXPROTOCOLVERSION", "PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION", "PGGSSENCMODE", "PGKRBSRVNAME", "PGGSSLIB",
            "PGGSSDELEGATION", "PGTARGETSESSIONATTRS", "PGLOADBALANCEHOSTS", "PGDATESTYLE", "PGTZ", "PGGEQO",
            // the client tools' own
            "PG_COLOR", "PG_COLORS");

    /** Our variables that pass ({@link #ALLOWED} and the locale's LC_*), then {@code extra} on top. */
    static Map<String, String> forPgTool(Map<String, String> ours, Map<String, String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        ours.forEach((name, value) -> {
            if (ALLOWED.contains(name) || name.startsWith("LC_")) env.put(name, value);
        });
        env.putAll(extra);
        return env;
    }

    private ChildEnvironment() {}
}
