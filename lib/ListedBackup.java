import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import software.amazon.awssdk.services.s3.S3Client;

/** One backup as 'restore list' shows it: its listing entry, what its manifest (without table statistics) and drill record say. */
record ListedBackup(BackupListing.Entry entry, Manifest manifest, VerifyRecord drill) {
    /** The columns of {@link #cells}. */
    static final String[] HEADER = {"STARTED (UTC)", "NAME", "HOST", "SIZE", "PG_DUMP", "SERVER", "DRILL", "STATUS", "KEY"};

    /** Each entry with its drill record; records are small objects: fetched a few at a time. */
    static List<ListedBackup> read(S3Client s3, String bucket, List<BackupListing.Entry> entries) {
        List<Callable<ListedBackup>> reads = new ArrayList<>();
        for (BackupListing.Entry e : entries) reads.add(() -> of(s3, bucket, e));
        return Threads.all(8, "drill-records", "reading drill records", reads);
    }

    private static ListedBackup of(S3Client s3, String bucket, BackupListing.Entry e) {
        VerifyRecord drill = e.verified() ? VerifyRecord.read(s3, bucket, e.key()) : null;
        return new ListedBackup(e, e.status().manifest(), drill);
    }

    /** The source's host: the identity backup recorded, else the host the URL named (older manifests). */
    static String host(Manifest m) {
        if (m == null) return null;
        if (m.source() != null && m.source().host() != null) return m.source().host();
        return m.host();
    }

    /** The row of the human table, in the order of {@link #HEADER}. */
    String[] cells() {
        Manifest m = manifest;
        BackupListing.Entry e = entry;
        String status;
        if (e.incomplete()) status = "INCOMPLETE (no manifest)";
        else if (!e.complete()) status = "NOT COMPLETE: " + e.status().describe();
        else if (m.encryption() != null) status = "complete, encrypted (" + m.encryption().scheme() + ")";
        else status = "complete";
        if (m != null && m.directory()) status += ", directory format (" + m.objects().size() + " objects)";
        Long size = m != null ? Long.valueOf(m.sizeBytes()) : e.dump() != null ? e.dump().size() : null;
        return new String[] {Iso.iso(e.key().startedAt()), e.key().name(), host(m) == null ? "-" : host(m),
                size == null ? "-" : Progress.size(size),
                m == null || m.pgDumpVersion() == null ? "-" : m.pgDumpVersion(),
                m == null || m.serverVersion() == null ? "-" : m.serverVersion().strip().split("\\s+")[0],
                drillCell(), status, e.dump() != null ? e.dump().key() : e.manifest() == null ? e.key().dumpKey() : e.key().manifestKey()};
    }

    /** A drill record counts only next to a complete backup, and only for its dump. */
    private String drillCell() {
        VerifyRecord d = drill;
        if (d == null) return entry.verified() ? "unreadable" : "-";
        String day = d.finishedAt() == null ? "" : " " + d.finishedAt().substring(0, Math.min(10, d.finishedAt().length()));
        if (!entry.complete()) return (d.passed() ? "passed (not counted)" : "FAILED") + day;
        if (d.vouchesFor(manifest)) return "passed" + day;
        return (d.passed() ? "passed (other dump)" : "FAILED") + day;
    }

    /** The backup's object in the --json document's "backups". */
    Map<String, Object> json() {
        Manifest m = manifest;
        BackupListing.Entry e = entry;
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("name", e.key().name());
        b.put("startedAt", Iso.iso(e.key().startedAt()));
        b.put("complete", e.complete());
        b.put("status", e.status().state().name().toLowerCase(Locale.ROOT));
        b.put("reason", e.complete() ? null : e.status().describe());
        b.put("host", host(m));
        b.put("dumpKey", e.dump() != null ? e.dump().key() : m != null && m.directory() ? e.key().objectsPrefix() : e.key().dumpKey());
        b.put("format", m == null ? null : m.format()); // "custom", or "directory" (backup --parallel: dumpKey is the objects' prefix)
        b.put("dumpPresent", e.dump() != null);
        b.put("manifestKey", e.manifest() != null ? e.key().manifestKey() : null);
        b.put("sizeBytes", m != null ? Long.valueOf(m.sizeBytes()) : e.dump() != null ? e.dump().size() : null);
        b.put("sha256", m == null ? null : m.sha256());
        b.put("database", m == null ? null : m.database());
        b.put("pgDumpVersion", m == null ? null : m.pgDumpVersion());
        b.put("serverVersion", m == null ? null : m.serverVersion());
        b.put("encrypted", m != null && m.encryption() != null);
        b.put("encryption", m == null || m.encryption() == null ? null : m.encryption().scheme());
        b.put("recipients", m == null || m.encryption() == null ? null : m.encryption().recipients());
        VerifyRecord d = drill;
        if (d == null) {
            b.put("drill", null);
        } else {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("outcome", d.outcome());
            record.put("finishedAt", d.finishedAt());
            record.put("vouches", e.complete() && d.vouchesFor(m));
            record.put("reasons", d.reasons());
            b.put("drill", record);
        }
        b.put("verified", e.complete() && d != null && d.vouchesFor(m));
        b.put("problem", e.complete() ? null : e.status().describe());
        return b;
    }
}
