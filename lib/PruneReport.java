import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * prune's plan and, after a run, what happened: human text, one JSON document (the {@link JsonDocument} envelope,
 * then prune's fields), the GitHub step summary; and what the run comes to ({@link #failure}).
 */
final class PruneReport {
    final String bucket, prefix;
    final PruneSettings settings;
    final Instant now;
    final boolean dryRun;
    final List<PrunePlan> plans;
    final List<StaleUpload> uploads;
    /** Set once the plan was carried out (never with --dry-run or a refused plan). */
    BackupDeleter deleter;
    /** Why nothing was deleted at all (--max-delete), or null. */
    String refused;
    /** Why multipart uploads were not checked, or null. */
    String uploadsNote;

    PruneReport(String bucket, String prefix, PruneSettings settings, Instant now, boolean dryRun, List<PrunePlan> plans, List<StaleUpload> uploads) {
        this.bucket = bucket;
        this.prefix = prefix;
        this.settings = settings;
        this.now = now;
        this.dryRun = dryRun;
        this.plans = plans;
        this.uploads = uploads;
    }

    /**
     * What the run comes to: null when all went well, else the failure to exit with. Failures first (77 when every one
     * was a permission problem), then names held by --max-age (1); locked objects are reported, not failures.
     */
    Failure failure() {
        List<String> problems = new ArrayList<>();
        int exit = Exit.OK;
        if (deleter != null && deleter.failureCount() > 0) {
            problems.add(deleter.failureCount() + " object(s) could not be deleted (first: " + deleter.firstFailure() + ")");
            exit = deleter.failureExitCode();
        }
        List<String> stale = plans.stream().filter(p -> p.held() != null).map(p -> p.name() + ": " + p.held()).toList();
        if (!stale.isEmpty()) {
            problems.add("backups have been failing, so nothing was deleted for " + String.join("; ", stale));
            if (exit == Exit.OK) exit = Exit.FAILED;
        }
        return problems.isEmpty() ? null : new Failure(exit, String.join("; ", problems));
    }

    /**
     * The report on {@code out} (text, or with --json the document, and then one line per name on {@code err} for the
     * operator), and the step summary. {@code failure} is what the run exits with (null: 0).
     */
    void print(PrintWriter out, PrintWriter err, boolean json, Failure failure) {
        if (json) {
            JsonDocument doc = JsonDocument.of(failure == null ? Exit.OK : failure.exitCode).putAll(document());
            if (failure != null) doc.error(failure.getMessage());
            doc.print(out);
            for (PrunePlan p : plans) err.println(headline(p));
            err.flush();
        } else {
            out.print(text());
            out.flush();
        }
        StepSummary.append(markdown());
    }

    /** How a report names a backup that is not complete: "incomplete (no manifest)", "phantom (...)", "not complete (...)". */
    static String notCompleteLabel(BackupListing.Entry e) {
        if (e.incomplete()) return "incomplete (no manifest)";
        if (PrunePlanner.phantom(e)) return "phantom (" + e.status().describe() + ")";
        return "not complete (" + e.status().describe() + ")";
    }

    /** What happened (or is planned) to a backup or key, as one word. */
    private String outcomeOf(BackupListing.Entry e) {
        if (refused != null) return "refused";
        if (deleter == null) return "planned";
        return deleter.backupOutcome(e);
    }

    private String uploadOutcome(StaleUpload u) {
        if (refused != null) return "refused";
        if (deleter == null) return "planned";
        BackupDeleter.KeyResult r = deleter.uploadResults.get(u.uploadId());
        return r == null ? "skipped" : r.outcome() == BackupDeleter.Outcome.DELETED ? "aborted" : r.outcome().name().toLowerCase(Locale.ROOT);
    }

    private BackupDeleter.KeyResult uploadFailure(StaleUpload u) {
        BackupDeleter.KeyResult r = deleter == null ? null : deleter.uploadResults.get(u.uploadId());
        return r != null && r.outcome() == BackupDeleter.Outcome.FAILED ? r : null;
    }

    private String verb() { return refused != null ? "refused" : deleter == null ? "to delete" : "deleted"; }

    String headline(PrunePlan p) {
        StringBuilder sb = new StringBuilder(p.name()).append(": ");
        int total = p.keep().size() + p.delete().size();
        sb.append(total).append(" complete backup").append(total == 1 ? "" : "s").append(", ").append(p.keep().size()).append(" kept, ");
        if (deleter == null) sb.append(p.delete().size()).append(" ").append(verb());
        else {
            long done = p.delete().stream().filter(d -> deleter.backupOutcome(d.entry()).equals("deleted")).count();
            sb.append(done).append(" deleted");
            if (done < p.delete().size()) sb.append(" (").append(p.delete().size() - done).append(" not: see below)");
        }
        if (!p.removeIncomplete().isEmpty()) {
            sb.append("; ");
            if (deleter == null) sb.append(p.removeIncomplete().size()).append(" incomplete to remove");
            else {
                long done = p.removeIncomplete().stream().filter(e -> deleter.backupOutcome(e).equals("deleted")).count();
                sb.append(done).append(" incomplete removed");
                if (done < p.removeIncomplete().size()) sb.append(" (").append(p.removeIncomplete().size() - done).append(" not: see below)");
            }
        }
        if (!p.waitIncomplete().isEmpty()) {
            sb.append("; ").append(p.waitIncomplete().size()).append(" incomplete left (")
                    .append(p.held() != null ? "held" : "younger than --grace " + Durations.human(settings.grace())).append(")");
        }
        if (!p.notComplete().isEmpty()) {
            sb.append("; ").append(p.notComplete().size()).append(" not complete, left alone (see below)");
        }
        if (p.held() != null) sb.append("; HELD: ").append(p.held());
        return sb.toString();
    }

    String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(dryRun ? "Dry run (nothing is deleted): " : "").append("prune s3://").append(bucket).append('/').append(prefix).append("/\n");
        sb.append("policy: ").append(settings.policy().describe()).append("; min-keep ").append(settings.minKeep());
        if (settings.requireVerified()) sb.append(", require-verified");
        if (settings.maxAge() != null) sb.append(", max-age ").append(Durations.human(settings.maxAge()));
        sb.append("; grace ").append(Durations.human(settings.grace())).append("; timezone ").append(settings.zone().getId())
                .append("; now ").append(now).append('\n');
        if (plans.isEmpty()) sb.append("no backups under s3://").append(bucket).append('/').append(prefix).append("/\n");
        for (PrunePlan p : plans) {
            sb.append('\n').append(headline(p)).append('\n');
            // One line per backup, newest first: what happens to it (a word padded to 9), its time, why. Not a TextTable:
            // the keys that were not deleted follow their backup on lines of their own.
            List<Object[]> rows = new ArrayList<>(); // time, line
            for (PrunePlan.Decision d : p.keep()) rows.add(new Object[] {d.entry().key().startedAt(),
                    "  keep     " + d.entry().key().stamp() + "  " + String.join(", ", d.reasons()) + (d.entry().verified() ? "  (verified)" : "")});
            for (PrunePlan.Decision d : p.delete()) rows.add(new Object[] {d.entry().key().startedAt(),
                    "  " + pad(word(d.entry(), "delete", "deleted")) + d.entry().key().stamp() + detail(d.entry())});
            for (BackupListing.Entry e : p.removeIncomplete()) rows.add(new Object[] {e.key().startedAt(),
                    "  " + pad(word(e, "remove", "removed")) + e.key().stamp()
                            + "  " + notCompleteLabel(e) + ", " + Durations.human(Duration.between(e.key().startedAt(), now)) + " old" + detail(e)});
            for (BackupListing.Entry e : p.waitIncomplete()) rows.add(new Object[] {e.key().startedAt(),
                    "  leave    " + e.key().stamp() + "  " + notCompleteLabel(e) + ", " + (p.held() != null ? "held" : "younger than --grace")});
            for (BackupListing.Entry e : p.notComplete()) rows.add(new Object[] {e.key().startedAt(),
                    "  leave    " + e.key().stamp() + "  " + notCompleteLabel(e) + ": never deleted by prune; see restore list"});
            rows.sort(Comparator.comparing((Object[] r) -> (Instant) r[0]).reversed());
            for (Object[] r : rows) sb.append(r[1]).append('\n');
        }
        if (!uploads.isEmpty()) {
            sb.append("\nmultipart uploads older than --grace ").append(Durations.human(settings.grace())).append(":\n");
            for (StaleUpload u : uploads) {
                String o = uploadOutcome(u);
                sb.append("  ").append(pad(o.equals("planned") ? "abort" : o)).append(u.key()).append("  started ").append(u.initiated());
                BackupDeleter.KeyResult failed = uploadFailure(u);
                if (failed != null) sb.append("  ").append(BackupDeleter.describe(failed));
                sb.append('\n');
            }
        }
        if (uploadsNote != null) sb.append("\nnote: ").append(uploadsNote).append('\n');
        sb.append('\n').append(totals()).append('\n');
        if (deleter != null && deleter.count(BackupDeleter.Outcome.LOCKED) > 0) {
            sb.append("note: ").append(deleter.count(BackupDeleter.Outcome.LOCKED))
                    .append(" object(s) are protected by S3 Object Lock and stay until their retention ends; a later run deletes them.\n");
        }
        return sb.toString();
    }

    /** The keys of a backup that were not deleted, and why, each on a line of its own under the backup's time. */
    private String detail(BackupListing.Entry e) {
        if (deleter == null) return "";
        StringBuilder sb = new StringBuilder();
        for (S3Object o : BackupDeleter.objects(e)) {
            BackupDeleter.KeyResult r = deleter.results.get(o.key());
            if (r != null && r.outcome() != BackupDeleter.Outcome.DELETED) {
                sb.append("\n             ").append(r.outcome().name().toLowerCase(Locale.ROOT)).append(": ").append(o.key());
                String d = BackupDeleter.describe(r);
                if (!d.isEmpty()) sb.append(" (").append(d).append(')');
            }
        }
        return sb.toString();
    }

    private static String pad(String word) { return String.format("%-9s", word); }

    /** "delete" in a plan, "deleted" when done, else what happened ("locked", "failed", "skipped", "refused"). */
    private String word(BackupListing.Entry e, String planned, String done) {
        String o = outcomeOf(e);
        return o.equals("planned") ? planned : o.equals("deleted") ? done : o;
    }

    String totals() {
        int kept = plans.stream().mapToInt(p -> p.keep().size()).sum();
        int del = plans.stream().mapToInt(p -> p.delete().size()).sum();
        int inc = plans.stream().mapToInt(p -> p.removeIncomplete().size()).sum();
        if (refused != null) return "REFUSED: " + refused;
        if (deleter == null) {
            return (dryRun ? "dry run: would delete " : "plan: delete ") + del + " backup(s), keep " + kept + ", remove " + inc
                    + " incomplete, abort " + uploads.size() + " upload(s); nothing was changed";
        }
        long delDone = plans.stream().flatMap(p -> p.delete().stream()).filter(d -> outcomeOf(d.entry()).equals("deleted")).count();
        long incDone = plans.stream().flatMap(p -> p.removeIncomplete().stream()).filter(e -> outcomeOf(e).equals("deleted")).count();
        String s = "done: deleted " + delDone + " of " + del + " backup(s), removed " + incDone + " of " + inc + " incomplete, aborted "
                + uploads.stream().filter(u -> uploadOutcome(u).equals("aborted")).count() + " of " + uploads.size() + " upload(s) ("
                + deleter.count(BackupDeleter.Outcome.DELETED) + " objects deleted); kept " + kept;
        if (deleter.count(BackupDeleter.Outcome.LOCKED) > 0) s += "; " + deleter.count(BackupDeleter.Outcome.LOCKED) + " object(s) locked";
        if (deleter.failureCount() > 0) s += "; " + deleter.failureCount() + " failed";
        if (deleter.stopped != null) s += "; stopped early: " + deleter.stopped.getMessage();
        return s;
    }

    /** prune's own fields of the --json document (after the envelope's ok and exitCode). */
    Map<String, Object> document() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("bucket", bucket);
        doc.put("prefix", prefix);
        doc.put("dryRun", dryRun);
        doc.put("now", now.toString());
        Map<String, Object> policy = new LinkedHashMap<>();
        settings.policy().rules().forEach((option, n) -> policy.put(option.substring(2), n));
        policy.put("min-keep", settings.minKeep());
        policy.put("max-age", settings.maxAge() == null ? null : settings.maxAge().toString());
        policy.put("require-verified", settings.requireVerified());
        policy.put("grace", settings.grace().toString());
        policy.put("timezone", settings.zone().getId());
        doc.put("policy", policy);
        List<Object> names = new ArrayList<>();
        for (PrunePlan p : plans) {
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("name", p.name());
            n.put("newest", p.newest() == null ? null : p.newest().key().startedAt().toString());
            n.put("held", p.held());
            List<Object> kept = new ArrayList<>();
            for (PrunePlan.Decision d : p.keep()) {
                Map<String, Object> k = backup(d.entry());
                k.put("reasons", d.reasons());
                kept.add(k);
            }
            n.put("kept", kept);
            n.put("deleted", p.delete().stream().map(d -> withOutcome(d.entry())).toList());
            n.put("incompleteRemoved", p.removeIncomplete().stream().map(this::withOutcome).toList());
            n.put("incompleteLeft", p.waitIncomplete().stream().map(this::backup).toList());
            n.put("notCompleteLeft", p.notComplete().stream().map(this::backup).toList());
            names.add(n);
        }
        doc.put("names", names);
        List<Object> ups = new ArrayList<>();
        for (StaleUpload u : uploads) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", u.name());
            m.put("key", u.key());
            m.put("uploadId", u.uploadId());
            m.put("initiated", u.initiated().toString());
            m.put("outcome", uploadOutcome(u));
            BackupDeleter.KeyResult failed = uploadFailure(u);
            if (failed != null) m.put("error", BackupDeleter.describe(failed));
            ups.add(m);
        }
        doc.put("uploadsAborted", ups);
        doc.put("uploadsNote", uploadsNote);
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("kept", plans.stream().mapToInt(p -> p.keep().size()).sum());
        totals.put("deleted", plans.stream().mapToInt(p -> p.delete().size()).sum());
        totals.put("incompleteRemoved", plans.stream().mapToInt(p -> p.removeIncomplete().size()).sum());
        totals.put("uploadsAborted", uploads.size());
        if (deleter != null) {
            totals.put("objectsDeleted", deleter.count(BackupDeleter.Outcome.DELETED));
            totals.put("objectsLocked", deleter.count(BackupDeleter.Outcome.LOCKED));
            totals.put("failures", deleter.failureCount());
            totals.put("stopped", deleter.stopped == null ? null : deleter.stopped.getMessage());
        }
        doc.put("totals", totals);
        doc.put("refused", refused);
        return doc;
    }

    private Map<String, Object> backup(BackupListing.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("startedAt", e.key().startedAt().toString());
        m.put("status", e.status().state().name().toLowerCase(Locale.ROOT));
        if (!e.complete()) m.put("reason", e.status().describe());
        m.put("verified", e.verified());
        m.put("keys", BackupDeleter.objects(e).stream().map(S3Object::key).toList());
        return m;
    }

    private Map<String, Object> withOutcome(BackupListing.Entry e) {
        Map<String, Object> m = backup(e);
        m.put("outcome", outcomeOf(e));
        if (deleter != null) {
            List<Object> errors = new ArrayList<>();
            for (S3Object o : BackupDeleter.objects(e)) {
                BackupDeleter.KeyResult r = deleter.results.get(o.key());
                if (r != null && r.outcome() != BackupDeleter.Outcome.DELETED) {
                    Map<String, Object> err = new LinkedHashMap<>();
                    err.put("key", o.key());
                    err.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT));
                    err.put("code", r.code());
                    err.put("message", r.message());
                    errors.add(err);
                }
            }
            if (!errors.isEmpty()) m.put("errors", errors);
        }
        return m;
    }

    /** The GitHub step summary: the policy, one table row per name, the totals. */
    String markdown() {
        Markdown md = new Markdown().heading("prune " + (dryRun ? "(dry run) " : ""), new Markdown.Raw(Markdown.code("s3://" + bucket + "/" + prefix + "/")))
                .line("Policy: " + settings.policy().describe() + "; min-keep " + settings.minKeep());
        Markdown.Table table = md.table("lrrrll", "name", "kept", deleter == null ? "to delete" : "deleted", "incomplete removed", "newest", "note");
        for (PrunePlan p : plans) {
            List<String> notes = new ArrayList<>();
            if (p.held() != null) notes.add("**held:** " + p.held());
            if (!p.notComplete().isEmpty()) notes.add(p.notComplete().size() + " not complete (left alone: restore list says why)");
            if (deleter != null) {
                long locked = p.delete().stream().filter(d -> deleter.backupOutcome(d.entry()).equals("locked")).count();
                long failed = p.delete().stream().filter(d -> deleter.backupOutcome(d.entry()).equals("failed")).count();
                if (locked > 0) notes.add(locked + " locked");
                if (failed > 0) notes.add("**" + failed + " failed**");
            }
            table.row(p.name(), p.keep().size(), p.delete().size(), p.removeIncomplete().size(),
                    p.newest() == null ? "none" : p.newest().key().stamp(), String.join("; ", notes));
        }
        table.end();
        if (uploadsNote != null) md.line("Note: " + uploadsNote);
        return md.line(totals()).toString();
    }
}
