import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.List;
import java.util.Map;

/**
 * The record a restore drill leaves next to a backup: {@code PREFIX/NAME/NAME_STAMP.verify.json}.
 * Written by restore.java's drill for every drill that reached a verdict, passed or failed; read by
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
        List<TableCheck> tables) {

    static final int CURRENT_FORMAT = 1;
    static final String PASSED = "passed";
    static final String FAILED = "failed";

    /** A table passes when |restored - estimate| is at most the larger of {@code percent}% of the estimate and {@code rows}. */
    record RowTolerance(double percent, long rows) {}

    /**
     * @param expectedRows the manifest's exact count if it has one, else its estimate (-1: never analysed)
     * @param exact        whether expectedRows is an exact count
     * @param restoredRows count(*) after the restore, null when the table is missing
     * @param verdict      "ok", "missing", "rows differ", "present" (no usable statistics), "no data in dump"
     */
    record TableCheck(String schema, String table, long expectedRows, boolean exact, Long restoredRows, String verdict) {}

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
     * Whether a listed backup has a drill record that vouches for it (outcome passed, same dump). Reads the
     * manifest and the record; a missing, unreadable or failed record vouches for nothing.
     */
    static boolean vouchedFor(software.amazon.awssdk.services.s3.S3Client s3, String bucket, BackupListing.Entry entry) {
        if (!entry.complete() || entry.verify() == null) return false;
        Manifest manifest;
        try {
            manifest = BackupListing.readManifest(s3, bucket, entry.key());
        } catch (Failure | software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return false;
        }
        VerifyRecord record = read(s3, bucket, entry.key());
        return record != null && record.vouchesFor(manifest);
    }
}
