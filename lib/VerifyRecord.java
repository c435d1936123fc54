import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.List;
import java.util.Map;

/**
 * The record a restore drill leaves next to a backup: {@code PREFIX/NAME/NAME_STAMP.verify.json}.
 * Written by restore.java's drill for every drill that reached a verdict on the backup's data, passed or failed
 * (see {@link DrillVerdict}: a drill that could not test, or met a fault of S3 or the network, writes none); read by
 * restore's list and by prune's --require-verified.
 *
 * Only a record with outcome "passed" that names the same dump (same SHA-256 as the manifest) vouches for
 * a backup: a record that says "failed" means the last drill of this backup failed, and the backup must
 * not be trusted because a verify.json exists. Use {@link #vouchesFor(Manifest)}, never the existence of
 * the object.
 *
 * @param outcome          "passed" or "failed"
 * @param reasons          why the drill failed (empty when it passed)
 * @param dumpSha256       the SHA-256 of the dump that was drilled (the manifest's)
 * @param durationsSeconds download, restore, compare, total
 * @param tables           tables checked, with what the manifest recorded and what the restore held
 * @param coverage         how many tables were checked against an exact count, an estimate, or for presence only
 *                         (null in records written before it existed)
 */
record VerifyRecord(
        int formatVersion,
        String tool,
        String toolVersion,
        String kind,
        String dumpKey,
        String dumpSha256,
        String outcome,
        List<String> reasons,
        String startedAt,
        String finishedAt,
        Map<String, Double> durationsSeconds,
        String pgRestoreVersion,
        String serverVersion,
        Integer tocEntriesExpected,
        Integer tocEntriesFound,
        RowTolerance rowTolerance,
        List<TableCheck> tables,
        Coverage coverage) {

    static final int CURRENT_FORMAT = 1;
    static final String PASSED = "passed";
    static final String FAILED = "failed";

    /** As written before {@code coverage} existed. */
    VerifyRecord(int formatVersion, String tool, String toolVersion, String kind, String dumpKey, String dumpSha256, String outcome,
                 List<String> reasons, String startedAt, String finishedAt, Map<String, Double> durationsSeconds, String pgRestoreVersion,
                 String serverVersion, Integer tocEntriesExpected, Integer tocEntriesFound, RowTolerance rowTolerance, List<TableCheck> tables) {
        this(formatVersion, tool, toolVersion, kind, dumpKey, dumpSha256, outcome, reasons, startedAt, finishedAt, durationsSeconds,
                pgRestoreVersion, serverVersion, tocEntriesExpected, tocEntriesFound, rowTolerance, tables, null);
    }

    /** A table passes when |restored - estimate| is at most the larger of {@code percent}% of the estimate and {@code rows}. */
    record RowTolerance(double percent, long rows) {}

    /**
     * @param expectedRows the manifest's exact count if it has one (rowCount, else archiveRows), else its estimate (-1: never analysed)
     * @param exact        whether the table was compared exactly (with rowCount and/or archiveRows), not within a tolerance
     * @param restoredRows the table's rows after the restore, null when the table is missing
     * @param verdict      "ok", "missing", "rows differ", "present" (no usable statistics), "no data in dump"
     * @param rowCount     the manifest's exact count in the dump's snapshot, null when it has none
     * @param archiveRows  the rows the manifest says the archive holds, null when it has none
     */
    record TableCheck(String schema, String table, long expectedRows, boolean exact, Long restoredRows, String verdict, Long rowCount, Long archiveRows) {
        TableCheck(String schema, String table, long expectedRows, boolean exact, Long restoredRows, String verdict) {
            this(schema, table, expectedRows, exact, restoredRows, verdict, null, null);
        }
    }

    /**
     * How the tables of a drill were checked: {@code exact} against a count the backup took, {@code estimated} within
     * the tolerance of pg_class.reltuples (no exact count in the manifest), {@code presenceOnly} (never analysed, no
     * count), {@code noData} (data excluded from the dump on purpose).
     */
    record Coverage(int exact, int estimated, int presenceOnly, int noData) {
        /** "12 tables exact, 3 estimated (no exact count in this manifest)". */
        String describe() {
            int total = exact + estimated + presenceOnly + noData;
            if (total == 0) return "no tables in the manifest";
            StringBuilder sb = new StringBuilder();
            sb.append(exact).append(exact == 1 ? " table" : " tables").append(" exact");
            if (estimated > 0) sb.append(", ").append(estimated).append(" estimated");
            if (presenceOnly > 0) sb.append(", ").append(presenceOnly).append(" for presence only");
            if (estimated + presenceOnly > 0) sb.append(" (no exact count in this manifest)");
            if (noData > 0) sb.append(", ").append(noData).append(" without data by the backup's choice");
            return sb.toString();
        }

        boolean allExact() { return estimated == 0 && presenceOnly == 0; }
    }

    boolean passed() { return PASSED.equals(outcome); }

    /** True only when this record says a drill of exactly this manifest's dump passed. */
    boolean vouchesFor(Manifest manifest) {
        return passed() && manifest != null && manifest.sha256() != null && manifest.sha256().equalsIgnoreCase(dumpSha256);
    }

    String toJson() { return Json.write(this); }

    static VerifyRecord parse(String json, String whereFrom) {
        try {
            VerifyRecord r = Json.MAPPER.readValue(json, VerifyRecord.class);
            if (r == null || r.outcome() == null) throw new Failure(Exit.DATA_INVALID, "verify record " + whereFrom + " has no outcome");
            return r;
        } catch (JsonProcessingException e) {
            throw new Failure(Exit.DATA_INVALID, "verify record " + whereFrom + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** The drill record stored next to a backup, or null when there is none or it cannot be read. */
    static VerifyRecord read(software.amazon.awssdk.services.s3.S3Client s3, String bucket, BackupKey key) {
        String verifyKey = key.verifyKey();
        try {
            return parse(Manifest.fetchSmall(s3, bucket, verifyKey, "verify record"), verifyKey);
        } catch (Failure | software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return null;
        }
    }

    /**
     * Whether a listed backup has a drill record that vouches for it: the backup is complete (a record next to a
     * phantom, a future-dated or a size-mismatched backup vouches for nothing, whatever it says) and the record says
     * passed for its manifest's sha256. Reads the record; a missing, unreadable or failed record vouches for nothing.
     */
    static boolean vouchedFor(software.amazon.awssdk.services.s3.S3Client s3, String bucket, BackupListing.Entry entry) {
        if (!entry.complete() || entry.verify() == null) return false;
        VerifyRecord record = read(s3, bucket, entry.key());
        return record != null && record.vouchesFor(entry.status().manifest());
    }
}
