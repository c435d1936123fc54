import java.util.List;
import java.util.Locale;

/**
 * The end of a backup run, for each reader: its exit code (docs/architecture.md#exit-codes), a table on stderr,
 * Markdown for GitHub's job summary, and the --json document.
 */
record BackupReport(String bucket, String prefix, List<BackupResult> results) {
    long failed() { return results.stream().filter(r -> !r.ok()).count(); }

    /** 0 when all succeeded; one database: its own code; several: 1 when all failed, else 3 (partial). */
    int exitCode() {
        long failed = failed();
        if (failed == 0) return Exit.OK;
        if (results.size() == 1) return results.get(0).exitCode();
        return failed == results.size() ? Exit.FAILED : Exit.PARTIAL;
    }

    String table() {
        TextTable table = new TextTable("NAME", "SIZE", "TIME", "SPEED", "RESULT");
        for (BackupResult r : results) table.row((Object[]) cells(r));
        return table.render();
    }

    String markdown() {
        long ok = results.size() - failed();
        Markdown md = new Markdown().heading("pgdump-s3 backup: " + ok + " of " + results.size() + " databases backed up");
        Markdown.Table table = md.table("lrrrl", "name", "size", "time", "speed", "result");
        for (BackupResult r : results) {
            String[] c = cells(r);
            table.row(c[0], c[1], c[2], c[3], new Markdown.Raw(r.ok() ? Markdown.code(c[4]) : "❌ " + Markdown.escape(c[4])));
        }
        return table.end().toString();
    }

    /** ok, exitCode, then bucket, prefix, succeeded, failed, and a row per database. */
    JsonDocument json() {
        long failed = failed();
        return JsonDocument.of(exitCode()).put("bucket", bucket).put("prefix", prefix).put("succeeded", (int) (results.size() - failed))
                .put("failed", (int) failed).put("backups", results);
    }

    private String[] cells(BackupResult r) {
        String time = String.format(Locale.ROOT, "%.1f s", r.durationSeconds());
        if (!r.ok()) return new String[] {r.name(), "-", time, "-", "failed (exit " + r.exitCode() + "): " + r.error()};
        return new String[] {r.name(), Progress.size(r.sizeBytes()), time, Progress.size(r.bytesPerSecond()) + "/s", "s3://" + bucket + "/" + r.dumpKey()};
    }
}
