import java.util.Locale;

/** What --compress pg_dump gets, and its name in the manifest. */
record DumpCompression(String arg, String label) {
    /**
     * Default: the best the client offers, zstd from pg_dump 16 (which added it); gzip level 6 before (pg_dump
     * 14/15 accept only a level 0-9, meaning gzip). An explicit value is passed through unchanged.
     */
    static DumpCompression choose(String explicit, int pgDumpMajor) {
        if (explicit == null || explicit.isBlank()) {
            return pgDumpMajor >= 16 ? new DumpCompression("--compress=zstd", "zstd") : new DumpCompression("--compress=6", "gzip:6");
        }
        String v = explicit.strip();
        if (pgDumpMajor < 16 && !v.matches("\\d")) {
            throw Failure.usage("pg_dump " + pgDumpMajor + " takes only a gzip level 0-9 as --compress, not '" + v
                    + "' (methods such as zstd, lz4 and gzip:N need pg_dump 16 or newer)");
        }
        return new DumpCompression("--compress=" + v, label(v));
    }

    static String label(String v) {
        if (v.matches("\\d+")) return Integer.parseInt(v) == 0 ? "none" : "gzip:" + Integer.parseInt(v);
        if (v.matches("(?i)none(:.*)?")) return "none";
        return v.toLowerCase(Locale.ROOT);
    }
}
