import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code restore check}: the watchdog. Reads the bucket (list and get only) and says, per backup name, whether it has a
 * fresh complete backup, a recent one proven by a drill, a plausible size, and no leftovers; through every output an
 * operator may watch. Separate from the backup job on purpose: a job that did not run cannot report that it did not.
 * The verdicts are {@link BackupHealth}'s, the reading {@link BackupCheck}'s, the rendering {@link CheckReport}'s.
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Check that every backup name under the prefix has a fresh, complete backup proven restorable by a recent drill, and tell"
                + " someone when not: exit 1 with one line per problem saying what to do.",
            "Per name: the age of the newest complete backup (stale beyond --max-age), of the newest one a restore drill passed for (unverified"
                + " beyond --max-unverified-age, or when its newest drill failed), its size against the median of the " + BackupHealth.SIZE_WINDOW
                + " before it (anomaly below --max-shrink), dumps left without a manifest and uploads never completed (anomaly beyond"
                + " --max-incomplete-age) and backups that are not complete (anomaly). A name that is expected (--expect, --names-file) or remembered (--state) but has no complete backup is missing.",
            "Reads only (list and get): the restorer role setup-aws creates, or any role that may read the backups, is enough (without"
                + " s3:ListBucketMultipartUploads, uploads are not looked at, and a note says so). Docs: docs/watchdog.md.",
            "Outputs: a table, --json, the GitHub step summary and annotations, a Prometheus textfile (--prometheus), pings (--ping-url) and a"
                + " webhook on problems (--webhook-url). A failed ping or webhook is reported and never changes the verdict.",
            "Exit 0: every name ok; 1: any problem; 69/77: the bucket could not be read; 78: an output file could not be written.", ""})
class CheckCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--max-age", paramLabel = "DURATION", defaultValue = "${env:WATCH_MAX_AGE:-26h}",
            description = "The newest complete backup may be this old (env WATCH_MAX_AGE; default ${DEFAULT-VALUE}: a nightly backup, with room for a late run).")
    String maxAge;

    @Option(names = "--max-unverified-age", paramLabel = "DURATION|off", defaultValue = "${env:WATCH_MAX_UNVERIFIED_AGE:-8d}",
            description = "The newest backup a restore drill passed for may be this old (env WATCH_MAX_UNVERIFIED_AGE; default ${DEFAULT-VALUE}; off: drills are not required).")
    String maxUnverifiedAge;

    @Option(names = "--max-shrink", paramLabel = "PERCENT|off", defaultValue = "${env:WATCH_MAX_SHRINK:-50%}",
            description = "The newest backup may be this much smaller than the median of the " + BackupHealth.SIZE_WINDOW
                    + " before it (env WATCH_MAX_SHRINK; default ${DEFAULT-VALUE}; off: sizes are not compared).")
    String maxShrink;

    @Option(names = "--max-incomplete-age", paramLabel = "DURATION", defaultValue = "${env:WATCH_MAX_INCOMPLETE_AGE:-24h}",
            description = "A dump without a manifest, or an upload never completed (a backup still running, or one that failed) may be this old (env WATCH_MAX_INCOMPLETE_AGE; default ${DEFAULT-VALUE}).")
    String maxIncompleteAge;

    @Option(names = "--expect", paramLabel = "NAME", defaultValue = "${env:WATCH_EXPECT}",
            description = "A backup name that must have backups, even if none is under the prefix (repeatable, or comma/space-separated; env WATCH_EXPECT).")
    List<String> expect;

    @Option(names = "--names-file", paramLabel = "FILE", defaultValue = "${env:WATCH_NAMES_FILE}",
            description = "The backup names that must have backups, one per line ('#' comments; env WATCH_NAMES_FILE).")
    Path namesFile;

    @Option(names = "--ignore", paramLabel = "NAME", defaultValue = "${env:WATCH_IGNORE}",
            description = "A backup name not to check (a database retired on purpose); also forgotten by --state (repeatable; env WATCH_IGNORE).")
    List<String> ignore;

    @Option(names = "--state", paramLabel = "FILE", defaultValue = "${env:WATCH_STATE_FILE}",
            description = "A local file in which the check remembers every name it has seen with a complete backup, so that a name whose backups"
                    + " are all gone is reported missing (env WATCH_STATE_FILE). Replaced atomically; one per bucket and prefix.")
    Path stateFile;

    @Option(names = "--prometheus", paramLabel = "FILE", defaultValue = "${env:WATCH_PROMETHEUS_FILE}",
            description = "Write the findings as a Prometheus textfile (e.g. for node_exporter's textfile collector: a *.prom file in its directory),"
                    + " replaced atomically (env WATCH_PROMETHEUS_FILE).")
    Path prometheus;

    @Option(names = "--ping-url", paramLabel = "URL", defaultValue = "${env:WATCH_PING_URL}",
            description = "Ping this URL when all is well, URL/fail when not (healthchecks.io style). With {name} in it, once per backup name;"
                    + " without, once for the whole check (repeatable; env WATCH_PING_URL, space-separated). Keep it out of argv: it is a key.")
    List<String> pingUrls;

    @Option(names = "--webhook-url", paramLabel = "URL", defaultValue = "${env:WATCH_WEBHOOK_URL}",
            description = "On problems only, POST JSON with a Slack-compatible 'text' to this URL (env WATCH_WEBHOOK_URL: better there, it is a secret).")
    String webhookUrl;

    @Option(names = "--ping-timeout", paramLabel = "DURATION", defaultValue = "${env:WATCH_PING_TIMEOUT:-10s}",
            description = "How long each ping or webhook may take (env WATCH_PING_TIMEOUT; default ${DEFAULT-VALUE}).")
    String pingTimeout;

    @Mixin RestoreCommonOptions common = new RestoreCommonOptions();

    @Override
    public Integer call() {
        common.begin(spec);
        String bucket = common.bucket(), prefix = common.prefix();
        BackupHealth.Thresholds thresholds = BackupHealth.Thresholds.parse(maxAge, maxUnverifiedAge, maxShrink, maxIncompleteAge);
        Set<String> expected = WatchedNames.given(expect, namesFile);
        Set<String> ignored = WatchedNames.given(ignore, null);
        List<String> templates = words(pingUrls);
        Pings.check(templates);
        URI webhook = webhookUrl == null || webhookUrl.isBlank() ? null : HttpPost.url("--webhook-url", webhookUrl);
        Duration timeout = Durations.parse("--ping-timeout", pingTimeout);
        if (timeout.isZero() || timeout.compareTo(Duration.ofMinutes(5)) > 0) throw Failure.usage("--ping-timeout must be between 1s and 5m, not " + pingTimeout);
        WatchedNames.State state = stateFile == null ? null : WatchedNames.read(stateFile, bucket, prefix);

        Stopwatch took = Stopwatch.start();
        Instant now = Instant.now();
        BackupCheck.Result found;
        try (S3Client s3 = common.s3()) {
            found = BackupCheck.run(s3, bucket, prefix, expected, state == null ? List.of() : WatchedNames.remembered(state), ignored, thresholds, now);
        } catch (RuntimeException e) {
            // The check could not judge: say so where someone is listening, then fail with the fault's own exit code.
            Failure f = Errors.classify(e);
            notifyFailure(templates, webhook, bucket, prefix, f.getMessage(), now, timeout);
            throw f;
        }
        List<BackupHealth> healths = found.healths();
        if (healths.isEmpty()) {
            String message = "no backups under s3://" + bucket + "/" + prefix + "/ and no names expected: a wrong bucket or prefix? (--expect or --names-file"
                    + " name the databases that must have backups)";
            notifyFailure(templates, webhook, bucket, prefix, message, now, timeout);
            throw new Failure(Exit.FAILED, message);
        }

        List<String> outputErrors = new ArrayList<>();
        Duration elapsed = Duration.ofMillis(Math.round(took.seconds() * 1000));
        if (prometheus != null) {
            try {
                PrometheusTextfile.write(prometheus, PrometheusTextfile.render(bucket, prefix, healths, now, elapsed));
            } catch (Failure f) {
                outputErrors.add(f.getMessage());
            }
        }
        if (state != null) {
            try {
                WatchedNames.write(stateFile, WatchedNames.next(state, healths, ignored, now));
            } catch (Failure f) {
                outputErrors.add(f.getMessage());
            }
        }
        List<Pings.Result> pinged = templates.isEmpty() ? List.of() : Pings.send(templates, healths, timeout);
        boolean problems = healths.stream().anyMatch(h -> !h.ok());
        Webhook.Result hooked = webhook != null && problems ? Webhook.send(webhook, bucket, prefix, healths, now, timeout) : null;

        CheckReport report = new CheckReport(bucket, prefix, now, took.rounded(), thresholds, healths, pinged, hooked, outputErrors, found.uploadsNote());
        int exit = problems ? Exit.FAILED : outputErrors.isEmpty() ? Exit.OK : Exit.CONFIG;
        print(report, exit);
        return exit;
    }

    private void print(CheckReport report, int exit) {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        // Workflow commands on stdout, where the runner reads them, unless stdout is the JSON document's alone.
        if (GitHubAnnotations.active()) for (String a : report.annotations()) (common.json() ? err : out).println(a);
        if (common.json()) JsonDocument.of(exit).putAll(report.json()).print(out);
        else out.print(report.table().render());
        out.flush();
        for (BackupHealth.Problem p : report.problems()) err.println(p.verdict().label() + ": " + p.message());
        for (Pings.Result r : report.pings()) if (!r.ok()) err.println("warning: " + r.describe() + " (the verdict stands)");
        if (report.webhook() != null && !report.webhook().ok()) err.println("warning: " + report.webhook().describe() + " (the verdict stands)");
        if (report.uploadsNote() != null) err.println("note: " + report.uploadsNote());
        for (String e : report.outputErrors()) err.println("error: " + e);
        err.println("restore check: " + report.where() + ": " + report.counts() + (report.allOk() ? "" : ": PROBLEMS (see above)"));
        err.flush();
        StepSummary.append(report.markdown());
    }

    /** When no verdict could be reached: whole-check pings get /fail, the webhook the reason; per-name pings have nothing to say. */
    private void notifyFailure(List<String> templates, URI webhook, String bucket, String prefix, String message, Instant now, Duration timeout) {
        PrintWriter err = spec.commandLine().getErr();
        for (Pings.Result r : Pings.sendFailure(templates, message, timeout)) if (!r.ok()) err.println("warning: " + r.describe());
        if (webhook != null) {
            Webhook.Result r = Webhook.sendFailure(webhook, bucket, prefix, message, now, timeout);
            if (!r.ok()) err.println("warning: " + r.describe());
        }
        err.flush();
    }

    /** Option values that may each hold several space-separated words (an environment variable's list). */
    private static List<String> words(List<String> values) {
        List<String> out = new ArrayList<>();
        if (values != null) for (String v : values) if (v != null) for (String w : v.strip().split("\\s+")) if (!w.isEmpty()) out.add(w);
        return out;
    }
}
