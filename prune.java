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
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/BackupKey.java
//SOURCES lib/Manifest.java
//SOURCES lib/ConnInfo.java
//SOURCES lib/PgTools.java
//SOURCES lib/ChildEnvironment.java
//SOURCES lib/ServiceFile.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StoreProfile.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/Progress.java
//SOURCES lib/BackupStatus.java
//SOURCES lib/BackupListing.java
//SOURCES lib/VerifyRecord.java

import java.io.PrintWriter;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * prune: apply a retention policy to the backups under a prefix, never losing the newest good ones.
 *
 * The story, top to bottom: read the options; list the prefix once (only keys that parse as ours, time from
 * the key) and judge every backup complete or not by its manifest ({@link BackupStatus}: only complete backups
 * count, anything else is reported and never costs a complete one); per NAME, let the retention rules vote
 * ({@link Retention}, pure), then let the interlocks overrule them ({@link Planner}, pure); refuse the whole run if it would delete more than --max-delete; print the plan;
 * unless --dry-run, delete in the order that keeps every intermediate state complete or recognisably
 * incomplete ({@link Deleter}): all manifests first, then verify records, then dumps; abort stale multipart
 * uploads; report.
 */
@Command(name = "prune", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
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
        Settings settings = settings();
        String bucket = storage.bucket();
        String prefix = storage.prefix();
        String onlyName = name == null ? null : BackupKey.nameOption(name);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);

        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            // 2. One paginated listing; foreign keys are never in it.
            List<BackupListing.Entry> entries = BackupListing.list(s3, bucket, prefix, onlyName);
            List<Upload> uploads;
            String uploadsNote = null;
            try {
                uploads = staleUploads(s3, bucket, prefix, onlyName, now.minus(settings.grace()));
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
            List<NamePlan> plans = new ArrayList<>();
            for (var e : byName.entrySet()) plans.add(Planner.plan(e.getKey(), e.getValue(), settings, now, entry -> vouched.contains(entry.key().base())));
            Set<String> held = new HashSet<>();
            for (NamePlan p : plans) if (p.held() != null) held.add(p.name());
            uploads = uploads.stream().filter(u -> !held.contains(u.name())).toList(); // a held name keeps everything

            Report report = new Report(bucket, prefix, settings, now, dryRun, plans, uploads);
            report.uploadsNote = uploadsNote;

            // 4. The cap: a policy typo must not empty the bucket.
            int toDelete = plans.stream().mapToInt(p -> p.delete().size()).sum();
            if (maxDelete != null && toDelete > maxDelete) {
                report.refused = "the plan deletes " + toDelete + " backups, more than --max-delete " + maxDelete + ": nothing deleted";
                report.print(spec, output.json);
                throw new Failure(Exit.FAILED, report.refused + " (check the policy, or raise --max-delete)");
            }

            // 5. Delete (unless --dry-run), in the crash-safe order.
            if (!dryRun) {
                Deleter deleter = new Deleter(s3, bucket);
                deleter.run(plans, uploads);
                report.deleter = deleter;
            }
            report.print(spec, output.json);

            // 6. Exit code: failures first, then stale names; locked objects are reported, not failures.
            List<String> problems = new ArrayList<>();
            int exit = Exit.OK;
            if (report.deleter != null && report.deleter.failureCount() > 0) {
                problems.add(report.deleter.failureCount() + " object(s) could not be deleted (first: " + report.deleter.firstFailure() + ")");
                exit = report.deleter.failureExitCode();
            }
            List<String> stale = plans.stream().filter(p -> p.held() != null).map(p -> p.name() + ": " + p.held()).toList();
            if (!stale.isEmpty()) {
                problems.add("backups have been failing, so nothing was deleted for " + String.join("; ", stale));
                if (exit == Exit.OK) exit = Exit.FAILED;
            }
            if (!problems.isEmpty()) throw new Failure(exit, String.join("; ", problems));
            return Exit.OK;
        }
    }

    /** The options as one checked value; every bad value is a usage error (64). */
    Settings settings() {
        Integer days = null;
        if (keepDays != null && !keepDays.isBlank()) {
            try {
                days = Integer.valueOf(keepDays.strip());
            } catch (NumberFormatException e) {
                throw Failure.usage("--keep-days (or RETENTION) must be a whole number of days, not '" + keepDays + "'");
            }
        }
        Retention.Policy policy = new Retention.Policy(days, keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly);
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
        Duration maxAgeValue = maxAge == null ? null : parseDuration("--max-age", maxAge);
        if (maxAgeValue != null && maxAgeValue.isZero()) throw Failure.usage("--max-age must be more than 0");
        Duration graceValue = parseDuration("--grace", grace);
        if (graceValue.compareTo(graceFloor) < 0) {
            throw Failure.usage("--grace " + grace.strip() + " is below the least grace of " + human(graceFloor) + ": prune could delete the dump of a backup"
                    + " that is still being written; use --grace " + human(graceFloor) + " or more (leftovers wait a little longer, nothing else changes)");
        }
        return new Settings(policy, zone, minKeep, maxAgeValue, requireVerified, graceValue);
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(w|d|h|m|s)");

    /** The longest duration an option takes: longer is a typo (999999999d), and near Instant's range it overflows. */
    static final Duration MAX_DURATION = Duration.ofDays(36_500);

    /**
     * "24h", "90m", "2d", "1d12h", "0s" (or ISO-8601 "PT24H"), at most 100 years ({@link #MAX_DURATION}); negative,
     * unitless, too long or overflowing values are usage errors.
     */
    static Duration parseDuration(String option, String raw) {
        Duration d = parseDurationUnbounded(option, raw);
        if (d.compareTo(MAX_DURATION) > 0) {
            throw Failure.usage(option + " '" + raw + "' is more than 100 years (36500d): give a real duration, e.g. 30d or 26w");
        }
        return d;
    }

    private static Duration parseDurationUnbounded(String option, String raw) {
        String s = raw == null ? "" : raw.strip().toLowerCase(Locale.ROOT);
        String hint = option + " '" + raw + "' is not a duration: use e.g. 24h, 90m, 2d, 1d12h or 0s";
        if (s.startsWith("p")) {
            try {
                Duration d = Duration.parse(s.toUpperCase(Locale.ROOT));
                if (d.isNegative()) throw Failure.usage(option + " must not be negative, not " + raw);
                return d;
            } catch (DateTimeException e) {
                throw Failure.usage(hint);
            }
        }
        if (s.isEmpty() || !s.matches("(\\d+[wdhms])+")) throw Failure.usage(hint);
        Duration total = Duration.ZERO;
        Matcher m = DURATION.matcher(s);
        try {
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                total = total.plus(switch (m.group(2)) {
                    case "w" -> Duration.ofDays(Math.multiplyExact(n, 7));
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                });
            }
        } catch (ArithmeticException | NumberFormatException e) {
            throw Failure.usage(option + " '" + raw + "' is too large: at most 100 years (36500d)");
        }
        return total;
    }

    /** "3d 4h", "45m", "0s": ages for humans. */
    static String human(Duration d) {
        long s = Math.max(0, d.getSeconds());
        long days = s / 86_400, hours = s % 86_400 / 3600, minutes = s % 3600 / 60;
        if (days > 0) return days + "d" + (hours > 0 ? " " + hours + "h" : "");
        if (hours > 0) return hours + "h" + (minutes > 0 ? " " + minutes + "m" : "");
        if (minutes > 0) return minutes + "m";
        return s + "s";
    }

    /**
     * Multipart uploads under the prefix (or PREFIX/NAME/) whose key parses as ours and that were started before
     * {@code before}, by S3's {@code Initiated} and by the key's own time (either alone may be wrong: a store's clock
     * or its idea of Initiated, a key that names a time): a backup that died before completing its upload; and,
     * without --name, backup's preflight probe whose abort failed (name null). Uploads of foreign keys are left alone.
     */
    static List<Upload> staleUploads(S3Client s3, String bucket, String prefix, String onlyName, Instant before) {
        String listPrefix = onlyName == null ? BackupKey.rootPrefix(prefix) : BackupKey.namePrefix(prefix, onlyName);
        List<Upload> stale = new ArrayList<>();
        for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(listPrefix)).uploads()) {
            // backup's access probe, left in progress when its abort failed: ours, of no name
            if (onlyName == null && u.key().equals(BackupKey.preflightKey(prefix))) {
                if (u.initiated() != null && u.initiated().isBefore(before)) stale.add(new Upload(null, u.key(), u.uploadId(), u.initiated()));
                continue;
            }
            var parsed = BackupKey.parse(prefix, u.key());
            if (parsed.isEmpty() || (onlyName != null && !parsed.get().backup().name().equals(onlyName))) continue;
            if (u.initiated() != null && u.initiated().isBefore(before) && parsed.get().backup().startedAt().isBefore(before)) {
                stale.add(new Upload(parsed.get().backup().name(), u.key(), u.uploadId(), u.initiated()));
            }
        }
        return stale;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The plan's values.

    /** Everything that decides the plan, checked. {@code maxAge} is null when not given. */
    record Settings(Retention.Policy policy, ZoneId zone, int minKeep, Duration maxAge, boolean requireVerified, Duration grace) {}

    /** A complete backup and why it is kept (empty reasons: it is deleted). */
    record Decision(BackupListing.Entry entry, List<String> reasons) {}

    /**
     * One name's plan. {@code removeIncomplete}/{@code waitIncomplete}: leftovers without data to lose or without a
     * manifest (incomplete dumps, phantoms) older / younger than --grace; {@code notComplete}: backups that are not
     * complete but hold a dump (or are not ours to judge), left alone and reported. {@code held} is null, or why
     * nothing of this name is deleted (--max-age); then {@code delete} and {@code removeIncomplete} are empty.
     */
    record NamePlan(String name, List<Decision> keep, List<Decision> delete, List<BackupListing.Entry> removeIncomplete,
                    List<BackupListing.Entry> waitIncomplete, List<BackupListing.Entry> notComplete, BackupListing.Entry newest, String held) {}

    /** How a report names a backup that is not complete: "incomplete (no manifest)", "phantom: no dump: ...", "not complete: ...". */
    static String notCompleteLabel(BackupListing.Entry e) {
        if (e.incomplete()) return "incomplete (no manifest)";
        if (Planner.phantom(e)) return "phantom (" + e.status().describe() + ")";
        return "not complete (" + e.status().describe() + ")";
    }

    /** A backup's objects that exist, in deletion order: manifest, verify record, dump. */
    static List<S3Object> objects(BackupListing.Entry e) {
        List<S3Object> out = new ArrayList<>(3);
        for (S3Object o : new S3Object[] {e.manifest(), e.verify(), e.dump()}) if (o != null) out.add(o);
        return out;
    }

    /** A multipart upload to abort; {@code name} is null for backup's preflight probe. */
    record Upload(String name, String key, String uploadId, Instant initiated) {}

    // ---------------------------------------------------------------------------------------------------------

    /**
     * The retention rules as a pure function, with the semantics of restic's {@code forget} and borg's
     * {@code prune}: every rule looks at all backups independently, a backup is kept if any rule keeps it, and a
     * calendar rule keeps the newest backup of each of the N most recent periods that contain a backup (periods
     * without a backup do not count). Periods are local to the time zone; weeks are ISO weeks (Monday first,
     * week 1 contains the year's first Thursday). When clocks go back, the repeated local hour is one period.
     */
    static final class Retention {
        /** null fields are rules not given. */
        record Policy(Integer keepDays, Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
            boolean isEmpty() { return rules().isEmpty(); }

            /** The rules given, as option → N, in the order they are reported. */
            Map<String, Integer> rules() {
                Map<String, Integer> r = new LinkedHashMap<>();
                if (last != null) r.put("--keep-last", last);
                if (keepDays != null) r.put("--keep-days", keepDays);
                if (hourly != null) r.put("--keep-hourly", hourly);
                if (daily != null) r.put("--keep-daily", daily);
                if (weekly != null) r.put("--keep-weekly", weekly);
                if (monthly != null) r.put("--keep-monthly", monthly);
                if (yearly != null) r.put("--keep-yearly", yearly);
                return r;
            }

            String describe() {
                List<String> parts = new ArrayList<>();
                rules().forEach((option, n) -> parts.add(option.substring(2) + " " + n));
                return String.join(", ", parts);
            }
        }

        /**
         * For each of {@code times} (any order; the answer is in the same order), the rules that keep it:
         * "last", "days", "hourly", "daily", "weekly", "monthly", "yearly"; an empty list when none does.
         */
        static List<List<String>> apply(List<Instant> times, Policy policy, Instant now, ZoneId zone) {
            int n = times.size();
            List<List<String>> reasons = new ArrayList<>(n);
            for (int i = 0; i < n; i++) reasons.add(new ArrayList<>());
            List<Integer> newestFirst = new ArrayList<>();
            for (int i = 0; i < n; i++) newestFirst.add(i);
            newestFirst.sort(Comparator.comparing((Integer i) -> times.get(i)).reversed());

            if (policy.last() != null) {
                for (int k = 0; k < Math.min(policy.last(), n); k++) reasons.get(newestFirst.get(k)).add("last");
            }
            if (policy.keepDays() != null) {
                Instant cutoff = now.minus(Duration.ofDays(policy.keepDays()));
                for (int i = 0; i < n; i++) if (times.get(i).isAfter(cutoff)) reasons.get(i).add("days");
            }
            period(times, newestFirst, reasons, policy.hourly(), "hourly", zone, z -> z.toLocalDateTime().truncatedTo(ChronoUnit.HOURS));
            period(times, newestFirst, reasons, policy.daily(), "daily", zone, ZonedDateTime::toLocalDate);
            period(times, newestFirst, reasons, policy.weekly(), "weekly", zone,
                    z -> z.get(IsoFields.WEEK_BASED_YEAR) * 100L + z.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            period(times, newestFirst, reasons, policy.monthly(), "monthly", zone, YearMonth::from);
            period(times, newestFirst, reasons, policy.yearly(), "yearly", zone, ZonedDateTime::getYear);
            return reasons;
        }

        /** Walks newest first; the first backup seen in a period is its newest; stops after {@code count} periods. */
        private static void period(List<Instant> times, List<Integer> newestFirst, List<List<String>> reasons, Integer count,
                                   String label, ZoneId zone, Function<ZonedDateTime, Object> periodOf) {
            if (count == null || count == 0) return;
            Set<Object> seen = new HashSet<>();
            for (int i : newestFirst) {
                if (seen.size() >= count) break;
                if (seen.add(periodOf.apply(times.get(i).atZone(zone)))) reasons.get(i).add(label);
            }
        }

        private Retention() {}
    }

    /**
     * The interlocks, as a pure function over one name's listing: they only ever add to what the rules keep.
     * <ul>
     *   <li>the newest complete backup is always kept ("newest");</li>
     *   <li>the --min-keep newest complete backups are kept ("min-keep"); with --require-verified, the --min-keep
     *       newest verified ones and every backup newer than them ("min-keep-verified", "newer-than-verified"),
     *       and everything when there are fewer verified backups than that ("too-few-verified");</li>
     *   <li>when the newest complete backup is older than --max-age (or there is none), nothing of this name is
     *       deleted ({@link NamePlan#held()});</li>
     *   <li>only complete backups count ({@link BackupStatus}): for the rules, as the newest, for --min-keep, --max-age
     *       and --require-verified. A backup that is not complete never protects, and never costs, a complete one;</li>
     *   <li>incomplete backups (a dump, no manifest) and phantoms (a manifest, no dump: nothing to lose) are removed
     *       once older than --grace by the key's time and by S3's LastModified, else left to finish;</li>
     *   <li>every other backup that is not complete is left alone and reported: its dump may be the only copy of real
     *       data (a size or manifest that disagrees), or it is not ours to judge (a newer manifest format, a date in the
     *       future, a manifest deleted while we listed).</li>
     * </ul>
     */
    static final class Planner {
        /** As below, counting a backup as verified when it has a verify record (pure tests; the command passes its check). */
        static NamePlan plan(String name, List<BackupListing.Entry> entries, Settings s, Instant now) {
            return plan(name, entries, s, now, BackupListing.Entry::verified);
        }

        static NamePlan plan(String name, List<BackupListing.Entry> entries, Settings s, Instant now,
                             java.util.function.Predicate<BackupListing.Entry> verified) {
            List<BackupListing.Entry> complete = new ArrayList<>(), incomplete = new ArrayList<>(), notComplete = new ArrayList<>();
            for (BackupListing.Entry e : entries) {
                if (e.complete()) complete.add(e);
                else if (e.incomplete() || phantom(e)) incomplete.add(e);
                else if (e.status().hasManifest()) notComplete.add(e); // a lone verify record is nobody's: left, unreported as before
            }
            complete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());
            incomplete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());
            notComplete.sort(Comparator.comparing((BackupListing.Entry e) -> e.key().startedAt()).reversed());

            List<Instant> times = complete.stream().map(e -> e.key().startedAt()).toList();
            List<List<String>> reasons = Retention.apply(times, s.policy(), now, s.zone());

            if (!complete.isEmpty()) reasons.get(0).add(0, "newest");
            List<Integer> protectors = new ArrayList<>();
            for (int i = 0; i < complete.size(); i++) if (!s.requireVerified() || verified.test(complete.get(i))) protectors.add(i);
            String minKeepLabel = s.requireVerified() ? "min-keep-verified" : "min-keep";
            for (int k = 0; k < Math.min(s.minKeep(), protectors.size()); k++) addOnce(reasons.get(protectors.get(k)), minKeepLabel);
            // Backups newer than the oldest protector that counts are not yet protected by anything: keep them.
            int protectedUpTo = protectors.size() >= s.minKeep() ? protectors.get(s.minKeep() - 1) : complete.size() - 1;
            String unprotectedLabel = protectors.size() >= s.minKeep() ? "newer-than-verified" : s.requireVerified() ? "too-few-verified" : "min-keep";
            for (int i = 0; i <= protectedUpTo; i++) if (reasons.get(i).isEmpty()) reasons.get(i).add(unprotectedLabel);

            String held = null;
            BackupListing.Entry newest = complete.isEmpty() ? null : complete.get(0);
            if (s.maxAge() != null) {
                if (newest == null) held = "no complete backup at all (--max-age " + human(s.maxAge()) + ")";
                else if (newest.key().startedAt().isBefore(now.minus(s.maxAge()))) {
                    held = "the newest complete backup (" + newest.key().stamp() + ") is " + human(Duration.between(newest.key().startedAt(), now))
                            + " old, older than --max-age " + human(s.maxAge());
                }
            }

            List<Decision> keep = new ArrayList<>(), delete = new ArrayList<>();
            for (int i = 0; i < complete.size(); i++) {
                List<String> r = reasons.get(i);
                if (r.isEmpty() && held != null) r.add("held");
                (r.isEmpty() ? delete : keep).add(new Decision(complete.get(i), List.copyOf(r)));
            }
            List<BackupListing.Entry> remove = new ArrayList<>(), wait = new ArrayList<>();
            Instant graceCutoff = now.minus(s.grace());
            for (BackupListing.Entry e : incomplete) {
                S3Object left = e.dump() != null ? e.dump() : e.manifest();
                boolean old = e.key().startedAt().isBefore(graceCutoff) && (left.lastModified() == null || left.lastModified().isBefore(graceCutoff));
                (held == null && old ? remove : wait).add(e);
            }
            return new NamePlan(name, keep, delete, remove, wait, notComplete, newest, held);
        }

        /**
         * A manifest without its dump that holds nothing to lose: no dump, or a manifest that is invalid or names
         * another dump, next to no dump. Not a newer format's manifest (it may keep its data elsewhere), not one dated
         * in the future (never older than --grace), not one that vanished while we listed.
         */
        static boolean phantom(BackupListing.Entry e) {
            if (e.dump() != null || e.manifest() == null) return false;
            return switch (e.status().state()) {
                case NO_DUMP, MANIFEST_INVALID, OTHER_DUMP -> true;
                default -> false;
            };
        }

        private static void addOnce(List<String> list, String label) { if (!list.contains(label)) list.add(label); }

        private Planner() {}
    }

    /**
     * Deletes the plan in the order that leaves every backup, at every moment, either complete or recognisably
     * incomplete: (1) the manifests of the backups to delete, so each becomes an incomplete backup, and those of
     * phantoms; (2) their verify records, and those of incomplete backups; (3) their dumps, and those of incomplete
     * backups; (4) stale multipart uploads are aborted. A backup whose manifest could not be deleted keeps its dump and verify
     * record (it is still complete). DeleteObjects takes at most 1,000 keys; errors are per key. If a whole
     * request fails, nothing more is attempted; a rerun picks up where this one stopped.
     */
    static final class Deleter {
        static final int BATCH = 1000;

        enum Outcome { DELETED, LOCKED, FAILED, SKIPPED }

        record KeyResult(String key, Outcome outcome, String code, String message) {}

        private final S3Client s3;
        private final String bucket;
        final Map<String, KeyResult> results = new LinkedHashMap<>();
        final Map<String, KeyResult> uploadResults = new LinkedHashMap<>();
        Failure stopped;

        Deleter(S3Client s3, String bucket) {
            this.s3 = s3;
            this.bucket = bucket;
        }

        void run(List<NamePlan> plans, List<Upload> uploads) {
            List<BackupListing.Entry> backups = new ArrayList<>();
            List<String> manifests = new ArrayList<>();
            for (NamePlan p : plans) {
                for (Decision d : p.delete()) backups.add(d.entry());
                for (BackupListing.Entry e : p.removeIncomplete()) if (e.manifest() != null) backups.add(e); // phantoms
            }
            for (BackupListing.Entry e : backups) manifests.add(e.manifest().key());
            delete(manifests);
            // Only backups that are now incomplete lose their other objects.
            List<BackupListing.Entry> nowIncomplete = new ArrayList<>();
            for (BackupListing.Entry e : backups) {
                if (outcome(e.manifest().key()) == Outcome.DELETED) nowIncomplete.add(e);
                else for (S3Object o : objects(e)) {
                    results.putIfAbsent(o.key(), new KeyResult(o.key(), Outcome.SKIPPED, null, "left in place: the manifest was not deleted"));
                }
            }
            for (NamePlan p : plans) for (BackupListing.Entry e : p.removeIncomplete()) if (e.manifest() == null) nowIncomplete.add(e);
            delete(keys(nowIncomplete, BackupListing.Entry::verify));
            delete(keys(nowIncomplete, BackupListing.Entry::dump));
            for (Upload u : uploads) abort(u);
        }

        Outcome outcome(String key) {
            KeyResult r = results.get(key);
            return r == null ? null : r.outcome();
        }

        private static List<String> keys(List<BackupListing.Entry> entries, Function<BackupListing.Entry, S3Object> which) {
            List<String> keys = new ArrayList<>();
            for (BackupListing.Entry e : entries) if (which.apply(e) != null) keys.add(which.apply(e).key());
            return keys;
        }

        private void delete(List<String> keys) {
            for (int from = 0; from < keys.size(); from += BATCH) {
                List<String> batch = keys.subList(from, Math.min(keys.size(), from + BATCH));
                if (stopped != null) {
                    for (String k : batch) results.put(k, new KeyResult(k, Outcome.SKIPPED, null, "not attempted: " + stopped.getMessage()));
                    continue;
                }
                try {
                    List<ObjectIdentifier> ids = batch.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
                    DeleteObjectsResponse response = s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(ids).quiet(true)));
                    for (KeyResult r : interpret(batch, response)) results.put(r.key(), r);
                } catch (RuntimeException e) {
                    stopped = Errors.classify(e);
                    for (String k : batch) results.put(k, new KeyResult(k, Outcome.FAILED, null, stopped.getMessage()));
                }
            }
        }

        private void abort(Upload u) {
            if (stopped != null) {
                uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.SKIPPED, null, "not attempted: " + stopped.getMessage()));
                return;
            }
            try {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
                uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.DELETED, null, null));
            } catch (NoSuchUploadException gone) {
                uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.DELETED, null, "already gone"));
            } catch (RuntimeException e) {
                Failure f = Errors.classify(e);
                uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.FAILED, null, f.getMessage()));
            }
        }

        /** What one DeleteObjects (quiet) answer says about each key of its batch: unlisted keys were deleted. */
        static List<KeyResult> interpret(List<String> batch, DeleteObjectsResponse response) {
            Map<String, S3Error> errors = new LinkedHashMap<>();
            if (response.hasErrors()) for (S3Error e : response.errors()) errors.put(e.key(), e);
            List<KeyResult> out = new ArrayList<>();
            for (String key : batch) {
                S3Error e = errors.get(key);
                if (e == null) out.add(new KeyResult(key, Outcome.DELETED, null, null));
                else out.add(new KeyResult(key, isLocked(e.code(), e.message()) ? Outcome.LOCKED : Outcome.FAILED, e.code(), e.message()));
            }
            return out;
        }

        /**
         * Object Lock refusals: S3 answers AccessDenied "Access Denied because object protected by object lock",
         * S3-compatible stores say ObjectLocked / "object is WORM protected" / "retention". A plain AccessDenied
         * (no permission) is a failure, not a lock.
         */
        static boolean isLocked(String code, String message) {
            String c = code == null ? "" : code.toLowerCase(Locale.ROOT);
            String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
            if (c.contains("locked") || c.contains("worm")) return true;
            boolean lockWords = m.contains("object lock") || m.contains("object-lock") || m.contains("objectlock") || m.contains("worm")
                    || m.contains("retention") || m.contains("legal hold") || m.contains("locked");
            return (c.equals("accessdenied") || c.equals("invalidrequest") || c.isEmpty()) && lockWords;
        }

        long count(Outcome o) { return results.values().stream().filter(r -> r.outcome() == o).count(); }

        long failureCount() {
            return count(Outcome.FAILED) + uploadResults.values().stream().filter(r -> r.outcome() == Outcome.FAILED).count();
        }

        String firstFailure() {
            for (var r : results.values()) if (r.outcome() == Outcome.FAILED) return r.key() + ": " + describe(r);
            for (var r : uploadResults.values()) if (r.outcome() == Outcome.FAILED) return "upload of " + r.key() + ": " + describe(r);
            return "none";
        }

        /** 77 when every failure is a permission problem, else what stopped the run, else 1. */
        int failureExitCode() {
            if (stopped != null) return stopped.exitCode;
            boolean allDenied = results.values().stream().filter(r -> r.outcome() == Outcome.FAILED).allMatch(r -> "AccessDenied".equals(r.code()));
            return allDenied && count(Outcome.FAILED) > 0 ? Exit.NO_PERMISSION : Exit.FAILED;
        }

        static String describe(KeyResult r) {
            return (r.code() == null ? "" : r.code() + (r.message() == null ? "" : ": ")) + (r.message() == null ? "" : r.message());
        }

        /** A backup's outcome from its keys: deleted only if every object is gone. */
        String backupOutcome(BackupListing.Entry e) {
            List<Outcome> outs = new ArrayList<>();
            for (S3Object o : objects(e)) {
                Outcome out = outcome(o.key());
                outs.add(out == null ? Outcome.SKIPPED : out);
            }
            if (outs.stream().allMatch(o -> o == Outcome.DELETED)) return "deleted";
            if (outs.contains(Outcome.FAILED)) return "failed";
            if (outs.contains(Outcome.LOCKED)) return "locked";
            return "skipped";
        }
    }

    /** The plan and, after a run, what happened: human text, one JSON document, the GitHub step summary. */
    static final class Report {
        final String bucket, prefix;
        final Settings settings;
        final Instant now;
        final boolean dryRun;
        final List<NamePlan> plans;
        final List<Upload> uploads;
        Deleter deleter;
        String refused;
        String uploadsNote;

        Report(String bucket, String prefix, Settings settings, Instant now, boolean dryRun, List<NamePlan> plans, List<Upload> uploads) {
            this.bucket = bucket;
            this.prefix = prefix;
            this.settings = settings;
            this.now = now;
            this.dryRun = dryRun;
            this.plans = plans;
            this.uploads = uploads;
        }

        void print(CommandSpec spec, boolean json) {
            PrintWriter out = spec.commandLine().getOut();
            if (json) out.println(Json.write(document()));
            else out.print(text());
            out.flush();
            if (json) { // the operator still sees one line per name on stderr
                PrintWriter err = spec.commandLine().getErr();
                for (NamePlan p : plans) err.println(headline(p));
                err.flush();
            }
            StepSummary.append(markdown());
        }

        /** What happened (or is planned) to a backup or key, as one word. */
        private String outcomeOf(BackupListing.Entry e) {
            if (refused != null) return "refused";
            if (deleter == null) return "planned";
            return deleter.backupOutcome(e);
        }

        private String uploadOutcome(Upload u) {
            if (refused != null) return "refused";
            if (deleter == null) return "planned";
            Deleter.KeyResult r = deleter.uploadResults.get(u.uploadId());
            return r == null ? "skipped" : r.outcome() == Deleter.Outcome.DELETED ? "aborted" : r.outcome().name().toLowerCase(Locale.ROOT);
        }

        private String verb() { return refused != null ? "refused" : deleter == null ? "to delete" : "deleted"; }

        String headline(NamePlan p) {
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
                        .append(p.held() != null ? "held" : "younger than --grace " + human(settings.grace())).append(")");
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
            if (settings.maxAge() != null) sb.append(", max-age ").append(human(settings.maxAge()));
            sb.append("; grace ").append(human(settings.grace())).append("; timezone ").append(settings.zone().getId())
                    .append("; now ").append(now).append('\n');
            if (plans.isEmpty()) sb.append("no backups under s3://").append(bucket).append('/').append(prefix).append("/\n");
            for (NamePlan p : plans) {
                sb.append('\n').append(headline(p)).append('\n');
                List<Object[]> rows = new ArrayList<>(); // newest first: time, line
                for (Decision d : p.keep()) rows.add(new Object[] {d.entry().key().startedAt(),
                        "  keep     " + d.entry().key().stamp() + "  " + String.join(", ", d.reasons()) + (d.entry().verified() ? "  (verified)" : "")});
                for (Decision d : p.delete()) rows.add(new Object[] {d.entry().key().startedAt(),
                        "  " + pad(word(d.entry(), "delete", "deleted")) + d.entry().key().stamp() + detail(d.entry())});
                for (BackupListing.Entry e : p.removeIncomplete()) rows.add(new Object[] {e.key().startedAt(),
                        "  " + pad(word(e, "remove", "removed")) + e.key().stamp()
                                + "  " + notCompleteLabel(e) + ", " + human(Duration.between(e.key().startedAt(), now)) + " old" + detail(e)});
                for (BackupListing.Entry e : p.waitIncomplete()) rows.add(new Object[] {e.key().startedAt(),
                        "  leave    " + e.key().stamp() + "  " + notCompleteLabel(e) + ", " + (p.held() != null ? "held" : "younger than --grace")});
                for (BackupListing.Entry e : p.notComplete()) rows.add(new Object[] {e.key().startedAt(),
                        "  leave    " + e.key().stamp() + "  " + notCompleteLabel(e) + ": never deleted by prune; see restore list"});
                rows.sort(Comparator.comparing((Object[] r) -> (Instant) r[0]).reversed());
                for (Object[] r : rows) sb.append(r[1]).append('\n');
            }
            if (!uploads.isEmpty()) {
                sb.append("\nmultipart uploads older than --grace ").append(human(settings.grace())).append(":\n");
                for (Upload u : uploads) {
                    String o = uploadOutcome(u);
                    sb.append("  ").append(pad(o.equals("planned") ? "abort" : o)).append(u.key()).append("  started ").append(u.initiated());
                    Deleter.KeyResult r = deleter == null ? null : deleter.uploadResults.get(u.uploadId());
                    if (r != null && r.outcome() == Deleter.Outcome.FAILED) sb.append("  ").append(Deleter.describe(r));
                    sb.append('\n');
                }
            }
            if (uploadsNote != null) sb.append("\nnote: ").append(uploadsNote).append('\n');
            sb.append('\n').append(totals()).append('\n');
            if (deleter != null && deleter.count(Deleter.Outcome.LOCKED) > 0) {
                sb.append("note: ").append(deleter.count(Deleter.Outcome.LOCKED))
                        .append(" object(s) are protected by S3 Object Lock and stay until their retention ends; a later run deletes them.\n");
            }
            return sb.toString();
        }

        private String detail(BackupListing.Entry e) {
            if (deleter == null) return "";
            StringBuilder sb = new StringBuilder();
            for (S3Object o : objects(e)) {
                Deleter.KeyResult r = deleter.results.get(o.key());
                if (r != null && r.outcome() != Deleter.Outcome.DELETED) {
                    sb.append("\n             ").append(r.outcome().name().toLowerCase(Locale.ROOT)).append(": ").append(o.key());
                    String d = Deleter.describe(r);
                    if (!d.isEmpty()) sb.append(" (").append(d).append(')');
                }
            }
            return sb.toString();
        }

        /** "delete" in a plan, "deleted" when done, else what happened ("locked", "failed", "skipped", "refused"). */
        private String word(BackupListing.Entry e, String planned, String done) {
            String o = outcomeOf(e);
            return o.equals("planned") ? planned : o.equals("deleted") ? done : o;
        }

        private static String pad(String word) { return String.format("%-9s", word); }

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
                    + deleter.count(Deleter.Outcome.DELETED) + " objects deleted); kept " + kept;
            if (deleter.count(Deleter.Outcome.LOCKED) > 0) s += "; " + deleter.count(Deleter.Outcome.LOCKED) + " object(s) locked";
            if (deleter.failureCount() > 0) s += "; " + deleter.failureCount() + " failed";
            if (deleter.stopped != null) s += "; stopped early: " + deleter.stopped.getMessage();
            return s;
        }

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
            for (NamePlan p : plans) {
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("name", p.name());
                n.put("newest", p.newest() == null ? null : p.newest().key().startedAt().toString());
                n.put("held", p.held());
                List<Object> kept = new ArrayList<>();
                for (Decision d : p.keep()) {
                    Map<String, Object> k = backup(d.entry());
                    k.put("reasons", d.reasons());
                    kept.add(k);
                }
                n.put("kept", kept);
                List<Object> deleted = new ArrayList<>();
                for (Decision d : p.delete()) deleted.add(withOutcome(d.entry()));
                n.put("deleted", deleted);
                List<Object> incomplete = new ArrayList<>();
                for (BackupListing.Entry e : p.removeIncomplete()) incomplete.add(withOutcome(e));
                n.put("incompleteRemoved", incomplete);
                List<Object> waiting = new ArrayList<>();
                for (BackupListing.Entry e : p.waitIncomplete()) waiting.add(backup(e));
                n.put("incompleteLeft", waiting);
                List<Object> notComplete = new ArrayList<>();
                for (BackupListing.Entry e : p.notComplete()) notComplete.add(backup(e));
                n.put("notCompleteLeft", notComplete);
                names.add(n);
            }
            doc.put("names", names);
            List<Object> ups = new ArrayList<>();
            for (Upload u : uploads) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", u.name());
                m.put("key", u.key());
                m.put("uploadId", u.uploadId());
                m.put("initiated", u.initiated().toString());
                m.put("outcome", uploadOutcome(u));
                Deleter.KeyResult r = deleter == null ? null : deleter.uploadResults.get(u.uploadId());
                if (r != null && r.outcome() == Deleter.Outcome.FAILED) m.put("error", Deleter.describe(r));
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
                totals.put("objectsDeleted", deleter.count(Deleter.Outcome.DELETED));
                totals.put("objectsLocked", deleter.count(Deleter.Outcome.LOCKED));
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
            m.put("keys", objects(e).stream().map(S3Object::key).toList());
            return m;
        }

        private Map<String, Object> withOutcome(BackupListing.Entry e) {
            Map<String, Object> m = backup(e);
            m.put("outcome", outcomeOf(e));
            if (deleter != null) {
                List<Object> errors = new ArrayList<>();
                for (S3Object o : objects(e)) {
                    String key = o.key();
                    Deleter.KeyResult r = deleter.results.get(key);
                    if (r != null && r.outcome() != Deleter.Outcome.DELETED) {
                        Map<String, Object> err = new LinkedHashMap<>();
                        err.put("key", key);
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

        String markdown() {
            StringBuilder sb = new StringBuilder("### prune " + (dryRun ? "(dry run) " : "") + "`s3://" + bucket + "/" + prefix + "/`\n\n");
            sb.append("Policy: ").append(settings.policy().describe()).append("; min-keep ").append(settings.minKeep()).append("\n\n");
            sb.append("| name | kept | ").append(deleter == null ? "to delete" : "deleted").append(" | incomplete removed | newest | note |\n|---|---|---|---|---|---|\n");
            for (NamePlan p : plans) {
                String note = p.held() != null ? "**held:** " + p.held() : "";
                if (!p.notComplete().isEmpty()) note += (note.isEmpty() ? "" : "; ") + p.notComplete().size() + " not complete (left alone: restore list says why)";
                if (deleter != null) {
                    long locked = p.delete().stream().filter(d -> deleter.backupOutcome(d.entry()).equals("locked")).count();
                    long failed = p.delete().stream().filter(d -> deleter.backupOutcome(d.entry()).equals("failed")).count();
                    if (locked > 0) note += (note.isEmpty() ? "" : "; ") + locked + " locked";
                    if (failed > 0) note += (note.isEmpty() ? "" : "; ") + "**" + failed + " failed**";
                }
                sb.append("| ").append(p.name()).append(" | ").append(p.keep().size()).append(" | ").append(p.delete().size()).append(" | ")
                        .append(p.removeIncomplete().size()).append(" | ").append(p.newest() == null ? "none" : p.newest().key().stamp())
                        .append(" | ").append(note).append(" |\n");
            }
            if (uploadsNote != null) sb.append("\nNote: ").append(uploadsNote).append('\n');
            sb.append('\n').append(totals()).append('\n');
            return sb.toString();
        }
    }
}
