///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// Sources are UTF-8 whatever the locale (cron, systemd, containers with LANG unset or C would read them as ASCII).
//COMPILE_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS software.amazon.awssdk:bom:2.40.2@pom
//DEPS software.amazon.awssdk:s3
//DEPS software.amazon.awssdk:iam
//DEPS software.amazon.awssdk:sts
//DEPS software.amazon.awssdk:apache-client
//DEPS com.fasterxml.jackson.core:jackson-databind:2.21.3
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/ActionsAnnotator.java
//SOURCES lib/GitHubAnnotations.java
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/Markdown.java
//SOURCES lib/BackupKey.java
//SOURCES lib/Manifest.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StoreProfile.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/BackupStatus.java
//SOURCES lib/BackupListing.java
//SOURCES lib/Threads.java
//SOURCES lib/VerifyRecord.java
//SOURCES lib/Durations.java
//SOURCES lib/RetentionPolicy.java
//SOURCES lib/PruneSettings.java
//SOURCES lib/PrunePlan.java
//SOURCES lib/PrunePlanner.java
//SOURCES lib/StaleUpload.java
//SOURCES lib/BackupDeleter.java
//SOURCES lib/PruneReport.java

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * prune: apply a retention policy to the backups under a prefix, never losing the newest good ones.
 *
 * The story, top to bottom: read the options; list the prefix once (only keys that parse as ours, time from
 * the key) and judge every backup complete or not by its manifest ({@link BackupStatus}: only complete backups
 * count, anything else is reported and never costs a complete one); per NAME, let the retention rules vote
 * ({@link RetentionPolicy}, pure), then let the interlocks overrule them ({@link PrunePlanner}, pure); refuse the whole
 * run if it would delete more than --max-delete; unless --dry-run, delete in the order that keeps every intermediate
 * state complete or recognisably incomplete ({@link BackupDeleter}): all manifests first, then verify records, then
 * dumps; abort stale multipart uploads; report ({@link PruneReport}).
 */
@Command(name = "prune", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        subcommands = AutoComplete.GenerateCompletion.class,
        description = {
            "Delete backups that no retention rule keeps. A backup is kept if any rule keeps it (restic/borg semantics).",
            "Never deletes the newest complete backup of a name, never goes below --min-keep, and with --dry-run changes nothing.",
            "Only complete backups count (manifest valid, its own dump there with the manifest's size, not dated in the future).",
            "Incomplete backups (a dump without manifest), phantoms (a manifest without dump) and multipart uploads older than --grace"
                + " are removed too; a dump whose backup is not complete for another reason is left alone and reported.",
            "Objects under the prefix that are not ours are never touched."})
class Prune implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--name", paramLabel = "NAME", description = "Prune only this backup name (default: every name under the prefix).")
    String name;

    // A String, so that an empty RETENTION (an unset GitHub variable) means "not given" rather than a usage error.
    @Option(names = "--keep-days", paramLabel = "N", defaultValue = "${env:RETENTION}",
            description = "Keep every backup younger than N days (N x 24 h) from now (env RETENTION).")
    String keepDays;

    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest backups.")
    Integer keepLast;

    @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest backup in each of the N most recent hours that have one.")
    Integer keepHourly;

    @Option(names = "--keep-daily", paramLabel = "N", description = "Keep the newest backup in each of the N most recent days that have one.")
    Integer keepDaily;

    @Option(names = "--keep-weekly", paramLabel = "N", description = "Keep the newest backup in each of the N most recent ISO weeks (Monday to Sunday) that have one.")
    Integer keepWeekly;

    @Option(names = "--keep-monthly", paramLabel = "N", description = "Keep the newest backup in each of the N most recent months that have one.")
    Integer keepMonthly;

    @Option(names = "--keep-yearly", paramLabel = "N", description = "Keep the newest backup in each of the N most recent years that have one.")
    Integer keepYearly;

    @Option(names = "--timezone", paramLabel = "ZONE", defaultValue = "UTC",
            description = "Time zone in which hours, days, weeks, months and years begin, e.g. Europe/Berlin (default: ${DEFAULT-VALUE}).")
    String timezone;

    @Option(names = "--min-keep", paramLabel = "N", defaultValue = "1",
            description = "Never leave fewer than N complete backups of a name (default: ${DEFAULT-VALUE}; at least 1).")
    int minKeep;

    @Option(names = "--max-age", paramLabel = "DURATION",
            description = "If the newest complete backup of a name is older than this (e.g. 36h, 2d), delete nothing for it and exit 1: backups have been failing.")
    String maxAge;

    @Option(names = "--require-verified",
            description = "Only backups with a passed restore drill (.verify.json) protect older ones: keep the --min-keep newest verified backups and everything newer.")
    boolean requireVerified;

    @Option(names = "--max-delete", paramLabel = "N",
            description = "If the plan would delete more than N backups, delete nothing and exit 1.")
    Integer maxDelete;

    @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "24h",
            description = "Remove incomplete backups, phantoms and multipart uploads only once older than this, by the key's time and by S3's"
                    + " (e.g. 36h, 2d; default: ${DEFAULT-VALUE}; at least 12h: a backup still being written must never lose its dump).")
    String grace;

    /**
     * The least --grace: longer than any backup runs (GitHub-hosted jobs stop at 6 h, the template's at 5 h), so a
     * dump completed but not yet given its manifest, or an upload in progress, is never taken for a leftover. A
     * backup that outlives it anyway fails loudly: backup confirms its dump after writing the manifest.
     */
    static final Duration MIN_GRACE = Duration.ofHours(12);

    /** {@link #MIN_GRACE}, lowered only by tests (in-process) that must reap leftovers they just made. */
    Duration graceFloor = MIN_GRACE;

    @Option(names = "--dry-run", description = "Print the plan; delete nothing.")
    boolean dryRun;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    public static void main(String[] args) { Cli.main(new Prune(), args); }

    @Override
    public Integer call() {
        // 1. Options, all checked before any connection is made.
        storage.validate();
        PruneSettings settings = settings();
        String bucket = storage.bucket();
        String prefix = storage.prefix();
        String onlyName = name == null ? null : BackupKey.nameOption(name);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);

        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            // 2. One paginated listing; foreign keys are never in it.
            List<BackupListing.Entry> entries = BackupListing.list(s3, bucket, prefix, onlyName);
            List<StaleUpload> uploads;
            String uploadsNote = null;
            try {
                uploads = StaleUpload.list(s3, bucket, prefix, onlyName, now.minus(settings.grace()));
            } catch (AwsServiceException e) {
                // Not being allowed to list uploads must not stop retention: the bucket's lifecycle rule aborts them too.
                if (e.statusCode() != 403) throw e;
                uploads = List.of();
                uploadsNote = "multipart uploads not checked: " + Errors.fromAws(e).getMessage() + " (grant s3:ListBucketMultipartUploads and s3:AbortMultipartUpload to clean them up)";
                spec.commandLine().getErr().println("warning: " + uploadsNote);
            }

            // 3. The plan, per name: rules vote, interlocks overrule.
            Map<String, List<BackupListing.Entry>> byName = new LinkedHashMap<>();
            for (BackupListing.Entry e : entries) byName.computeIfAbsent(e.key().name(), k -> new ArrayList<>()).add(e);
            if (onlyName != null) byName.putIfAbsent(onlyName, new ArrayList<>());
            // With --require-verified only a drill record that says "passed" for this very dump counts; a record's
            // existence alone does not (a failed drill writes one too).
            Set<String> vouched = new HashSet<>();
            if (settings.requireVerified()) {
                for (BackupListing.Entry e : entries) if (VerifyRecord.vouchedFor(s3, bucket, e)) vouched.add(e.key().base());
            }
            List<PrunePlan> plans = new ArrayList<>();
            for (var e : byName.entrySet()) plans.add(PrunePlanner.plan(e.getKey(), e.getValue(), settings, now, entry -> vouched.contains(entry.key().base())));
            Set<String> held = new HashSet<>();
            for (PrunePlan p : plans) if (p.held() != null) held.add(p.name());
            uploads = uploads.stream().filter(u -> !held.contains(u.name())).toList(); // a held name keeps everything

            PruneReport report = new PruneReport(bucket, prefix, settings, now, dryRun, plans, uploads);
            report.uploadsNote = uploadsNote;

            // 4. The cap: a policy typo must not empty the bucket.
            int toDelete = plans.stream().mapToInt(p -> p.delete().size()).sum();
            if (maxDelete != null && toDelete > maxDelete) {
                report.refused = "the plan deletes " + toDelete + " backups, more than --max-delete " + maxDelete + ": nothing deleted";
                Failure refused = new Failure(Exit.FAILED, report.refused + " (check the policy, or raise --max-delete)");
                report.print(spec.commandLine().getOut(), spec.commandLine().getErr(), output.json, refused);
                throw refused;
            }

            // 5. Delete (unless --dry-run), in the crash-safe order.
            if (!dryRun) {
                report.deleter = new BackupDeleter(s3, bucket, storage.aws.store().batchDelete());
                report.deleter.run(plans, uploads);
            }

            // 6. Report, and exit: failures first, then stale names; locked objects are reported, not failures.
            Failure failure = report.failure();
            report.print(spec.commandLine().getOut(), spec.commandLine().getErr(), output.json, failure);
            if (failure != null) throw failure;
            return Exit.OK;
        }
    }

    /** The options as one checked value; every bad value is a usage error (64). */
    PruneSettings settings() {
        Integer days = null;
        if (keepDays != null && !keepDays.isBlank()) {
            try {
                days = Integer.valueOf(keepDays.strip());
            } catch (NumberFormatException e) {
                throw Failure.usage("--keep-days (or RETENTION) must be a whole number of days, not '" + keepDays + "'");
            }
        }
        RetentionPolicy policy = new RetentionPolicy(days, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly);
        if (policy.isEmpty()) {
            throw Failure.usage("no retention policy given: use at least one of --keep-days N (or RETENTION), --keep-last, "
                    + "--keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly");
        }
        policy.rules().forEach((option, n) -> { if (n < 0) throw Failure.usage(option + " must be 0 or more, not " + n); });
        if (minKeep < 1) throw Failure.usage("--min-keep must be 1 or more, not " + minKeep + " (the newest backup is never deleted)");
        if (maxDelete != null && maxDelete < 0) throw Failure.usage("--max-delete must be 0 or more, not " + maxDelete);
        ZoneId zone;
        try {
            zone = ZoneId.of(timezone.strip());
        } catch (DateTimeException e) {
            throw Failure.usage("unknown --timezone '" + timezone + "': use a region ID such as UTC, Europe/Berlin or America/New_York");
        }
        Duration maxAgeValue = maxAge == null ? null : Durations.parse("--max-age", maxAge);
        if (maxAgeValue != null && maxAgeValue.isZero()) throw Failure.usage("--max-age must be more than 0");
        Duration graceValue = Durations.parse("--grace", grace);
        if (graceValue.compareTo(graceFloor) < 0) {
            throw Failure.usage("--grace " + grace.strip() + " is below the least grace of " + Durations.human(graceFloor) + ": prune could delete the dump of a backup"
                    + " that is still being written; use --grace " + Durations.human(graceFloor) + " or more (leftovers wait a little longer, nothing else changes)");
        }
        return new PruneSettings(policy, zone, minKeep, maxAgeValue, requireVerified, graceValue);
    }
}
