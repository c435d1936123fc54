import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a restore drill's scratch server lacks for a backup: an extension, a role, the backup's server version.
 * A drill there cannot test the backup, which says nothing about the backup ({@link DrillVerdict.Kind#UNTESTED}):
 * the stock {@code postgres:N} image of the workflow template has PostgreSQL's own extensions (contrib) but not
 * pgvector, PostGIS or ip4r, and a database using them must be drilled on a server that has them.
 * Every message here is one line: "the scratch server lacks ...: what to use instead".
 */
final class ScratchServer {
    /** Extensions that ship with PostgreSQL itself (contrib): every official postgres image has them. */
    private static final Set<String> CONTRIB = Set.of("adminpack", "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube",
            "dblink", "dict_int", "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hstore", "insert_username", "intagg", "intarray",
            "isn", "lo", "ltree", "moddatetime", "old_snapshot", "pageinspect", "pg_buffercache", "pg_freespacemap", "pg_prewarm",
            "pg_stat_statements", "pg_surgery", "pg_trgm", "pg_visibility", "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple",
            "postgres_fdw", "refint", "seg", "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "xml2");

    /** "2; 3079 16386 EXTENSION - hstore owner" in pg_restore --list. */
    private static final Pattern TOC_EXTENSION = Pattern.compile("^\\d+;\\s+\\d+\\s+\\d+\\s+EXTENSION\\s+-\\s+(\\S+)");
    private static final Pattern NOT_AVAILABLE = Pattern.compile("extension \"([^\"]+)\" is not available");
    private static final Pattern NO_CONTROL_FILE = Pattern.compile("could not open extension control file \"[^\"]*/([^/\"]+)\\.control\"");
    private static final Pattern NO_VERSION = Pattern.compile("extension \"([^\"]+)\" has no (?:installation script|update path)[^\"]*\"([^\"]+)\"");
    private static final Pattern NO_LIBRARY = Pattern.compile("could not (?:access|load) (?:file|library) \"(?:\\$libdir/)?([^\"]+)\"");
    private static final Pattern NO_ROLE = Pattern.compile("role \"([^\"]+)\" does not exist");

    /**
     * A scratch server older than the backup's server cannot test it: pg_dump writes what its server has (settings,
     * syntax), and a restore into an older major version is not the restore a user would do. Null when it is not older
     * or the backup's version is unknown.
     */
    static String olderThanBackup(int scratchMajor, String backupServerVersion) {
        int backupMajor = PgTools.majorOf(backupServerVersion);
        if (backupMajor == 0 || scratchMajor >= backupMajor) return null;
        return "the scratch server runs PostgreSQL " + scratchMajor + ", older than the backup's server (" + backupServerVersion.strip().split("\\s+")[0]
                + "): drill on PostgreSQL " + backupMajor + " or newer, e.g. the image postgres:" + backupMajor;
    }

    /** The extensions the archive creates, from its TOC ({@code pg_restore --list} lines). */
    static List<String> extensions(List<String> tocLines) {
        Set<String> names = new LinkedHashSet<>();
        for (String line : tocLines) {
            Matcher m = TOC_EXTENSION.matcher(line);
            if (m.find()) names.add(m.group(1));
        }
        return List.copyOf(names);
    }

    /** Of {@code wanted}, the extensions the server does not offer (pg_available_extensions), sorted. */
    static List<String> missingExtensions(PgTools.Tool psql, ConnInfo server, List<String> wanted) {
        if (wanted.isEmpty()) return List.of();
        Set<String> available = new TreeSet<>(PgTools.query(psql, server, "select name from pg_available_extensions").lines().map(String::strip).toList());
        List<String> missing = new ArrayList<>();
        for (String e : new TreeSet<>(wanted)) if (!available.contains(e)) missing.add(e);
        return missing;
    }

    /** "the scratch server lacks extension X: use a server with it, e.g. the image ..." */
    static String lacksExtensions(List<String> missing, int major) {
        return "the scratch server lacks extension" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing) + ": " + advice(missing, major);
    }

    /**
     * What in pg_restore's error output says the scratch server, not the backup, is missing something; null when
     * nothing does (the failure is then the backup's). Covers PostgreSQL 14-18's wording.
     */
    static String lackIn(String stderr, int major) {
        if (stderr == null) return null;
        Matcher m = NOT_AVAILABLE.matcher(stderr);
        if (m.find()) return lacksExtensions(List.of(m.group(1)), major);
        m = NO_CONTROL_FILE.matcher(stderr);
        if (m.find()) return lacksExtensions(List.of(m.group(1)), major);
        m = NO_VERSION.matcher(stderr);
        if (m.find()) {
            return "the scratch server lacks version " + m.group(2) + " of extension " + m.group(1) + ": " + advice(List.of(m.group(1)), major)
                    + " (that version or one it updates to)";
        }
        m = NO_LIBRARY.matcher(stderr);
        if (m.find()) {
            return "the scratch server lacks the library " + m.group(1) + " of an extension the backup uses: install the extension on it, or use"
                    + " a server that has it";
        }
        m = NO_ROLE.matcher(stderr);
        if (m.find()) {
            return "the scratch server lacks role " + m.group(1) + ", which the backup's objects name (e.g. a row-level security policy): create it"
                    + " there before the drill (CREATE ROLE \"" + m.group(1).replace("\"", "\"\"") + "\" NOLOGIN), e.g. in the scratch image's init script";
        }
        return null;
    }

    /** Where to get a server that has these extensions, for the known ones; else how. */
    static String advice(List<String> extensions, int major) {
        String v = major > 0 ? String.valueOf(major) : "17";
        Set<String> images = new LinkedHashSet<>();
        boolean other = false;
        for (String e : extensions) {
            String name = e.toLowerCase(Locale.ROOT);
            if (name.equals("vector")) images.add("pgvector/pgvector:pg" + v + " (pgvector)");
            else if (name.startsWith("postgis") || name.startsWith("address_standardizer")) images.add("postgis/postgis:" + v + "-3.5 (PostGIS)");
            else if (name.equals("timescaledb")) images.add("timescale/timescaledb:latest-pg" + v + " (TimescaleDB)");
            else if (CONTRIB.contains(name)) images.add("postgres:" + v + " (PostgreSQL's own extensions)");
            else other = true;
        }
        String use = "drill on a server that has " + (extensions.size() == 1 ? "it" : "them");
        if (!images.isEmpty()) use += ", e.g. the image " + String.join(" or ", images);
        if (other) use += (images.isEmpty() ? ", e.g. an image built FROM postgres:" + v + " that installs " : "; for the others an image that installs ")
                + (extensions.size() == 1 ? "it" : "them");
        return use;
    }

    private ScratchServer() {}
}
