import java.util.List;

/** The archive's table of contents as `pg_restore --list` prints it. */
record TocListing(List<String> lines) {
    /** TOC entries: the lines that are not comments (the same count backup.java records). */
    int entries() { return (int) lines.stream().filter(l -> !l.isBlank() && !l.startsWith(";")).count(); }

    /** Whether the archive holds a TABLE DATA entry for schema.table ("ID; OID OID TABLE DATA schema table owner"). */
    boolean hasDataFor(String schema, String table) {
        String needle = " TABLE DATA " + schema + " " + table;
        return lines.stream().anyMatch(l -> !l.startsWith(";") && (l.contains(needle + " ") || l.endsWith(needle)));
    }

    static TocListing of(String stdout) { return new TocListing(stdout.lines().toList()); }
}
