import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A generic webhook for problems only: one JSON POST whose {@code text} field is the message (what Slack, Mattermost,
 * Rocket.Chat and Discord's /slack endpoint show), and the findings in {@code pgdump_s3} for anything that wants
 * fields. Bounded by the timeout ({@link HttpPost}); a failure is reported and never changes the check's verdict.
 */
final class Webhook {
    /** @param where a description of the target (its host), never the URL */
    record Result(String where, Integer status, String error) {
        boolean ok() { return error == null && status != null && status >= 200 && status < 300; }

        String describe() { return "webhook to " + where + ": " + (error != null ? error : "HTTP " + status); }
    }

    static Result send(URI uri, String bucket, String prefix, List<BackupHealth> healths, Instant checkedAt, Duration timeout) {
        HttpPost.Outcome o = HttpPost.send(uri, "application/json", payload(bucket, prefix, healths, checkedAt).getBytes(StandardCharsets.UTF_8), timeout);
        return new Result(HttpPost.where(uri), o.status(), o.error());
    }

    /** When the check reached no verdict: the reason, so that silence is never mistaken for health. */
    static Result sendFailure(URI uri, String bucket, String prefix, String reason, Instant checkedAt, Duration timeout) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("bucket", bucket);
        details.put("prefix", prefix);
        details.put("checkedAt", checkedAt.toString());
        details.put("error", reason);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("text", "pgdump-s3: restore check could not check s3://" + bucket + "/" + prefix + "/: " + reason);
        doc.put("pgdump_s3", details);
        HttpPost.Outcome o = HttpPost.send(uri, "application/json", Json.write(doc).getBytes(StandardCharsets.UTF_8), timeout);
        return new Result(HttpPost.where(uri), o.status(), o.error());
    }

    static String payload(String bucket, String prefix, List<BackupHealth> healths, Instant checkedAt) {
        List<BackupHealth> bad = healths.stream().filter(h -> !h.ok()).toList();
        StringBuilder text = new StringBuilder();
        text.append("pgdump-s3: ").append(bad.size()).append(" of ").append(healths.size()).append(" backup name").append(healths.size() == 1 ? "" : "s")
                .append(" in s3://").append(bucket).append('/').append(prefix).append("/ need").append(bad.size() == 1 ? "s" : "").append(" attention");
        List<Object> names = new ArrayList<>();
        for (BackupHealth h : bad) {
            List<String> lines = new ArrayList<>();
            for (BackupHealth.Problem p : h.problems()) {
                text.append("\n• ").append(p.verdict().label()).append(": ").append(p.message());
                lines.add(p.message());
            }
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("name", h.name());
            n.put("verdict", h.verdict().label());
            n.put("problems", lines);
            names.add(n);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("bucket", bucket);
        details.put("prefix", prefix);
        details.put("checkedAt", checkedAt.toString());
        details.put("names", names);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("text", text.toString());
        doc.put("pgdump_s3", details);
        return Json.write(doc);
    }

    private Webhook() {}
}
