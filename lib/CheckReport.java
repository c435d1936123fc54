import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code restore check} found, in the forms people and machines read: a table for humans ({@link TextTable}),
 * one line per problem saying what to do, the GitHub step summary ({@link Markdown}), GitHub annotations, and the
 * --json document's fields ({@link JsonDocument}). Rendering only: the verdicts are {@link BackupHealth}'s.
 */
record CheckReport(String bucket, String prefix, Instant checkedAt, double seconds, BackupHealth.Thresholds thresholds,
                   List<BackupHealth> healths, List<Pings.Result> pings, Webhook.Result webhook, List<String> outputErrors, String uploadsNote) {

    String where() { return "s3://" + bucket + "/" + prefix + "/"; }

    List<BackupHealth.Problem> problems() {
        List<BackupHealth.Problem> all = new ArrayList<>();
        for (BackupHealth h : healths) all.addAll(h.problems());
        return all;
    }

    boolean allOk() { return healths.stream().allMatch(BackupHealth::ok); }

    /** "3 names: 1 ok, 1 stale, 1 missing" (verdicts that occur, gravest last). */
    String counts() {
        StringBuilder sb = new StringBuilder();
        sb.append(healths.size()).append(healths.size() == 1 ? " name" : " names");
        String sep = ": ";
        for (BackupHealth.Verdict v : BackupHealth.Verdict.values()) {
            long n = healths.stream().filter(h -> h.verdict() == v).count();
            if (n > 0) {
                sb.append(sep).append(n).append(' ').append(v.label());
                sep = ", ";
            }
        }
        return sb.toString();
    }

    TextTable table() {
        TextTable t = new TextTable("NAME", "VERDICT", "NEWEST (UTC)", "AGE", "DRILLED", "SIZE", "VS MEDIAN").right("AGE", "DRILLED", "SIZE", "VS MEDIAN");
        for (BackupHealth h : healths) {
            t.row(h.name(), h.verdict().label(), h.newest() == null ? null : h.newest().startedAt().toString(),
                    h.newest() == null ? null : age(h.newest()),
                    h.verified() == null ? (h.newest() == null ? null : "never") : age(h.verified()) + " ago",
                    h.newest() == null ? null : Progress.size(h.newest().sizeBytes()), change(h));
        }
        return t;
    }

    private String age(BackupHealth.Backup b) { return Durations.human(Duration.between(b.startedAt(), checkedAt)); }

    private static String change(BackupHealth h) {
        Double c = h.sizeChange();
        if (c == null) return null;
        return (c >= 0 ? "+" : "-") + BackupHealth.percent(Math.abs(c));
    }

    String markdown() {
        Markdown md = new Markdown().heading("restore check: " + where());
        md.line((allOk() ? "All backups fresh and proven: " : "PROBLEMS: ") + counts() + ", checked " + checkedAt + ".");
        Markdown.Table t = md.table("llllrrr", "name", "verdict", "newest (UTC)", "age", "drilled", "size", "vs median");
        for (BackupHealth h : healths) {
            t.row(new Markdown.Raw(Markdown.code(h.name())), h.ok() ? "ok" : new Markdown.Raw("**" + h.verdict().label() + "**"),
                    h.newest() == null ? null : h.newest().startedAt().toString(), h.newest() == null ? null : age(h.newest()),
                    h.verified() == null ? (h.newest() == null ? null : "never") : age(h.verified()) + " ago",
                    h.newest() == null ? null : Progress.size(h.newest().sizeBytes()), change(h));
        }
        t.end();
        for (BackupHealth.Problem p : problems()) md.line("- " + p.verdict().label() + ": " + p.message());
        for (Pings.Result r : pings) if (!r.ok()) md.line("- notification: " + r.describe());
        if (webhook != null && !webhook.ok()) md.line("- notification: " + webhook.describe());
        for (String e : outputErrors) md.line("- output: " + e);
        if (uploadsNote != null) md.line("- note: " + uploadsNote);
        return md.toString();
    }

    /** Annotations for a GitHub Actions run: an error per problem, a warning per failed notification or output. */
    List<String> annotations() {
        List<String> out = new ArrayList<>();
        for (BackupHealth.Problem p : problems()) out.add(GitHubAnnotations.error("backup " + p.verdict().label(), p.message()));
        for (Pings.Result r : pings) if (!r.ok()) out.add(GitHubAnnotations.warning("ping failed", r.describe()));
        if (webhook != null && !webhook.ok()) out.add(GitHubAnnotations.warning("webhook failed", webhook.describe()));
        for (String e : outputErrors) out.add(GitHubAnnotations.error("output failed", e));
        return out;
    }

    /** The --json fields after the envelope. */
    Map<String, Object> json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("bucket", bucket);
        doc.put("prefix", prefix);
        doc.put("checkedAt", checkedAt.toString());
        doc.put("seconds", seconds);
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("maxAge", thresholds.maxAge().toString());
        limits.put("maxUnverifiedAge", thresholds.maxUnverifiedAge() == null ? null : thresholds.maxUnverifiedAge().toString());
        limits.put("maxShrink", thresholds.maxShrink());
        limits.put("maxIncompleteAge", thresholds.maxIncompleteAge().toString());
        doc.put("thresholds", limits);
        Map<String, Object> counts = new LinkedHashMap<>();
        for (BackupHealth.Verdict v : BackupHealth.Verdict.values()) counts.put(v.label(), healths.stream().filter(h -> h.verdict() == v).count());
        doc.put("verdicts", counts);
        List<Object> names = new ArrayList<>();
        for (BackupHealth h : healths) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("name", h.name());
            n.put("verdict", h.verdict().label());
            n.put("known", h.known());
            n.put("newest", backup(h.newest()));
            n.put("verified", backup(h.verified()));
            n.put("medianSizeBytes", h.medianBytes());
            n.put("medianOf", h.compared());
            n.put("sizeChange", h.sizeChange());
            n.put("completeBackups", h.complete());
            n.put("leftovers", h.leftovers());
            n.put("notComplete", h.notComplete());
            n.put("cutOffUploads", h.cutOff());
            List<Object> problems = new ArrayList<>();
            for (BackupHealth.Problem p : h.problems()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("verdict", p.verdict().label());
                m.put("message", p.message());
                problems.add(m);
            }
            n.put("problems", problems);
            names.add(n);
        }
        doc.put("names", names);
        List<Object> pingDocs = new ArrayList<>();
        for (Pings.Result r : pings) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", r.name());
            p.put("to", r.where());
            p.put("signal", r.fail() ? "fail" : "success");
            p.put("ok", r.ok());
            p.put("status", r.status());
            p.put("error", r.error());
            pingDocs.add(p);
        }
        doc.put("pings", pingDocs);
        if (webhook == null) {
            doc.put("webhook", null);
        } else {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("to", webhook.where());
            w.put("ok", webhook.ok());
            w.put("status", webhook.status());
            w.put("error", webhook.error());
            doc.put("webhook", w);
        }
        doc.put("outputErrors", outputErrors);
        doc.put("uploadsNote", uploadsNote);
        return doc;
    }

    private Map<String, Object> backup(BackupHealth.Backup b) {
        if (b == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", b.key());
        m.put("startedAt", b.startedAt().toString());
        m.put("ageSeconds", Duration.between(b.startedAt(), checkedAt).getSeconds());
        m.put("sizeBytes", b.sizeBytes());
        return m;
    }
}
