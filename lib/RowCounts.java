import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A backup's per-table statistics for the manifest, and the check that the archive holds what the database held.
 * Three numbers per table ({@link Manifest.TableStat}):
 * <ul>
 *   <li>{@code rowEstimate}: pg_class.reltuples (always);</li>
 *   <li>{@code rowCount}: the exact count in the dump's own snapshot ({@link DumpSnapshot}), when it was taken;
 *       null for tables too large to count, that could not be counted, or whose data the archive does not hold
 *       (--exclude-table-data, a partitioned table);</li>
 *   <li>{@code archiveRows}: the rows of the table's data block in the archive ({@link ArchiveRows}); 0 when the
 *       archive holds no data for it; null when the archive's rows were not counted.</li>
 * </ul>
 * Where both {@code rowCount} and {@code archiveRows} are set, they are equal: a table where they differ, or whose
 * rows row-level security hid from the counting session while the dump wrote rows for it, is a
 * {@link Outcome#disagreements disagreement}, and the backup fails.
 */
final class RowCounts {
    /** The statistics to record, and every table where the archive does not hold what the database held. */
    record Outcome(List<Manifest.TableStat> tables, List<String> disagreements, List<String> uncounted) {}

    static Outcome combine(List<UserTables.Table> tables, Map<List<String>, DumpSnapshot.Count> counts, ArchiveRows.Result archive) {
        List<Manifest.TableStat> stats = new ArrayList<>();
        List<String> disagreements = new ArrayList<>();
        List<String> uncounted = new ArrayList<>();
        boolean archiveCounted = archive != null && archive.counted() && archive.rows() != null;
        for (UserTables.Table t : tables) {
            DumpSnapshot.Count count = counts == null ? null : counts.get(t.key());
            Long inArchive = archiveCounted ? archive.rows().get(t.key()) : null;
            boolean hasData = inArchive != null;
            Long archiveRows = archiveCounted ? (hasData ? inArchive : 0L) : null;
            Long rowCount = count == null ? null : count.rows();
            if (archiveCounted && !hasData) rowCount = null; // the archive holds no data for it: a restore loads no rows
            if (count != null && count.rows() == null && !count.rowSecurity()) uncounted.add(t.qualified() + ": " + count.error());
            if (hasData && count != null) {
                if (count.rowSecurity()) {
                    disagreements.add(t.qualified() + ": row-level security hides rows from this role, yet the archive holds " + inArchive
                            + " rows of it (only the rows the role could see)");
                } else if (count.rows() != null && !count.rows().equals(inArchive)) {
                    disagreements.add(t.qualified() + ": " + count.rows() + " rows in the database, " + inArchive + " in the archive");
                }
            }
            stats.add(new Manifest.TableStat(t.schema(), t.table(), t.rowEstimate(), rowCount, archiveRows));
        }
        return new Outcome(stats, disagreements, uncounted);
    }

    /** The one-line failure for disagreements: the first few tables, and what to check. */
    static Failure failure(List<String> disagreements) {
        int shown = Math.min(3, disagreements.size());
        String list = String.join("; ", disagreements.subList(0, shown)) + (disagreements.size() > shown ? "; and " + (disagreements.size() - shown) + " more" : "");
        return new Failure(Exit.DATA_INVALID, "the dump does not hold every row of the database (" + list + "): is the connection pooled"
                + " (use the direct connection string), or does row-level security apply to this role (dump as the tables' owner or a"
                + " role with BYPASSRLS)? upload aborted, no backup written");
    }

    private RowCounts() {}
}
