import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL connection URL (libpq URI: postgresql://user:password@host:port/db?param=value...),
 * split so that no secret ever reaches a child's argv: children get {@link #withoutPassword()} as their --dbname
 * and the secrets through {@link #childEnvironment()}: the password as PGPASSWORD (which on Linux only the same
 * user and root can read, and which leaves no file behind if we are killed), and the secret keywords libpq reads
 * from no environment variable (sslpassword, ...) through a 0600 connection service file ({@link ServiceFile}).
 * Everything else in the URL (Neon's sslmode/channel_binding, options, multiple hosts) is passed through
 * byte for byte, so libpq interprets it exactly as it would for the user.
 *
 * <p>Query keys are percent-decoded before they are judged, as libpq decodes them: {@code ?pass%77ord=} is a
 * password. A key libpq does not know is refused here (64) instead of by every child later.
 */
final class ConnInfo {
    private static final Pattern URI = Pattern.compile(
            "^(postgres(?:ql)?)://(?:([^@/?#]*)@)?([^/?#]*)(?:/([^?#]*))?(?:\\?([^#]*))?$");
    private static final Pattern SAFE_KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    /**
     * Every keyword libpq 14 to 18 accepts in a URI query (PQconninfoOptions in fe-connect.c; a key a given
     * client's libpq does not know yet is still its error), plus JDBC's ssl=true, which libpq maps to sslmode=require.
     */
    static final Set<String> KEYWORDS = Set.of(
            "service", "user", "password", "passfile", "channel_binding", "connect_timeout", "dbname", "host", "hostaddr", "port",
            "client_encoding", "options", "application_name", "fallback_application_name", "keepalives", "keepalives_idle",
            "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslmode", "sslnegotiation", "sslcompression", "sslcert",
            "sslkey", "sslcertmode", "sslpassword", "sslkeylogfile", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
            "require_auth", "ssl_min_protocol_version", "ssl_max_protocol_version", "min_protocol_version", "max_protocol_version",
            "gssencmode", "krbsrvname", "gsslib", "gssdelegation", "replication", "target_session_attrs", "load_balance_hosts",
            "scram_client_key", "scram_server_key", "oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope", "ssl");

    /**
     * Keywords whose value is a secret: taken out of the URL children see and out of everything printed. Every
     * "*password" keyword, and PostgreSQL 18's OAuth client secret and SCRAM keys.
     */
    static final Set<String> SECRET_KEYWORDS = Set.of("password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key");

    /** One query parameter as written (raw) and its percent-decoded key. */
    private record Param(String raw, String key, String rawValue) {}

    private final String scheme;
    private final String userEncoded;      // may be empty
    private final String passwordEncoded;  // null when absent
    private final String hostSpec;         // host[:port][,host2[:port2]...], may be empty (socket)
    private final String databaseEncoded;  // may be empty
    private final List<Param> params;      // every parameter that is not a secret, as written
    private final Map<String, String> secrets; // decoded secret keyword -> decoded value (the last one wins, as in libpq)
    private Path serviceFile;              // written on first use (childEnvironment), for the secrets libpq has no env var for

    private ConnInfo(String scheme, String user, String password, String hostSpec, String database,
                     List<Param> params, Map<String, String> secrets) {
        this.scheme = scheme;
        this.userEncoded = user;
        this.passwordEncoded = password;
        this.hostSpec = hostSpec;
        this.databaseEncoded = database;
        this.params = params;
        this.secrets = secrets;
    }

    /**
     * Parses a libpq URI; anything else is a usage error naming what was expected, never echoing the URL (it may
     * hold a password in any form). Forgiven: a UTF-8 byte order mark and one pair of quotes around the URL.
     */
    static ConnInfo parse(String url) {
        if (url == null || url.isBlank()) throw Failure.usage("no database URL given (--database-url or DATABASE_URL)");
        String trimmed = unquote(url.replace("\uFEFF", "").strip());
        if (trimmed.regionMatches(true, 0, "jdbc:", 0, 5)) {
            throw Failure.usage("a jdbc: URL is not a libpq URL: drop the jdbc: prefix (postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE?sslmode=require);"
                    + " the URL is not shown, it may hold a password");
        }
        Matcher m = URI.matcher(trimmed);
        if (!m.matches()) {
            throw Failure.usage("not a PostgreSQL URL (not shown, it may hold a password): expected postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=require...]"
                    + "; percent-encode special characters such as @ : / ? # space in the password");
        }
        if (m.group(3).contains("@")) {
            // user:p@ss@host would make "ss@host" the host, and every message naming the host would show part of the password.
            throw Failure.usage("the database URL has more than one '@': percent-encode '@' in the user name or password as %40"
                    + " (and : / ? # % space as %3A %2F %3F %23 %25 %20)");
        }
        String userInfo = m.group(2);
        String user = "", password = null;
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            password = colon < 0 ? null : userInfo.substring(colon + 1);
        }
        List<Param> params = new ArrayList<>();
        Map<String, String> secrets = new LinkedHashMap<>();
        if (m.group(5) != null && !m.group(5).isEmpty()) {
            for (String pair : m.group(5).split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                if (eq <= 0) throw Failure.usage("a query parameter of the database URL is not key=value (not shown, it may hold a password)");
                String key = decode(pair.substring(0, eq), "query parameter name");
                String value = pair.substring(eq + 1);
                if (!KEYWORDS.contains(key)) {
                    throw Failure.usage("unknown parameter " + (SAFE_KEY.matcher(key).matches() ? "'" + key + "' " : "") + "in the database URL"
                            + " (libpq would refuse it): see the parameter key words at https://www.postgresql.org/docs/current/libpq-connect.html");
                }
                if (key.equals("ssl") && !value.equals("true")) {
                    throw Failure.usage("ssl=" + (value.matches("[a-z0-9]{1,8}") ? value : "...") + " in the database URL: libpq takes only ssl=true (use sslmode=...)");
                }
                if (SECRET_KEYWORDS.contains(key)) {
                    secrets.remove(key); // keep the order libpq sees: the last one wins
                    secrets.put(key, decode(value, key));
                } else {
                    params.add(new Param(pair, key, value));
                }
            }
        }
        ConnInfo info = new ConnInfo(m.group(1), user, password, m.group(3), m.group(4) == null ? "" : m.group(4), params, secrets);
        // Decode once now so that a malformed %-escape is a clear usage error up front.
        info.user();
        info.database();
        info.password();
        for (Param p : params) decode(p.rawValue(), p.key());
        info.checkPorts();
        info.checkServiceFileSecrets();
        return info;
    }

    /** "postgresql://..." or 'postgresql://...' (a secret store or .env file that kept the quotes): the URL inside. */
    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '"' || s.charAt(0) == '\'') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return s.substring(1, s.length() - 1).strip();
        }
        return s;
    }

    /** Every port (HOST:PORT in the URL, or port=) is empty or 1-65535, as libpq requires. The value is not echoed: a misplaced password may be what sits there. */
    private void checkPorts() {
        List<String> ports = new ArrayList<>();
        String hosts = decode(hostSpec, "host");
        for (String h : hosts.split(",", -1)) {
            int close = h.startsWith("[") ? h.indexOf(']') : -1;
            int colon = h.indexOf(':', Math.max(close, 0));
            if (close < 0 && h.startsWith("[")) throw Failure.usage("the database URL has an IPv6 host without its closing ']'");
            if (colon >= 0) ports.add(h.substring(colon + 1));
        }
        String portParam = param("port");
        if (portParam != null) ports.addAll(List.of(portParam.split(",", -1)));
        for (String p : ports) {
            String port = p.strip();
            if (port.isEmpty()) continue;
            boolean ok = port.matches("\\d{1,5}") && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535;
            if (!ok) throw Failure.usage("the database URL has a port that is not a number from 1 to 65535 (HOST:PORT, default 5432; not shown)");
        }
    }

    /** The secrets that go through a service file must be writable there, and must not collide with a service of the user's. */
    private void checkServiceFileSecrets() {
        Map<String, String> inFile = serviceFileSecrets();
        if (inFile.isEmpty()) return;
        if (param("service") != null) {
            throw Failure.usage("the database URL combines service= with " + String.join(", ", inFile.keySet())
                    + ": put " + String.join(", ", inFile.keySet()) + " into that service's entry in the service file instead");
        }
        for (Map.Entry<String, String> e : inFile.entrySet()) ServiceFile.checkValue(e.getKey(), e.getValue());
    }

    String user() { return decode(userEncoded, "user name"); }

    /** The password, or null when the URL has none (libpq may still find one in PGPASSWORD or ~/.pgpass). */
    String password() {
        if (secrets.containsKey("password")) return secrets.get("password");
        return passwordEncoded == null ? null : decode(passwordEncoded, "password");
    }

    /** The database name; libpq defaults it to the user name when the URL has none. */
    String database() {
        String db = decode(databaseEncoded, "database name");
        if (!db.isEmpty()) return db;
        String fromParam = param("dbname");
        if (fromParam != null) return fromParam;
        return user().isEmpty() ? System.getProperty("user.name") : user();
    }

    /** Host (and port) as written in the URL, for manifests and same-server checks; never contains secrets. */
    String host() {
        if (!hostSpec.isEmpty()) return decode(hostSpec, "host");
        String fromParam = param("host");
        return fromParam != null ? fromParam : "localhost";
    }

    /** A parameter's decoded value by its (decoded) keyword, the last one if repeated as libpq does; null when absent or secret. */
    String param(String key) {
        String found = null;
        for (Param p : params) if (p.key().equals(key)) found = decode(p.rawValue(), key);
        return found;
    }

    /** The URL to hand to pg_dump/pg_restore/psql as --dbname: identical to the input minus every secret. */
    String withoutPassword() { return build(false); }

    /** The URL for humans: each secret replaced by ***. */
    String redacted() { return build(true); }

    @Override
    public String toString() { return redacted(); }

    /** The same server and credentials, another database (restore targets, drills, maintenance connections). */
    ConnInfo withDatabase(String database) {
        List<Param> others = new ArrayList<>();
        for (Param p : params) if (!p.key().equals("dbname")) others.add(p);
        return new ConnInfo(scheme, userEncoded, passwordEncoded, hostSpec, encode(database), others, secrets);
    }

    /**
     * Environment for a child libpq process, on top of {@link ChildEnvironment}'s allow-list: the password (if the
     * URL has one) as PGPASSWORD, the other secrets through a 0600 service file (PGSERVICEFILE + PGSERVICE), and a
     * connect timeout default.
     */
    Map<String, String> childEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        String password = password();
        if (password != null) env.put("PGPASSWORD", password);
        Map<String, String> inFile = serviceFileSecrets();
        if (!inFile.isEmpty()) {
            if (System.getenv("PGSERVICE") != null && !System.getenv("PGSERVICE").isBlank()) {
                throw new Failure(Exit.CONFIG, "PGSERVICE is set and the database URL has " + String.join(", ", inFile.keySet())
                        + ": unset PGSERVICE, or put " + String.join(", ", inFile.keySet()) + " into that service's entry instead of the URL");
            }
            synchronized (this) {
                if (serviceFile == null) serviceFile = ServiceFile.write(inFile);
            }
            env.put("PGSERVICEFILE", serviceFile.toString());
            env.put("PGSERVICE", ServiceFile.SERVICE);
        }
        // Fail fast on an unreachable host instead of hanging on libpq's default (no timeout).
        if (System.getenv("PGCONNECT_TIMEOUT") == null && param("connect_timeout") == null) env.put("PGCONNECT_TIMEOUT", "20");
        return env;
    }

    /** The secrets libpq reads from no environment variable: all but the password. */
    private Map<String, String> serviceFileSecrets() {
        Map<String, String> out = new LinkedHashMap<>(secrets);
        out.remove("password");
        return out;
    }

    private String build(boolean showSecrets) {
        StringBuilder sb = new StringBuilder(scheme).append("://");
        boolean password = showSecrets && passwordEncoded != null;
        if (!userEncoded.isEmpty() || password) {
            sb.append(userEncoded);
            if (password) sb.append(":***");
            sb.append('@');
        }
        sb.append(hostSpec);
        if (!databaseEncoded.isEmpty()) sb.append('/').append(databaseEncoded);
        List<String> query = new ArrayList<>();
        for (Param p : params) query.add(p.raw());
        if (showSecrets) for (String key : secrets.keySet()) query.add(key + "=***");
        if (!query.isEmpty()) sb.append('?').append(String.join("&", query));
        return sb.toString();
    }

    private static String decode(String s, String what) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
                    throw Failure.usage("malformed %-escape in the " + what + " of the database URL");
                }
                int b = Integer.parseInt(s.substring(i + 1, i + 3), 16);
                // libpq refuses it too; and a NUL in PGPASSWORD would make Java's error message quote the password.
                if (b == 0) throw Failure.usage("%00 in the " + what + " of the database URL: libpq does not take it");
                out.write(b);
                i += 2;
            } else {
                int cp = s.codePointAt(i);
                byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The URL's host list as written in its authority (host[:port][,host2[:port2]...], still percent-encoded); may be empty. */
    String hostSpec() { return hostSpec; }

    /** The same URL with another authority host list (as {@link #hostSpec()} returns it); everything else unchanged. */
    ConnInfo withHostSpec(String spec) { return new ConnInfo(scheme, userEncoded, passwordEncoded, spec, databaseEncoded, params, secrets); }

    static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') sb.append(c);
            else sb.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
        }
        return sb.toString();
    }
}
