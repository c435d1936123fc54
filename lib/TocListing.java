import java.util.List;

/** The archive's table of contents as `pg_restore --list` prints it. */
record TocListing(List<String> lines) {
    /** TOC entries, counted by the rule backup counts them by when it records them in the manifest ({@link TocEntries}). */
    int entries() { return TocEntries.count(lines); }

    /** Whether the archive holds a TABLE DATA entry for schema.table ("ID; OID OID TABLE DATA schema table owner"). */
    boolean hasDataFor(String schema, String table) {
        String needle = " TABLE DATA " + schema + " " + table;
        return lines.stream().anyMatch(l -> TocEntries.isEntry(l) && (l.contains(needle + " ") || l.endsWith(needle)));
    }

    static TocListing of(String stdout) { return new TocListing(stdout.lines().toList()); }
}
