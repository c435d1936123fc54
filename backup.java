///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// Sources are UTF-8 whatever the locale (cron, systemd, containers with LANG unset or C would read them as ASCII).
//COMPILE_OPTIONS -encoding UTF-8
// Memory flat whatever the size (bench/: peak RSS ~170 MB at 1 and 5 GB): a small young generation instead of G1 growing
// its heap with the bytes streamed; the maximum heap stays the default, room for --part-size buffers.
//JAVA_OPTIONS -XX:+UseSerialGC -Xmn32m
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
//DEPS com.exceptionfactory.jagged:jagged-api:1.0.0
//DEPS com.exceptionfactory.jagged:jagged-framework:1.0.0
//DEPS com.exceptionfactory.jagged:jagged-x25519:1.0.0
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/ActionsAnnotator.java
//SOURCES lib/GitHubAnnotations.java
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
//SOURCES lib/Age.java
//SOURCES lib/PsqlSession.java
//SOURCES lib/UserTables.java
//SOURCES lib/DumpSnapshot.java
//SOURCES lib/ArchiveRows.java
//SOURCES lib/RowCounts.java
//SOURCES lib/PoolerCheck.java
//SOURCES lib/SourceHistory.java
//SOURCES lib/LockWatch.java
//SOURCES lib/Threads.java
//SOURCES lib/Digests.java
//SOURCES lib/Stopwatch.java
//SOURCES lib/TextTable.java
//SOURCES lib/Markdown.java
//SOURCES lib/StoredObject.java
//SOURCES lib/WritePreflight.java
//SOURCES lib/PartPlan.java
//SOURCES lib/LockWaitTimeout.java
//SOURCES lib/ExactCountLimit.java
//SOURCES lib/DumpCompression.java
//SOURCES lib/PgDumpArgs.java
//SOURCES lib/BackupTarget.java
//SOURCES lib/FleetFile.java
//SOURCES lib/TocEntries.java
//SOURCES lib/TocCounter.java
//SOURCES lib/MultipartStreamUpload.java
//SOURCES lib/UploadCancellation.java
//SOURCES lib/StoredBackup.java
//SOURCES lib/DatabaseBackup.java
//SOURCES lib/BackupResult.java
//SOURCES lib/BackupReport.java
//SOURCES lib/VerifyRecord.java
//SOURCES lib/NeonApi.java
//SOURCES lib/NeonFleet.java
//SOURCES lib/FleetHistory.java
//SOURCES lib/FleetPlan.java
//SOURCES lib/DrillRotation.java
//SOURCES lib/FleetPlanCommand.java
//SOURCES lib/FleetLeg.java
//SOURCES lib/FleetReport.java
//SOURCES lib/FleetReportCommand.java
//SOURCES lib/SpoolWatch.java
//SOURCES lib/ConnectionBudget.java
//SOURCES lib/ParallelBackup.java
//SOURCES lib/ParallelChoice.java

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * backup: stream pg_dump of one or many databases into S3, then write each backup's manifest.
 *
 * <p>For each database, in this order (docs/architecture.md#s3-layout, docs/architecture.md#safety-rules):
 * <ol>
 *   <li>ask the server its version with psql (this also proves the URL, password and database are right);</li>
 *   <li>choose a pg_dump not older than the server, and the compression it does best;</li>
 *   <li>record per-table row estimates for later restore drills;</li>
 *   <li>start a multipart upload, run {@code pg_dump -Fc} and cut its stdout into parts while hashing it
 *       (no temp file, memory bounded by a few part buffers whatever the dump's size); with --encrypt-to, the
 *       stream is encrypted with age on the way (64 KiB at a time) and what is hashed and stored is the age file;</li>
 *   <li>only if pg_dump exited 0: complete the upload, check S3 stores as many bytes as we streamed,
 *       and write the manifest last. Any failure, or SIGTERM/Ctrl-C, aborts the upload instead: a failed dump
 *       never becomes a visible backup.</li>
 * </ol>
 * These steps live in lib/: {@link DatabaseBackup} runs them for one database, with {@link PgDumpArgs},
 * {@link MultipartStreamUpload}, {@link TocCounter}, {@link ArchiveRows} and {@link StoredBackup}; {@link BackupReport}
 * renders the run's end. This file is the options and the story: options → plan → act → report.
 */
@Command(name = "backup", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        subcommands = {FleetPlanCommand.class, FleetReportCommand.class, AutoComplete.GenerateCompletion.class},
        description = "Stream pg_dump (custom format) of one or many PostgreSQL databases into S3, with a checksummed manifest written last: a failed dump never becomes a visible backup.",
        footerHeading = "%nExamples:%n",
        footer = {"  DATABASE_URL='postgresql://u:pw@host/db?sslmode=require' backup --bucket b",
                "  backup --bucket b --databases-file fleet.txt --jobs 2",
                "  backup --bucket b -- --exclude-table-data=public.audit_log",
                "  backup --bucket b --encrypt-to age1...     (restore then needs --identity KEYFILE)",
                "  backup --bucket b --fleet-plan fleet-plan.json --shard 3 --jobs 4 --json   (one leg of workflows/pg-backup-fleet.yml)"})
class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--database-url", paramLabel = "URL", defaultValue = "${env:DATABASE_URL}",
            description = "Database to back up, a libpq URI (query parameters such as ?sslmode=require&channel_binding=require are passed through); repeatable (env DATABASE_URL).")
    List<String> databaseUrls = new ArrayList<>();

    @Option(names = "--databases-file", paramLabel = "FILE",
            description = "Fleet file: one NAME=URL or URL per line; blank lines and lines starting with # are ignored; $${VAR} is replaced by the environment variable VAR.")
    Path databasesFile;

    @Option(names = "--name", paramLabel = "NAME", description = "Backup name for a single database (default: the database name, sanitised to [a-z0-9._-]).")
    String name;

    @Option(names = "--fleet-plan", paramLabel = "FILE",
            description = "One leg of a fleet: back up the databases of --shard N of this plan (backup plan --plan-file), found in --databases-file by"
                    + " name, or through the Neon API (env NEON_API_KEY) just before each dump (docs/fleet.md).")
    Path fleetPlan;

    @Option(names = "--shard", paramLabel = "N", description = "Which shard of --fleet-plan (1 to the plan's number of shards).")
    Integer shard;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1", description = "Databases dumped at the same time (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--pg-dump", paramLabel = "PATH", defaultValue = "${env:PG_DUMP}",
            description = "pg_dump to use (env PG_DUMP; default: /usr/lib/postgresql/<server major or newer>/bin/pg_dump, else pg_dump on PATH if not older than the server).")
    String pgDumpPath;

    @Option(names = "--compress", paramLabel = "METHOD[:DETAIL]",
            description = "Passed to pg_dump as --compress, e.g. zstd:9, lz4, gzip:9, none with pg_dump 16+; a gzip level 0-9 before (default: zstd with pg_dump 16+, gzip level 6 before).")
    String compress;

    @Option(names = "--part-size", paramLabel = "SIZE", defaultValue = "auto",
            description = "Size of every upload part (one size per upload: R2 refuses others): auto plans it from the database's size (pg_database_size"
                    + " times 4 over S3's 10,000 parts, 8 MiB to 1 GiB), or e.g. 64MiB (5 MiB to 1 GiB). Memory used: at most 3 parts per database, as far"
                    + " as the dump fills them (default: ${DEFAULT-VALUE}).")
    String partSize;

    @Option(names = "--encrypt-to", paramLabel = "RECIPIENT", split = ",", defaultValue = "${env:" + Age.RECIPIENTS_ENV + "}",
            description = "Encrypt each backup with age to this public key (age1..., from 'restore keygen' or age-keygen): only the private key"
                    + " restores it (restore --identity); repeatable or comma-separated (env " + Age.RECIPIENTS_ENV + "). The stored object is a standard"
                    + " age file; the manifest lists the recipients.")
    List<String> encryptTo = new ArrayList<>();

    @Option(names = "--allow-pooler",
            description = "Dump through a connection pooler anyway: keep a Neon -pooler host (by default the direct host is used), and accept a PgBouncer"
                    + " whose pool mode is not visible. Only for a pooler in session mode: through a transaction pooler a dump can miss rows.")
    boolean allowPooler;

    @Option(names = "--source-moved",
            description = "The database moved (another server, host or cluster): accept a source that differs from the previous backup of NAME, and record"
                    + " the move in the manifest. Without it, a different source under the same name is refused (exit 64). One database only.")
    boolean sourceMoved;

    @Option(names = "--lock-wait-timeout", paramLabel = "DURATION", defaultValue = "${env:BACKUP_LOCK_WAIT_TIMEOUT:-" + LockWaitTimeout.DEFAULT + "}",
            description = "How long pg_dump (and the row counts) may wait for a table lock before the backup fails naming who holds it, e.g. 30s, 5m, 1h;"
                    + " 0 waits forever (env BACKUP_LOCK_WAIT_TIMEOUT; default: ${DEFAULT-VALUE}).")
    String lockWaitTimeout;

    @Option(names = "--exact-count-limit", paramLabel = "SIZE", defaultValue = "${env:BACKUP_EXACT_COUNT_LIMIT:-" + ExactCountLimit.DEFAULT + "}",
            description = "Count the rows of tables up to SIZE on disk exactly, in the dump's own snapshot; larger tables keep the archive's count only."
                    + " e.g. 1GiB, 0 (count none), unlimited (env BACKUP_EXACT_COUNT_LIMIT; default: ${DEFAULT-VALUE}).")
    String exactCountLimit;

    @Option(names = "--no-read-back", negatable = false,
            description = "Do not read the archive back while it streams (saves pg_restore's CPU): the backup then cannot prove every data block is readable,"
                    + " and the manifest has no archive row counts.")
    boolean noReadBack;

    @Option(names = "--parallel", paramLabel = "N|auto", defaultValue = "${env:BACKUP_PARALLEL:-auto}",
            description = "Dump each database with N pg_dump workers (pg_dump -Fd -j N, for large databases): each table's file goes to S3 as soon as"
                    + " pg_dump has closed it and leaves the spool; the backup is a set of objects under NAME_STAMP.dump.d/ (restore with --jobs)."
                    + " N is lowered to what the server's connection limits allow. Needs Linux and a direct (unpooled) connection."
                    + " 1: one custom-format stream. auto: one stream below --parallel-above, 2-4 workers (the cores) above it when the"
                    + " connections and the spool allow, else one stream saying why (env BACKUP_PARALLEL; default: ${DEFAULT-VALUE}).")
    String parallel;

    @Option(names = "--parallel-above", paramLabel = "SIZE", defaultValue = "${env:BACKUP_PARALLEL_ABOVE:-" + ParallelChoice.DEFAULT_ABOVE + "}",
            description = "With --parallel auto: databases of at least SIZE on disk (pg_database_size) are dumped in parallel, e.g. 500MiB, 10GiB"
                    + " (env BACKUP_PARALLEL_ABOVE; default: ${DEFAULT-VALUE}, measured: docs/performance.md).")
    String parallelAbove;

    @Option(names = "--spool", paramLabel = "DIR", defaultValue = "${env:BACKUP_SPOOL_DIR}",
            description = "Where --parallel keeps the files pg_dump is writing, in a private directory deleted at the end; it must have room for the"
                    + " N largest tables at once (checked before the dump, exit 78) (env BACKUP_SPOOL_DIR; default: the system's temp directory).")
    Path spool;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    @Parameters(paramLabel = "PG_DUMP_ARG", description = "Extra pg_dump arguments after --, e.g. -- --exclude-table-data=public.audit_log."
            + " Refused: -f/--file, -F/--format other than custom, -d/--dbname and other connection options, -j/--jobs, -Z/--compress (use --compress).")
    List<String> pgDumpArgs = new ArrayList<>();

    public static void main(String[] args) { Cli.main(new Backup(), args); }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        // Options: everything that can be wrong with the input fails here, before any connection is made.
        storage.validate();
        Long partSizeBytes = PartPlan.parse(partSize); // null: planned per database
        if (jobs < 1) throw Failure.usage("--jobs must be at least 1");
        if (shard != null && fleetPlan == null) throw Failure.usage("--shard goes with --fleet-plan FILE");
        int workers = ParallelChoice.parse(parallel);
        long parallelAboveBytes = ParallelChoice.parseAbove(parallelAbove);
        if (workers >= 2 && allowPooler) {
            throw Failure.usage("--parallel cannot go through a connection pooler (pg_dump's workers share one snapshot, which needs a direct connection): drop --allow-pooler");
        }
        Path spoolDir = spool != null ? spool : Path.of(System.getProperty("java.io.tmpdir"));
        long lockWaitMillis = LockWaitTimeout.parse(lockWaitTimeout);
        long countLimitBytes = ExactCountLimit.parse(exactCountLimit);
        List<String> extraArgs = PgDumpArgs.check(pgDumpArgs);
        List<String> recipients = Age.recipients(encryptTo);
        // Plan: the databases, each under its name.
        List<BackupTarget> targets = fleetPlan != null ? leg().targets() : targets();
        String bucket = storage.bucket();
        String prefix = storage.prefix();
        DatabaseBackup.Settings settings = new DatabaseBackup.Settings(pgDumpPath, compress, allowPooler, sourceMoved, lockWaitMillis, exactCountLimit,
                countLimitBytes, recipients, !noReadBack, extraArgs, partSizeBytes, Math.min(jobs, targets.size()), storage.aws, output.verbose, workers, spoolDir,
                parallelAboveBytes);

        // Act: the preflight proves the bucket takes our writes, then each database is backed up.
        List<BackupResult> results;
        Map<String, Failure> failures;
        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            WritePreflight.check(s3, bucket, prefix);
            DatabaseBackup backup = new DatabaseBackup(s3, bucket, prefix, settings, err, targets.size() == 1, targets.size() == 1 || jobs == 1);
            results = runAll(targets, backup);
            failures = backup.failures;
        }
        return report(new BackupReport(bucket, prefix, results), failures, err);
    }

    /** The databases of this run, from --database-url (or DATABASE_URL) and --databases-file; names unique. */
    List<BackupTarget> targets() throws IOException {
        boolean urlsGiven = spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--database-url");
        List<BackupTarget> targets = new ArrayList<>();
        // DATABASE_URL is the default of --database-url; with a fleet file, only URLs given explicitly join it
        // (a DATABASE_URL secret that happens to be set must not silently add a database to the fleet).
        if (databasesFile == null || urlsGiven) {
            for (String url : databaseUrls) {
                if (url == null || url.isBlank()) continue;
                targets.add(new BackupTarget(null, ConnInfo.parse(url)));
            }
        }
        if (databasesFile != null) targets.addAll(FleetFile.read(databasesFile, System.getenv()));
        if (targets.isEmpty()) throw Failure.usage("no database given: use --database-url, set DATABASE_URL, or use --databases-file");
        if (name != null && targets.size() > 1) {
            throw Failure.usage("--name applies to a single database; for several, name them in --databases-file (NAME=URL per line)");
        }
        if (sourceMoved && targets.size() > 1) {
            throw Failure.usage("--source-moved applies to a single database: back up the one that moved alone, with --name NAME --source-moved");
        }
        return BackupTarget.named(targets, name);
    }

    /** A leg of a fleet (--fleet-plan, --shard): its shard's databases, and how each is reached. */
    private FleetLeg leg() throws IOException {
        if (shard == null) throw Failure.usage("--fleet-plan needs --shard N: the leg's shard of the plan");
        boolean urlsGiven = spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--database-url");
        if (urlsGiven || name != null || sourceMoved) throw Failure.usage("--fleet-plan backs up its shard's databases: drop --database-url, --name and --source-moved");
        PrintWriter err = spec.commandLine().getErr();
        leg = FleetLeg.open(fleetPlan, shard, databasesFile, System.getenv(), w -> {
            synchronized (err) {
                err.println("backup: warning: " + w);
                err.flush();
            }
        });
        return leg;
    }

    /** The leg of --fleet-plan, or null. */
    private FleetLeg leg;

    /** One database's backup; a leg first finds its connection (a Neon URI is fetched just before the dump). */
    private BackupResult backupOne(BackupTarget t, DatabaseBackup backup) {
        return leg != null ? leg.backup(t, backup) : backup.backup(t);
    }

    /** Runs each database's backup, --jobs at a time; one failure never stops the others. */
    private List<BackupResult> runAll(List<BackupTarget> targets, DatabaseBackup backup) throws InterruptedException {
        if (targets.size() == 1) return List.of(backupOne(targets.get(0), backup));
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, targets.size()), Threads.daemons("backup-db"));
        try {
            List<Future<BackupResult>> futures = new ArrayList<>();
            for (BackupTarget t : targets) futures.add(pool.submit(() -> backupOne(t, backup)));
            List<BackupResult> results = new ArrayList<>();
            for (Future<BackupResult> f : futures) {
                try {
                    results.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("backup of a database crashed", e.getCause()); // backup() catches everything
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Report: summary on stderr, --json on stdout, Markdown for GitHub; the exit code (docs/architecture.md#exit-codes). */
    private int report(BackupReport report, Map<String, Failure> failures, PrintWriter err) {
        List<BackupResult> results = report.results();
        long failed = report.failed();
        int exit = report.exitCode();
        if (results.size() > 1 || failed == 0) err.print(report.table());
        if (results.size() > 1) {
            err.println(failed == 0 ? "backup: all " + results.size() + " databases backed up"
                    : "backup: " + failed + " of " + results.size() + " databases failed");
        }
        err.flush();
        if (output.json) report.json().print(spec.commandLine().getOut());
        StepSummary.append(report.markdown());
        if (results.size() == 1 && failed == 1) {
            // One database: its error is the script's error, one line with its own exit code.
            Failure f = failures.get(results.get(0).name());
            throw f != null ? f : new Failure(exit, results.get(0).error());
        }
        return exit;
    }
}
