import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The check's findings in Prometheus' text exposition format, for node_exporter's textfile collector (or anything that
 * reads *.prom files): per backup name the age of the newest complete backup and of the newest drilled one, its size,
 * and its verdict as a labelled gauge (one series per verdict, 1 for the current one); and the time of the check
 * itself, so that a check that stopped running shows as a stale timestamp rather than as old good news.
 *
 * <p>The format's rules, kept here: one HELP and one TYPE line per metric, before its samples, each metric's samples
 * together; label values escaped (backslash, double quote, line feed), HELP text escaped (backslash, line feed); no
 * timestamps on samples (the textfile collector refuses files that have them); a final line feed. Ages are gauges
 * computed at the time of the check: alert on {@code time() - pgdump_s3_check_timestamp_seconds} as well.
 * A name without a complete (or drilled) backup has no age sample: its verdict says so.
 */
final class PrometheusTextfile {
    static final String NAMESPACE = "pgdump_s3";

    /** The file's text for one check. */
    static String render(String bucket, String prefix, List<BackupHealth> healths, Instant checkedAt, Duration took) {
        Map<String, String> where = new LinkedHashMap<>();
        where.put("bucket", bucket);
        where.put("prefix", prefix);
        StringBuilder sb = new StringBuilder();

        family(sb, "check_timestamp_seconds", "When restore check last read the bucket (Unix time); the ages below are as of then.");
        sample(sb, "check_timestamp_seconds", where, checkedAt.getEpochSecond());
        family(sb, "check_duration_seconds", "How long that check took.");
        sample(sb, "check_duration_seconds", where, took.toMillis() / 1000.0);
        family(sb, "check_names", "Backup names the check judged.");
        sample(sb, "check_names", where, healths.size());

        family(sb, "backup_newest_age_seconds", "Age of the newest complete backup (from the start of its dump), by backup name.");
        for (BackupHealth h : healths) {
            if (h.newest() != null) sample(sb, "backup_newest_age_seconds", name(where, h), seconds(h.newest().startedAt(), checkedAt));
        }
        family(sb, "backup_verified_age_seconds", "Age of the newest complete backup a restore drill passed for, by backup name.");
        for (BackupHealth h : healths) {
            if (h.verified() != null) sample(sb, "backup_verified_age_seconds", name(where, h), seconds(h.verified().startedAt(), checkedAt));
        }
        family(sb, "backup_size_bytes", "Size of the newest complete backup as stored, by backup name.");
        for (BackupHealth h : healths) {
            if (h.newest() != null) sample(sb, "backup_size_bytes", name(where, h), h.newest().sizeBytes());
        }
        family(sb, "backup_median_size_bytes", "Median size of the complete backups before the newest (up to " + BackupHealth.SIZE_WINDOW + "), by backup name.");
        for (BackupHealth h : healths) {
            if (h.medianBytes() != null) sample(sb, "backup_median_size_bytes", name(where, h), h.medianBytes());
        }
        family(sb, "backup_verdict", "The check's verdict per backup name: 1 for the current verdict, 0 for the others.");
        for (BackupHealth h : healths) {
            for (BackupHealth.Verdict v : BackupHealth.Verdict.values()) {
                Map<String, String> labels = name(where, h);
                labels.put("verdict", v.label());
                sample(sb, "backup_verdict", labels, h.verdict() == v ? 1 : 0);
            }
        }
        family(sb, "backup_problems", "Problems found per backup name (0 when its verdict is ok).");
        for (BackupHealth h : healths) sample(sb, "backup_problems", name(where, h), h.problems().size());
        return sb.toString();
    }

    /** Writes the file atomically ({@link AtomicFile}); a failure is a configuration problem (78) naming the file. */
    static void write(Path file, String text) {
        try {
            AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot write the --prometheus file " + file + ": " + e.getMessage());
        }
    }

    private static Map<String, String> name(Map<String, String> where, BackupHealth h) {
        Map<String, String> labels = new LinkedHashMap<>(where);
        labels.put("name", h.name());
        return labels;
    }

    private static double seconds(Instant from, Instant to) { return Duration.between(from, to).getSeconds(); }

    private static void family(StringBuilder sb, String metric, String help) {
        sb.append("# HELP ").append(NAMESPACE).append('_').append(metric).append(' ').append(escapeHelp(help)).append('\n');
        sb.append("# TYPE ").append(NAMESPACE).append('_').append(metric).append(" gauge\n");
    }

    private static void sample(StringBuilder sb, String metric, Map<String, String> labels, double value) {
        sb.append(NAMESPACE).append('_').append(metric);
        List<String> pairs = new ArrayList<>();
        for (var e : labels.entrySet()) pairs.add(e.getKey() + "=\"" + escapeLabel(e.getValue()) + "\"");
        if (!pairs.isEmpty()) sb.append('{').append(String.join(",", pairs)).append('}');
        sb.append(' ').append(number(value)).append('\n');
    }

    /** Integers without a fraction ("3600", not "3600.0"); others as Java prints doubles, which Prometheus parses. */
    static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "+Inf" : "-Inf";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.valueOf((long) v);
        return String.format(Locale.ROOT, "%s", v);
    }

    /** A label value: backslash, double quote and line feed escaped, as the format requires. */
    static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** HELP text: backslash and line feed escaped. */
    static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    private PrometheusTextfile() {}
}
