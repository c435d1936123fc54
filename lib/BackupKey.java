import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where one backup's objects live in S3 (docs/architecture.md#s3-layout):
 * <pre>PREFIX/NAME/NAME_2026-11-23T02-00-00Z.dump | .manifest.json | .verify.json</pre>
 * The timestamp is the UTC start of the dump, to the second, written so that keys sort in time order.
 * Everything that lists the bucket parses keys with {@link #parse}; anything that does not parse is not
 * ours and is never touched.
 */
record BackupKey(String prefix, String name, Instant startedAt) {
    static final String DEFAULT_PREFIX = "pg-backups";
    /**
     * The longest name backup gives a new backup (--name, fleet NAME=): S3 keys have at most 1024 bytes and hold the
     * name twice (PREFIX/NAME/NAME_STAMP.manifest.json). Names found in a bucket are not held to it; their keys exist.
     */
    static final int MAX_NAME = 128;
    /** S3's limit on a key's length, in bytes of UTF-8. */
    static final int MAX_KEY_BYTES = 1024;
    /** Strict: 2026-11-31 or hour 24 is no date of ours (a lenient parser would make them Dec 1 or the next day). */
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH-mm-ss'Z'").withZone(ZoneOffset.UTC)
            .withResolverStyle(ResolverStyle.STRICT);
    private static final Pattern NAME = Pattern.compile("[a-z0-9._-]+");
    private static final Pattern PREFIX_CHARS = Pattern.compile("[A-Za-z0-9._/-]+");
    private static final Pattern FILE = Pattern.compile("(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z)(\\.dump|\\.manifest\\.json|\\.verify\\.json)");

    enum Kind {
        DUMP(".dump"), MANIFEST(".manifest.json"), VERIFY(".verify.json");
        final String suffix;
        Kind(String suffix) { this.suffix = suffix; }
    }

    /** A key of ours, as found in a listing. */
    record Parsed(BackupKey backup, Kind kind) {}

    BackupKey {
        prefix = checkPrefix(prefix);
        if (name == null || !NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw Failure.usage("invalid backup name" + (Redact.showableName(name) ? " '" + name + "'" : " (not shown)") + ": use lowercase letters, digits, '.', '_' and '-'");
        }
        checkKeyLength(prefix, name);
        startedAt = startedAt.truncatedTo(ChronoUnit.SECONDS);
    }

    String stamp() { return STAMP.format(startedAt); }

    String base() { return namePrefix(prefix, name) + name + "_" + stamp(); }

    String key(Kind kind) { return base() + kind.suffix; }

    String dumpKey() { return key(Kind.DUMP); }

    String manifestKey() { return key(Kind.MANIFEST); }

    String verifyKey() { return key(Kind.VERIFY); }

    /** "PREFIX/NAME/": lists one name's backups. */
    static String namePrefix(String prefix, String name) { return checkPrefix(prefix) + "/" + name + "/"; }

    /** "PREFIX/": lists every name's backups. */
    static String rootPrefix(String prefix) { return checkPrefix(prefix) + "/"; }

    /**
     * "PREFIX/.backup-preflight": the key of the multipart upload backup starts and aborts before any dump to prove
     * its access. Never an object; prune aborts an upload of it that a failed abort left behind.
     */
    static String preflightKey(String prefix) { return rootPrefix(prefix) + ".backup-preflight"; }

    /** Parses an object key found under the prefix; empty when the key is not one of ours. */
    static Optional<Parsed> parse(String prefix, String objectKey) {
        String root = rootPrefix(prefix);
        if (objectKey == null || !objectKey.startsWith(root)) return Optional.empty();
        String rest = objectKey.substring(root.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) return Optional.empty();
        String name = rest.substring(0, slash);
        String file = rest.substring(slash + 1);
        if (!NAME.matcher(name).matches() || name.equals(".") || name.equals("..") || !file.startsWith(name + "_")) return Optional.empty();
        Matcher m = FILE.matcher(file.substring(name.length() + 1));
        if (!m.matches()) return Optional.empty();
        Instant at;
        try {
            at = parseStamp(m.group(1));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
        Kind kind = m.group(2).equals(".dump") ? Kind.DUMP : m.group(2).equals(".manifest.json") ? Kind.MANIFEST : Kind.VERIFY;
        return Optional.of(new Parsed(new BackupKey(prefix, name, at), kind));
    }

    /** A stamp as backup writes it, and only that: an impossible date, or any other spelling of a valid one, does not parse. */
    static Instant parseStamp(String stamp) {
        Instant at = Instant.from(STAMP.parse(stamp));
        if (!STAMP.format(at).equals(stamp)) throw new DateTimeParseException("not a canonical backup time", stamp, 0);
        return at;
    }

    /**
     * Whether {@code dumpKey} (a manifest's) names this backup's dump: it ends with NAME/NAME_STAMP.dump, this
     * backup's name and stamp, under any well-formed prefix. A backup is identified by name and stamp, not by the
     * prefix or bucket it was written under, so a copy elsewhere stays itself; '..' or empty segments never match.
     */
    boolean isNamedBy(String dumpKey) {
        String own = "/" + name + "/" + name + "_" + stamp() + Kind.DUMP.suffix;
        if (dumpKey == null || !dumpKey.endsWith(own) || dumpKey.length() == own.length()) return false;
        String prefix = dumpKey.substring(0, dumpKey.length() - own.length());
        if (prefix.endsWith("/")) return false;
        try {
            checkPrefix(prefix);
            return true;
        } catch (Failure notAPrefix) {
            return false;
        }
    }

    /**
     * NAME from a database name (or --name): lowercased, every run of characters outside [a-z0-9._-]
     * becomes one '-', and leading/trailing separators are dropped. "Sales DB (EU)" becomes "sales-db-eu".
     */
    static String sanitizeName(String raw) {
        String lower = raw == null ? "" : raw.toLowerCase(java.util.Locale.ROOT);
        String dashed = lower.replaceAll("[^a-z0-9._-]+", "-").replaceAll("-{2,}", "-");
        String trimmed = dashed.replaceAll("^[-._]+", "").replaceAll("[-._]+$", "");
        if (trimmed.isEmpty()) {
            throw Failure.usage("the name '" + raw + "' has no usable characters for an S3 key (a-z, 0-9, '.', '_', '-'): give one with --name");
        }
        return trimmed;
    }

    /**
     * NAME from a --name option of prune or restore, sanitised like a database name; refused without an echo when it
     * holds characters of a URL: a URL pasted where a name belongs would be printed, and its "sanitised" form, in
     * every message naming the backup, would be the password lowercased.
     */
    static String nameOption(String raw) {
        if (raw != null && !Redact.showableName(raw)) {
            throw Failure.usage("invalid --name (not shown: it holds characters such as : / @ ? = % that belong to a URL or a password, not to a name):"
                    + " use lowercase letters, digits, '.', '_' and '-'");
        }
        String name = sanitizeName(raw);
        checkKeyLength("p", name); // with the shortest prefix: no backup of ours can have a longer name
        return name;
    }

    /** The longest key of a backup is its manifest's, PREFIX/NAME/NAME_2026-11-23T02-00-00Z.manifest.json: at most S3's 1024 bytes. */
    private static void checkKeyLength(String prefix, String name) {
        int longest = prefix.length() + 1 + name.length() + 1 + name.length() + 1 + "2026-11-23T02-00-00Z".length() + Kind.MANIFEST.suffix.length();
        if (longest > MAX_KEY_BYTES) {
            throw Failure.usage("the backup name (" + name.length() + " characters) and the prefix (" + prefix.length() + ") make S3 keys of " + longest
                    + " bytes, S3 allows " + MAX_KEY_BYTES + ": use a shorter name or prefix");
        }
    }

    /** The prefix, checked: relative, no empty/'.'/'..' segments, plain characters; one trailing '/' is dropped. */
    static String checkPrefix(String raw) {
        if (raw == null || raw.isBlank()) throw Failure.usage("the S3 prefix is empty (--prefix or S3_PREFIX; default " + DEFAULT_PREFIX + ")");
        String p = raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw;
        if (p.startsWith("/")) throw Failure.usage("invalid S3 prefix '" + raw + "': it must not start with '/'");
        if (!PREFIX_CHARS.matcher(p).matches()) throw Failure.usage("invalid S3 prefix '" + raw + "': use letters, digits, '.', '_', '-' and '/'");
        for (String segment : p.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw Failure.usage("invalid S3 prefix '" + raw + "': empty, '.' or '..' path segments are not allowed");
            }
        }
        return p;
    }
}
