import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL connection URL (libpq URI: postgresql://user:password@host:port/db?param=value...),
 * split so that the password never reaches a child's argv: children get {@link #withoutPassword()} as
 * their --dbname and the password through {@link #childEnvironment()} (PGPASSWORD, which on Linux only
 * the same user and root can read, and which leaves no file behind if we are killed).
 * Everything else in the URL (Neon's sslmode/channel_binding, options, multiple hosts) is passed through
 * byte for byte, so libpq interprets it exactly as it would for the user.
 */
final class ConnInfo {
    private static final Pattern URI = Pattern.compile(
            "^(postgres(?:ql)?)://(?:([^@/?#]*)@)?([^/?#]*)(?:/([^?#]*))?(?:\\?([^#]*))?$");

    private final String scheme;
    private final String userEncoded;      // may be empty
    private final String passwordEncoded;  // null when absent
    private final String hostSpec;         // host[:port][,host2[:port2]...], may be empty (socket)
    private final String databaseEncoded;  // may be empty
    private final List<String> params;     // raw "key=value" pairs without password

    private final String passwordParam;    // decoded ?password=..., null when absent

    private ConnInfo(String scheme, String user, String password, String hostSpec, String database,
                     List<String> params, String passwordParam) {
        this.scheme = scheme;
        this.userEncoded = user;
        this.passwordEncoded = password;
        this.hostSpec = hostSpec;
        this.databaseEncoded = database;
        this.params = params;
        this.passwordParam = passwordParam;
    }

    /** Parses a libpq URI; anything else is a usage error naming what was expected (never echoing a password). */
    static ConnInfo parse(String url) {
        if (url == null || url.isBlank()) throw Failure.usage("no database URL given (--database-url or DATABASE_URL)");
        String trimmed = url.strip();
        Matcher m = URI.matcher(trimmed);
        if (!m.matches()) {
            throw Failure.usage("not a PostgreSQL URL: " + shown(trimmed)
                    + " (expected postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=require...];"
                    + " percent-encode special characters such as @ : / ? # in the password)");
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
        List<String> params = new ArrayList<>();
        String passwordParam = null;
        if (m.group(5) != null && !m.group(5).isEmpty()) {
            for (String pair : m.group(5).split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                if (eq <= 0) throw Failure.usage("bad query parameter in database URL: '" + Redact.text(pair) + "' (expected key=value)");
                if (pair.substring(0, eq).equals("password")) passwordParam = decode(pair.substring(eq + 1), "password");
                else params.add(pair);
            }
        }
        ConnInfo info = new ConnInfo(m.group(1), user, password, m.group(3), m.group(4) == null ? "" : m.group(4), params, passwordParam);
        // Decode once now so that a malformed %-escape is a clear usage error up front.
        info.user();
        info.database();
        info.password();
        return info;
    }

    /**
     * A URL that did not parse, for an error message: everything before its last '@' (where user and password
     * would be, whatever characters they hold) is hidden, and password=... parameters too.
     */
    private static String shown(String url) {
        int at = url.lastIndexOf('@');
        if (at < 0) return Redact.text(url);
        int scheme = url.indexOf("://");
        return Redact.text((scheme >= 0 && scheme < at ? url.substring(0, scheme + 3) : "") + "***" + url.substring(at));
    }

    String user() { return decode(userEncoded, "user name"); }

    /** The password, or null when the URL has none (libpq may still find one in PGPASSWORD or ~/.pgpass). */
    String password() {
        if (passwordParam != null) return passwordParam;
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

    String param(String key) {
        for (String pair : params) {
            int eq = pair.indexOf('=');
            if (pair.substring(0, eq).equals(key)) return decode(pair.substring(eq + 1), key);
        }
        return null;
    }

    /** The URL to hand to pg_dump/pg_restore/psql as --dbname: identical to the input minus the password. */
    String withoutPassword() { return build(null); }

    /** The URL for humans: the password replaced by ***. */
    String redacted() { return build(password() == null ? null : "***"); }

    @Override
    public String toString() { return redacted(); }

    /** The same server and credentials, another database (restore targets, drills, maintenance connections). */
    ConnInfo withDatabase(String database) {
        List<String> others = new ArrayList<>();
        for (String pair : params) if (!pair.startsWith("dbname=")) others.add(pair);
        return new ConnInfo(scheme, userEncoded, passwordEncoded, hostSpec, encode(database), others, passwordParam);
    }

    /** Environment for a child libpq process: the password (if the URL has one) and a connect timeout default. */
    Map<String, String> childEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        String password = password();
        if (password != null) env.put("PGPASSWORD", password);
        // Fail fast on an unreachable host instead of hanging on libpq's default (no timeout).
        if (System.getenv("PGCONNECT_TIMEOUT") == null && param("connect_timeout") == null) env.put("PGCONNECT_TIMEOUT", "20");
        return env;
    }

    private String build(String passwordShown) {
        StringBuilder sb = new StringBuilder(scheme).append("://");
        if (!userEncoded.isEmpty() || passwordShown != null) {
            sb.append(userEncoded);
            if (passwordShown != null) sb.append(':').append(passwordShown);
            sb.append('@');
        }
        sb.append(hostSpec);
        if (!databaseEncoded.isEmpty()) sb.append('/').append(databaseEncoded);
        if (!params.isEmpty()) sb.append('?').append(String.join("&", params));
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
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
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
    ConnInfo withHostSpec(String spec) { return new ConnInfo(scheme, userEncoded, passwordEncoded, spec, databaseEncoded, params, passwordParam); }

    static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') sb.append(c);
            else sb.append('%').append(String.format("%02X", b & 0xff));
        }
        return sb.toString();
    }
}
