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
//SOURCES lib/Threads.java
//SOURCES lib/PsqlSession.java
//SOURCES lib/UserTables.java
//SOURCES lib/DumpSnapshot.java
//SOURCES lib/ArchiveRows.java
//SOURCES lib/RowCounts.java
//SOURCES lib/PoolerCheck.java
//SOURCES lib/SourceHistory.java
//SOURCES lib/LockWatch.java

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * backup: stream pg_dump of one or many databases into S3, then write each backup's manifest.
 *
 * <p>For each database, in this order (design.md sections 2 and 4):
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
 */
@Command(name = "backup", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "Stream pg_dump (custom format) of one or many PostgreSQL databases into S3, with a checksummed manifest written last: a failed dump never becomes a visible backup.",
        footerHeading = "%nExamples:%n",
        footer = {"  DATABASE_URL='postgresql://u:pw@host/db?sslmode=require' backup --bucket b",
                "  backup --bucket b --databases-file fleet.txt --jobs 2",
                "  backup --bucket b -- --exclude-table-data=public.audit_log",
                "  backup --bucket b --encrypt-to age1...     (restore then needs --identity KEYFILE)"})
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

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1", description = "Databases dumped at the same time (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--pg-dump", paramLabel = "PATH", defaultValue = "${env:PG_DUMP}",
            description = "pg_dump to use (env PG_DUMP; default: /usr/lib/postgresql/<server major or newer>/bin/pg_dump, else pg_dump on PATH if not older than the server).")
    String pgDumpPath;

    @Option(names = "--compress", paramLabel = "METHOD[:DETAIL]",
            description = "Passed to pg_dump as --compress, e.g. zstd:9, lz4, gzip:9, none with pg_dump 16+; a gzip level 0-9 before (default: zstd with pg_dump 16+, gzip level 6 before).")
    String compress;

    @Option(names = "--part-size", paramLabel = "SIZE", defaultValue = "8MiB",
            description = "Size of the first 1,000 upload parts; it doubles every 1,000 parts (up to 256 MiB) so that dumps beyond 1 TiB fit in S3's 10,000 parts. Memory used: at most 3 parts per database, as far as the dump fills them (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--lock-wait-timeout", paramLabel = "DURATION", defaultValue = "${env:BACKUP_LOCK_WAIT_TIMEOUT:-" + LockWait.DEFAULT + "}",
            description = "How long pg_dump (and the row counts) may wait for a table lock before the backup fails naming who holds it, e.g. 30s, 5m, 1h;"
                    + " 0 waits forever (env BACKUP_LOCK_WAIT_TIMEOUT; default: ${DEFAULT-VALUE}).")
    String lockWaitTimeout;

    @Option(names = "--exact-count-limit", paramLabel = "SIZE", defaultValue = "${env:BACKUP_EXACT_COUNT_LIMIT:-" + CountLimit.DEFAULT + "}",
            description = "Count the rows of tables up to SIZE on disk exactly, in the dump's own snapshot; larger tables keep the archive's count only."
                    + " e.g. 1GiB, 0 (count none), unlimited (env BACKUP_EXACT_COUNT_LIMIT; default: ${DEFAULT-VALUE}).")
    String exactCountLimit;

    @Option(names = "--no-read-back", negatable = false,
            description = "Do not read the archive back while it streams (saves pg_restore's CPU): the backup then cannot prove every data block is readable,"
                    + " and the manifest has no archive row counts.")
    boolean noReadBack;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    @Parameters(paramLabel = "PG_DUMP_ARG", description = "Extra pg_dump arguments after --, e.g. -- --exclude-table-data=public.audit_log."
            + " Refused: -f/--file, -F/--format other than custom, -d/--dbname and other connection options, -j/--jobs, -Z/--compress (use --compress).")
    List<String> pgDumpArgs = new ArrayList<>();

    public static void main(String[] args) { Cli.main(new Backup(), args); }

    private Map<String, Failure> failures = Map.of();
    private long lockWaitMillis;
    private long countLimitBytes;
    /** The age recipients to encrypt to; empty: no encryption. */
    private List<String> recipients = List.of();

    /** One database to back up. */
    record Target(String name, ConnInfo conn) {}

    /** What happened to one database: the row of the summary and of --json. */
    record Result(String name, String database, String host, String status, String dumpKey, String manifestKey, Long sizeBytes,
                  String sha256, double durationSeconds, Long bytesPerSecond, Double secondsWaitingForS3, String compression,
                  Integer tocEntries, String error, int exitCode) {
        boolean ok() { return status.equals("ok"); }
    }

    /** The --json document. */
    record Report(boolean ok, int exitCode, String bucket, String prefix, int succeeded, int failed, List<Result> backups) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        // Everything that can be wrong with the input fails here, before any connection is made.
        storage.validate();
        long firstPartSize = PartSizes.parse(partSize);
        if (jobs < 1) throw Failure.usage("--jobs must be at least 1");
        lockWaitMillis = LockWait.parse(lockWaitTimeout);
        countLimitBytes = CountLimit.parse(exactCountLimit);
        List<String> extraArgs = DumpArgs.check(pgDumpArgs);
        recipients = Age.recipients(encryptTo);
        List<Target> targets = targets();
        String bucket = storage.bucket();
        String prefix = storage.prefix();

        List<Result> results;
        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            preflight(s3, bucket, prefix);
            Dumper dumper = new Dumper(s3, bucket, prefix, extraArgs, firstPartSize, err, targets.size() == 1, targets.size() == 1 || jobs == 1);
            results = runAll(targets, dumper);
            failures = dumper.failures;
        }
        return report(results, bucket, prefix, err);
    }

    /** The databases of this run, from --database-url (or DATABASE_URL) and --databases-file; names unique. */
    List<Target> targets() throws IOException {
        boolean urlsGiven = spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--database-url");
        List<Target> targets = new ArrayList<>();
        // DATABASE_URL is the default of --database-url; with a fleet file, only URLs given explicitly join it
        // (a DATABASE_URL secret that happens to be set must not silently add a database to the fleet).
        if (databasesFile == null || urlsGiven) {
            for (String url : databaseUrls) {
                if (url == null || url.isBlank()) continue;
                ConnInfo conn = ConnInfo.parse(url);
                targets.add(new Target(null, conn));
            }
        }
        if (databasesFile != null) targets.addAll(Fleet.read(databasesFile, System.getenv()));
        if (targets.isEmpty()) throw Failure.usage("no database given: use --database-url, set DATABASE_URL, or use --databases-file");
        if (name != null && targets.size() > 1) {
            throw Failure.usage("--name applies to a single database; for several, name them in --databases-file (NAME=URL per line)");
        }
        if (sourceMoved && targets.size() > 1) {
            throw Failure.usage("--source-moved applies to a single database: back up the one that moved alone, with --name NAME --source-moved");
        }
        List<Target> named = new ArrayList<>();
        Map<String, Target> seen = new HashMap<>();
        for (Target t : targets) {
            String n = t.name() != null ? t.name() : name != null ? name : BackupKey.sanitizeName(t.conn().database());
            if (t.name() != null || name != null) checkName(n);
            Target prior = seen.put(n, t);
            if (prior != null) {
                // Same NAME and start second would be the same key: one backup would overwrite the other.
                throw Failure.usage("two databases would be backed up under the same name '" + n + "' (" + prior.conn().redacted() + " and "
                        + t.conn().redacted() + "): name them in --databases-file (NAME=URL per line)");
            }
            named.add(new Target(n, t.conn()));
        }
        return named;
    }

    /**
     * A backup name given by the user (--name, or NAME= in the fleet file): checked, and echoed or turned into an
     * "e.g." suggestion only when it cannot be a URL or a password typed in the wrong place ({@link Redact#showableName}).
     */
    static void checkName(String n) {
        if (n == null || n.isBlank()) throw Failure.usage("the backup name is empty: use lowercase letters, digits, '.', '_' and '-'");
        if (n.length() > BackupKey.MAX_NAME) {
            throw Failure.usage("the backup name is " + n.length() + " characters long, at most " + BackupKey.MAX_NAME
                    + " are allowed (it appears twice in every S3 key, and S3 keys have at most 1024 bytes)");
        }
        if (!Redact.showableName(n)) {
            throw Failure.usage("invalid backup name (not shown: it holds characters such as : / @ ? = % that belong to a URL or a password,"
                    + " not to a name): use lowercase letters, digits, '.', '_' and '-'");
        }
        String clean = BackupKey.sanitizeName(n);
        if (!clean.equals(n)) {
            throw Failure.usage("invalid backup name '" + n + "': use lowercase letters, digits, '.', '_' and '-' (e.g. '" + clean + "')");
        }
    }

    /**
     * Fails fast on configuration problems (bucket missing, wrong region, no credentials, access denied,
     * endpoint unreachable) before any pg_dump starts: starts and aborts a multipart upload under the prefix.
     * That proves s3:PutObject and s3:AbortMultipartUpload on PREFIX/* (and KMS when the bucket encrypts with it)
     * and creates no object; s3:ListMultipartUploadParts is first needed when the upload completes. A listing would need s3:ListBucket instead,
     * and HeadBucket an unconditioned one, which a least-privilege writer role does not have.
     */
    static void preflight(S3Client s3, String bucket, String prefix) {
        String probe = BackupKey.preflightKey(prefix); // not a backup key: listings ignore it, prune reaps a stale upload of it
        String id = s3.createMultipartUpload(b -> b.bucket(bucket).key(probe)).uploadId();
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(probe).uploadId(id));
        } catch (RuntimeException e) {
            Failure f = Errors.classify(e);
            throw new Failure(f.exitCode, f.getMessage() + "; the preflight upload of s3://" + bucket + "/" + probe + " could not be aborted"
                    + " (prune or the bucket's lifecycle rule removes it)", e);
        }
    }

    /** Runs each database's backup, --jobs at a time; one failure never stops the others. */
    private List<Result> runAll(List<Target> targets, Dumper dumper) throws InterruptedException {
        if (targets.size() == 1) return List.of(dumper.backup(targets.get(0)));
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, targets.size()), daemon("backup-db"));
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (Target t : targets) futures.add(pool.submit(() -> dumper.backup(t)));
            List<Result> results = new ArrayList<>();
            for (Future<Result> f : futures) {
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

    /** Summary on stderr, --json on stdout, Markdown for GitHub; the exit code of design.md section 3. */
    private int report(List<Result> results, String bucket, String prefix, PrintWriter err) {
        long failed = results.stream().filter(r -> !r.ok()).count();
        int exit;
        if (failed == 0) exit = Exit.OK;
        else if (results.size() == 1) exit = results.get(0).exitCode();
        else exit = failed == results.size() ? Exit.FAILED : Exit.PARTIAL;

        if (results.size() > 1 || failed == 0) err.print(Summary.table(results, bucket));
        if (results.size() > 1) {
            err.println(failed == 0 ? "backup: all " + results.size() + " databases backed up"
                    : "backup: " + failed + " of " + results.size() + " databases failed");
        }
        err.flush();
        if (output.json) {
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.write(new Report(failed == 0, exit, bucket, prefix, (int) (results.size() - failed), (int) failed, results)));
            out.flush();
        }
        StepSummary.append(Summary.markdown(results, bucket));
        if (results.size() == 1 && failed == 1) {
            // One database: its error is the script's error, one line with its own exit code.
            Failure f = failures.get(results.get(0).name());
            throw f != null ? f : new Failure(exit, results.get(0).error());
        }
        return exit;
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Backs up one database at a time (thread-safe: --jobs runs several at once). */
    final class Dumper {
        private final S3Client s3;
        private final String bucket;
        private final String prefix;
        private final List<String> extraArgs;
        private final long firstPartSize;
        private final PrintWriter err;
        private final boolean ttyProgress;
        private final boolean alone;
        /** The failures by name, with their causes: a single database's failure is rethrown as the script's own. */
        final Map<String, Failure> failures = new ConcurrentHashMap<>();

        Dumper(S3Client s3, String bucket, String prefix, List<String> extraArgs, long firstPartSize, PrintWriter err, boolean alone, boolean sequential) {
            this.s3 = s3;
            this.bucket = bucket;
            this.prefix = prefix;
            this.extraArgs = extraArgs;
            this.firstPartSize = firstPartSize;
            this.err = err;
            // Redrawing one terminal line only makes sense when one dump runs at a time.
            this.ttyProgress = sequential && System.console() != null;
            this.alone = alone;
        }

        /** Never throws: a failure becomes a failed Result with its exit code and one-line error. */
        Result backup(Target t) {
            long start = System.nanoTime();
            try {
                return dump(t, start);
            } catch (Throwable e) {
                Failure f = e instanceof OutOfMemoryError
                        ? new Failure(Exit.CONFIG, "not enough memory for the upload buffers (3 parts of up to " + Progress.size(PartSizes.MAX_GROWN)
                                + " per database): give Java more heap (JAVA_TOOL_OPTIONS=-Xmx2g), lower --jobs or --part-size", e)
                        : Errors.classify(e);
                if (f.getCause() instanceof InterruptedException) Thread.currentThread().interrupt();
                failures.put(t.name(), f);
                if (!alone) {
                    // With one database, Cli prints its error as the script's one line; with several, each says its own.
                    log(t.name(), "error: " + f.getMessage());
                    if (output.verbose && f.getCause() != null) {
                        synchronized (err) { f.getCause().printStackTrace(err); }
                    }
                }
                return new Result(t.name(), t.conn().database(), t.conn().host(), "failed", null, null, null, null,
                        seconds(start), null, null, null, null, f.getMessage(), f.exitCode);
            }
        }

        private Result dump(Target t, long start) throws Exception {
            ConnInfo conn = t.conn();
            java.util.function.Consumer<String> note = msg -> log(t.name(), msg);
            java.util.function.Consumer<String> warn = msg -> log(t.name(), "warning: " + msg);
            if (!allowPooler) {
                // Never dump through Neon's pooled endpoint: its direct endpoint is the same database (README: "Pooled connections").
                PoolerCheck.Switch direct = PoolerCheck.directHost(conn);
                if (direct != null) {
                    note.accept("the host " + direct.from() + " is a pooled endpoint (Neon's -pooler naming): dumping from the direct host " + direct.to()
                            + (conn.param("hostaddr") != null ? " (hostaddr kept)" : "") + " instead; --allow-pooler keeps the pooled host");
                    conn = direct.conn();
                }
            }
            // psql first: it proves host, password and database (clear errors 69/77/64) and tells the server version.
            PgTools.Tool psql = PgTools.anyPsql();
            PgTools.ServerVersion server = PgTools.serverVersion(psql, conn);
            if (!allowPooler) {
                PoolerCheck.Finding pooler = PoolerCheck.probe(psql, conn);
                if (pooler.pgbouncer() && !pooler.sessionMode()) PoolerCheck.refuse(pooler, conn.host());
                if (pooler.pgbouncer()) note.accept("note: " + pooler.version() + " in session pooling mode at " + conn.host() + ": pg_dump keeps one server session");
            }
            PgTools.Tool pgDump = PgTools.select("pg_dump", pgDumpPath, server.major());
            Compression compression = Compression.choose(compress, pgDump.major());

            // One session for the source's identity, then the transaction whose snapshot pg_dump shares and in which rows are counted.
            PsqlSession session = PsqlSession.open(psql, conn);
            DumpSnapshot snapshot = null;
            try {
                Manifest.Source source = SourceHistory.check(s3, bucket, prefix, t.name(), SourceHistory.identify(session, conn.database()), sourceMoved, note, warn);
                snapshot = DumpSnapshot.begin(session, new DumpSnapshot.Settings(lockWaitMillis, DumpArgs.has(extraArgs, "enable-row-security"),
                        DumpArgs.has(extraArgs, "serializable-deferrable"), countLimitBytes), warn);
                List<UserTables.Table> userTables = snapshot.tables();
                return stream(t, conn, start, psql, server, pgDump, compression, source, snapshot, userTables);
            } finally {
                if (snapshot != null) snapshot.close();
                else session.close();
            }
        }

        private Result stream(Target t, ConnInfo conn, long start, PgTools.Tool psql, PgTools.ServerVersion server, PgTools.Tool pgDump,
                              Compression compression, Manifest.Source source, DumpSnapshot snapshot, List<UserTables.Table> userTables) throws Exception {
            BackupKey key = new BackupKey(prefix, t.name(), Instant.now().truncatedTo(ChronoUnit.SECONDS));
            log(t.name(), "pg_dump " + pgDump.version() + " of " + conn.database() + " on " + conn.host() + " (server " + server.version()
                    + "), compression " + compression.label() + (recipients.isEmpty() ? "" : ", encrypted with age to " + recipients.size()
                    + " recipient" + (recipients.size() == 1 ? "" : "s")) + " → s3://" + bucket + "/" + key.dumpKey());

            List<String> cmd = new ArrayList<>(List.of(pgDump.path().toString(), "--format=custom", compression.arg(), "--no-password"));
            if (snapshot.id() != null) cmd.add("--snapshot=" + snapshot.id());
            if (lockWaitMillis > 0) cmd.add("--lock-wait-timeout=" + lockWaitMillis);
            // --serializable-deferrable: our transaction waited for the safe snapshot and exported it; pg_dump imports it in
            // REPEATABLE READ (PostgreSQL refuses an import into a READ ONLY DEFERRABLE transaction).
            cmd.addAll(snapshot.id() == null ? extraArgs : DumpArgs.without(extraArgs, "serializable-deferrable"));
            // The URL without its password: the password reaches pg_dump only through PGPASSWORD in its environment.
            cmd.addAll(List.of("--dbname", conn.withoutPassword()));
            // A name the lock watch finds pg_dump's server session by (a URL's own application_name wins in libpq).
            String application = conn.param("application_name") != null ? conn.param("application_name")
                    : "pgdump-s3 backup " + java.util.UUID.randomUUID().toString().substring(0, 8);
            Map<String, String> env = new HashMap<>(conn.childEnvironment());
            env.put("PGAPPNAME", application);

            StreamUpload upload = StreamUpload.create(s3, bucket, key.dumpKey(), firstPartSize);
            Running running = new Running(upload, storage.aws);
            Cancellation.register(running);
            PgTools.Streaming dumpProc = null;
            TocCounter toc = null;
            ArchiveRows archive = null;
            java.util.concurrent.atomic.AtomicLong lastOutput = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
            LockWatch watch = null;
            try {
                if (!noReadBack) archive = ArchiveRows.start(pgDump, DumpArgs.has(extraArgs, "load-via-partition-root"));
                dumpProc = PgTools.start(cmd, env);
                running.dump = dumpProc;
                Process pgDumpProcess = dumpProc.process();
                upload.onFailure(pgDumpProcess::destroy);
                if (running.cancelled) throw new Failure(Exit.FAILED, "interrupted");
                dumpProc.stdin().close(); // pg_dump reads nothing from us
                snapshot.startCounting(userTables);
                watch = LockWatch.start(psql, conn, application, lastOutput::get, lockWaitMillis, msg -> log(t.name(), msg));
                toc = TocCounter.start(pgDump, warning -> log(t.name(), "warning: " + warning));
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                Progress progress = new Progress("backup " + t.name(), err, -1, ttyProgress);
                TocCounter tocFeed = toc;
                ArchiveRows archiveFeed = archive;
                boolean encrypted = !recipients.isEmpty();
                // Encrypted: the TOC count and the read-back see the plaintext, while the SHA-256 and the upload see the age file S3 stores.
                Age.Encrypting encrypting = encrypted ? Age.encrypting(dumpProc.stdout(), recipients, (buf, off, len) -> {
                    if (tocFeed != null) tocFeed.feed(buf, off, len);
                    if (archiveFeed != null) archiveFeed.feed(buf, off, len);
                }) : null;
                long bytes = upload.pump(encrypted ? encrypting : dumpProc.stdout(), (buf, off, len) -> {
                    lastOutput.set(System.nanoTime());
                    sha256.update(buf, off, len);
                    if (!encrypted) {
                        if (tocFeed != null) tocFeed.feed(buf, off, len);
                        if (archiveFeed != null) archiveFeed.feed(buf, off, len);
                    }
                    progress.add(len);
                });
                int exit = dumpProc.waitFor();
                progress.done();
                upload.throwIfFailed(); // an upload error explains a pg_dump we stopped because of it
                // The contract: pg_dump's exit status decides, before the upload is completed.
                if (exit != 0) {
                    String lock = running.cancelled ? null : watch.explain(dumpProc.stderr());
                    if (lock != null) throw new Failure(Exit.FAILED, lock + "; upload aborted, no backup written");
                    throw pgDumpFailed(exit, dumpProc.stderr(), running.cancelled);
                }
                watch.close();
                if (bytes == 0 || encrypted && encrypting.plaintextBytes() == 0) throw new Failure(Exit.FAILED, "pg_dump exited 0 but wrote nothing");
                if (output.verbose && !dumpProc.stderr().isBlank()) log(t.name(), "pg_dump said: " + Errors.lastLines(dumpProc.stderr(), 20));
                Integer tocEntries = toc == null ? null : toc.finish(msg -> log(t.name(), "warning: " + msg));
                // Every data block must read back: a pg_dump that exits 0 with its output cut short (or not an archive) is no backup.
                ArchiveRows.Result readBack = archive == null ? null : archive.finish();
                if (readBack != null && !readBack.readable()) {
                    throw new Failure(Exit.DATA_INVALID, "pg_dump exited 0 but its output is not a readable archive: " + readBack.problem()
                            + "; upload aborted, no backup written");
                }
                RowCounts.Outcome rows = RowCounts.combine(userTables, snapshot.finish(), readBack);
                if (!rows.disagreements().isEmpty()) throw RowCounts.failure(rows.disagreements());
                if (!rows.uncounted().isEmpty()) {
                    log(t.name(), "warning: " + rows.uncounted().size() + " table(s) not counted exactly (" + rows.uncounted().get(0)
                            + (rows.uncounted().size() > 1 ? "; ..." : "") + "): their manifest entries keep the archive's count");
                }
                if (snapshot.skippedLarge() > 0) {
                    log(t.name(), "note: " + snapshot.skippedLarge() + " table(s) larger than --exact-count-limit " + exactCountLimit
                            + " not counted in the database; their rows are counted in the archive");
                }

                upload.complete(bytes);
                String sha = HexFormat.of().formatHex(sha256.digest());
                checkStoredSize(key.dumpKey(), bytes);
                if (running.cancelled) throw new Failure(Exit.FAILED, "interrupted before the manifest was written: the dump without a manifest is not a backup");

                Manifest manifest = new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, t.name(), conn.database(), conn.host(),
                        key.dumpKey(), key.startedAt().toString(), Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(), bytes, sha,
                        pgDump.version(), server.version(), "custom", compression.label(),
                        encrypted ? new Manifest.Encryption(Age.SCHEME, recipients) : null, tocEntries, rows.tables(),
                        extraArgs.stream().map(Redact::text).toList(), source);
                writeManifest(key, manifest);
                confirmDump(key, bytes, t.name());
                double secs = seconds(start);
                double waited = upload.secondsWaitingForS3();
                if (waited > 10 && waited > secs / 4) {
                    log(t.name(), String.format(Locale.ROOT, "note: the dump waited %.0f s of %.0f s for S3 to take its parts: the upload, not pg_dump,"
                            + " set the pace (network or S3 throughput)", waited, secs));
                }
                return new Result(t.name(), conn.database(), conn.host(), "ok", key.dumpKey(), key.manifestKey(), bytes, sha, secs,
                        (long) (bytes / Math.max(secs, 1e-3)), Math.round(waited * 10) / 10.0, compression.label(), tocEntries, null, Exit.OK);
            } catch (Throwable e) {
                if (dumpProc != null) dumpProc.close(); // stop pg_dump if it is still running
                if (toc != null) toc.close();
                if (archive != null) archive.close();
                String abortProblem = upload.abortAfterFailure(s3);
                if (abortProblem != null) {
                    Failure f = Errors.classify(e);
                    throw new Failure(f.exitCode, f.getMessage() + "; " + abortProblem, e);
                }
                throw e;
            } finally {
                if (watch != null) watch.close();
                Cancellation.unregister(running);
            }
        }

        /**
         * S3 must store exactly the bytes we streamed. The parts were already counted before completion (ListParts);
         * this checks the completed object too where the role may read it (HeadObject needs s3:GetObject, which
         * setup-aws's writer role deliberately lacks: then the ListParts check stands alone).
         */
        private void checkStoredSize(String dumpKey, long bytes) {
            Long stored;
            try {
                stored = s3.headObject(b -> b.bucket(bucket).key(dumpKey)).contentLength();
            } catch (S3Exception e) {
                if (e.statusCode() == 404) stored = null;
                else if (e.statusCode() == 403) return; // no s3:GetObject: the ListParts check before completion stands
                else throw e;
            }
            if (stored == null) {
                throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + dumpKey + " is not there after its upload completed; no manifest written");
            }
            if (stored != bytes) {
                throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + dumpKey + " has " + stored + " bytes but pg_dump wrote " + bytes
                        + "; no manifest written, so it is not a backup");
            }
        }

        /**
         * After the manifest: is the dump still there? Something may have deleted it between its completion and the
         * manifest (a prune with a grace shorter than this run, an operator, a lifecycle rule); then the manifest just
         * written describes a backup without its dump, which is not complete: no reader restores or counts it, and this
         * run must not end green. HeadObject, or where the role may not read dumps (403) a listing of the exact key;
         * where it may do neither (an older writer role), a warning: the check cannot be made, the backup stands.
         */
        private void confirmDump(BackupKey key, long bytes, String name) {
            S3Object there;
            try {
                there = stored(s3, bucket, key.dumpKey());
            } catch (RuntimeException e) {
                if (e instanceof S3Exception s3e && s3e.statusCode() == 403) {
                    log(name, "warning: could not confirm that the dump is still there after the manifest was written (" + Errors.fromAws(s3e).getMessage()
                            + "): grant the role s3:ListBucket on the prefix (setup-aws does)");
                    return;
                }
                Failure f = Errors.classify(e);
                throw new Failure(f.exitCode, "the manifest " + key.manifestKey() + " was written, but whether its dump is still there could not be checked ("
                        + f.getMessage() + "): check the backup with restore verify --key " + key.dumpKey(), e);
            }
            if (there == null) {
                throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + key.dumpKey() + " vanished after its upload completed, before the manifest was"
                        + " written (a prune with a --grace shorter than this backup, or a deletion by hand): the manifest " + key.manifestKey()
                        + " describes a backup without its dump, which is not complete and is never restored or counted; earlier backups are"
                        + " untouched; run the backup again");
            }
            if (there.size() != null && there.size() != bytes) {
                throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + key.dumpKey() + " has " + there.size() + " bytes after the manifest was written,"
                        + " but pg_dump wrote " + bytes + ": it was replaced; the backup is not complete; run the backup again");
            }
        }

        /**
         * Only if no manifest has this key yet (If-None-Match: *): never replace another run's manifest. A 412 for
         * a manifest with our exact bytes is our own write, sent again by the SDK after its answer was lost.
         */
        private void writeManifest(BackupKey key, Manifest manifest) {
            byte[] full = manifest.toJson().getBytes(StandardCharsets.UTF_8);
            if (full.length > Manifest.MAX_BYTES) { // readers refuse such a manifest: never write one
                log(key.name(), "warning: " + (manifest.tables() == null ? 0 : manifest.tables().size()) + " tables make the manifest larger than "
                        + (Manifest.MAX_BYTES >> 20) + " MiB: their statistics are left out (a drill then checks the archive, not their rows)");
            }
            byte[] json = full.length > Manifest.MAX_BYTES ? manifest.withoutTables().toJson().getBytes(StandardCharsets.UTF_8) : full;
            try {
                try {
                    s3.putObject(b -> b.bucket(bucket).key(key.manifestKey()).contentType("application/json").ifNoneMatch("*"), RequestBody.fromBytes(json));
                } catch (S3Exception e) {
                    if (e.statusCode() == 501) { // a store without conditional writes
                        s3.putObject(b -> b.bucket(bucket).key(key.manifestKey()).contentType("application/json"), RequestBody.fromBytes(json));
                    } else if (e.statusCode() == 412 || e.statusCode() == 409) {
                        S3Object there = stored(s3, bucket, key.manifestKey());
                        if (there == null || !StreamUpload.etag(there).equals(HexFormat.of().formatHex(md5(json)))) {
                            // Only a store whose conditional writes are not atomic lets two runs this far with one key.
                            throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + key.manifestKey() + " already exists and is not this run's manifest:"
                                    + " another backup of '" + key.name() + "' started in the same second (run one backup of a database at a time);"
                                    + " check that backup with restore verify --key " + key.dumpKey(), e);
                        }
                    } else {
                        throw e;
                    }
                }
            } catch (Failure f) {
                throw f;
            } catch (RuntimeException e) {
                Failure f = Errors.classify(e);
                throw new Failure(f.exitCode, "the dump was stored but its manifest could not be written (" + f.getMessage()
                        + "): s3://" + bucket + "/" + key.dumpKey() + " is an incomplete backup; prune removes it after its grace period", e);
            }
        }

        private void log(String name, String message) {
            synchronized (err) {
                err.println("backup " + name + ": " + Redact.text(message));
                err.flush();
            }
        }
    }

    static Failure pgDumpFailed(int exit, String stderr, boolean cancelled) {
        if (cancelled) return new Failure(Exit.FAILED, "interrupted (SIGTERM/Ctrl-C): pg_dump stopped and the upload aborted");
        if (exit > 128) {
            return new Failure(Exit.FAILED, "pg_dump was killed by signal " + (exit - 128)
                    + (stderr.isBlank() ? "" : ": " + Errors.lastLines(stderr, 6)) + "; upload aborted, no backup written");
        }
        Failure f = Errors.fromPgTool("pg_dump", exit, stderr);
        String hint = stderr.contains("does not support compression") ? " (choose another with --compress, e.g. gzip:6)" : "";
        return new Failure(f.exitCode, f.getMessage() + hint + "; upload aborted, no backup written");
    }

    static double seconds(long startNanos) { return (System.nanoTime() - startNanos) / 1e9; }

    /**
     * The stored object's size and ETag, or null when there is none. HeadObject needs s3:GetObject; a role without
     * it can still see them through a listing of the exact key (s3:ListBucket on the prefix).
     */
    static S3Object stored(S3Client s3, String bucket, String key) {
        try {
            var head = s3.headObject(b -> b.bucket(bucket).key(key));
            return S3Object.builder().key(key).size(head.contentLength()).eTag(head.eTag()).build();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return null;
            if (e.statusCode() != 403) throw e;
            return s3.listObjectsV2(b -> b.bucket(bucket).prefix(key).maxKeys(1)).contents().stream()
                    .filter(o -> o.key().equals(key)).findFirst().orElse(null);
        }
    }

    static byte[] md5(byte[] bytes) {
        try {
            return MessageDigest.getInstance("MD5").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The multipart upload of one dump, fed from pg_dump's stdout by the calling thread.
     *
     * <p>Why our own multipart upload on the sync client instead of the SDK's transfer manager: we need the bytes
     * exactly once (for the SHA-256 and the TOC count on the way), the upload must never complete unless pg_dump
     * exited 0, and memory must stay bounded: {@value #BUFFERS} part buffers in total, {@value #UPLOADERS} of them
     * uploading while the reader fills the next; when S3 is slower than pg_dump, the reader blocks and pg_dump
     * waits on its pipe. Each part is sent from its in-memory buffer, so the SDK can retry it without a copy.
     */
    static final class StreamUpload {
        static final int BUFFERS = 3;
        static final int UPLOADERS = 2;
        private static final int CHUNK = 1 << 20;
        /**
         * A part buffer starts this small and doubles as the data comes, up to the part size: a 450 KB dump costs one
         * 512 KiB buffer instead of three of 8 MiB (a fleet of 40 small databases with --jobs 8 peaked at 467 MB RSS).
         * Full-size buffers are reused from part to part, so a large dump grows them once.
         */
        static final int FIRST_BUFFER = 256 << 10;

        interface Observer { void bytes(byte[] buf, int off, int len); }

        final String bucket;
        final String key;
        final String uploadId;
        private final S3Client s3;
        private final long firstPartSize;
        private final ExecutorService pool = Executors.newFixedThreadPool(UPLOADERS, daemon("upload-part"));
        private final Semaphore buffers = new Semaphore(BUFFERS);
        private final ConcurrentLinkedQueue<byte[]> spare = new ConcurrentLinkedQueue<>();
        private final List<CompletedPart> parts = Collections.synchronizedList(new ArrayList<>());
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private volatile boolean aborted;
        private volatile Runnable onFailure = () -> { };
        /** Time the reader spent blocked for a free buffer, i.e. pg_dump held back because S3 took parts more slowly. */
        private long waitedForS3Nanos;

        private StreamUpload(S3Client s3, String bucket, String key, String uploadId, long firstPartSize) {
            this.s3 = s3;
            this.bucket = bucket;
            this.key = key;
            this.uploadId = uploadId;
            this.firstPartSize = firstPartSize;
        }

        /** CRC32 per part: S3 checks every part on arrival (our SHA-256 covers the whole object for restores). */
        static StreamUpload create(S3Client s3, String bucket, String key, long firstPartSize) {
            String id = s3.createMultipartUpload(b -> b.bucket(bucket).key(key).contentType("application/octet-stream")
                    .checksumAlgorithm(ChecksumAlgorithm.CRC32)).uploadId();
            return new StreamUpload(s3, bucket, key, id, firstPartSize);
        }

        /** Reads {@code in} to its end into parts and uploads them; returns the bytes read. Throws on the first upload error. */
        long pump(InputStream in, Observer observer) throws IOException, InterruptedException {
            long total = 0;
            boolean eof = false;
            for (int partNumber = 1; !eof; partNumber++) {
                throwIfFailed();
                int size = PartSizes.size(partNumber, firstPartSize);
                long waitStart = System.nanoTime();
                buffers.acquire(); // blocks while BUFFERS parts are in flight: bounded memory
                waitedForS3Nanos += System.nanoTime() - waitStart;
                byte[] buf = spare.poll();
                if (buf == null) buf = new byte[Math.min(size, FIRST_BUFFER)];
                int len = 0;
                try {
                    while (len < size) {
                        if (len == buf.length) buf = java.util.Arrays.copyOf(buf, (int) Math.min(size, 2L * buf.length)); // grows with the data
                        int n = in.read(buf, len, Math.min(CHUNK, buf.length - len));
                        if (n < 0) {
                            eof = true;
                            break;
                        }
                        observer.bytes(buf, len, n);
                        len += n;
                    }
                    if (len > 0 && partNumber > PartSizes.MAX_PARTS) {
                        throw new Failure(Exit.FAILED, "the dump is larger than S3's 10,000 parts allow with --part-size " + Progress.size(firstPartSize)
                                + " (" + Progress.size(total) + " so far): use a larger --part-size");
                    }
                } catch (Throwable e) {
                    release(buf);
                    // pg_dump stopped because a part failed (onFailure): the upload's error is the one to report, not "Stream closed".
                    if (e instanceof IOException) throwIfFailed();
                    throw e;
                }
                if (len == 0) {
                    release(buf);
                    break;
                }
                total += len;
                submit(partNumber, buf, len);
            }
            return total;
        }

        private void submit(int partNumber, byte[] buf, int len) {
            pool.execute(() -> {
                try {
                    if (failure.get() != null || aborted) return;
                    // The part's CRC32 computed here, in one pass over the buffer, and sent as a header: left to the SDK, it
                    // is sent as a trailer, which makes the SDK copy the whole part into aws-chunked encoding on the way out.
                    UploadPartRequest request = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                            .partNumber(partNumber).contentLength((long) len).checksumAlgorithm(ChecksumAlgorithm.CRC32)
                            .checksumCRC32(crc32(buf, len)).overrideConfiguration(AwsClients.partTimeouts(len)).build();
                    // A content provider, not a stream: every retry gets a fresh view of the same buffer (no copy).
                    UploadPartResponse response = s3.uploadPart(request,
                            RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, len), len, "application/octet-stream"));
                    parts.add(CompletedPart.builder().partNumber(partNumber).eTag(response.eTag()).checksumCRC32(response.checksumCRC32()).build());
                } catch (Throwable e) {
                    if (failure.compareAndSet(null, e)) onFailure.run();
                } finally {
                    release(buf);
                }
            });
        }

        /** S3's x-amz-checksum-crc32: the base64 of the big-endian CRC32 (java.util.zip.CRC32 is a CPU intrinsic). */
        static String crc32(byte[] buf, int len) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(buf, 0, len);
            long v = crc.getValue();
            return java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        }

        private void release(byte[] buf) {
            spare.offer(buf);
            while (spare.size() > BUFFERS) spare.poll();
            buffers.release();
        }

        /** Seconds pump() waited for S3 to free a part buffer (0 when the upload kept up with pg_dump). */
        double secondsWaitingForS3() { return waitedForS3Nanos / 1e9; }

        /** What to do on the first failed part: stop the producer, which may be stalled and not reading for a long time. */
        void onFailure(Runnable action) { this.onFailure = action; }

        void throwIfFailed() {
            Throwable t = failure.get();
            if (t == null) return;
            Failure f = Errors.classify(t);
            throw new Failure(f.exitCode, "upload to s3://" + bucket + "/" + key + " failed: " + f.getMessage(), t);
        }

        /**
         * After pg_dump exited 0: waits for the last parts, checks with ListParts that S3 holds every part and
         * exactly {@code bytes} in all, then completes the upload (unless it was aborted meanwhile), only if no
         * object has this key yet (If-None-Match: *). Two backups of one name started in the same second share their
         * keys: the first to complete wins, the other fails here and is aborted, instead of silently replacing the
         * dump under the first one's manifest. A 412 for an object with the ETag our parts make is our own
         * completion, sent again by the SDK after its answer was lost.
         */
        void complete(long bytes) throws InterruptedException {
            pool.shutdown();
            if (!pool.awaitTermination(1, TimeUnit.HOURS)) throw new Failure(Exit.UNAVAILABLE, "upload parts did not finish within an hour");
            throwIfFailed();
            synchronized (this) {
                if (aborted) throw new Failure(Exit.FAILED, "interrupted: upload aborted");
            }
            List<CompletedPart> sorted = new ArrayList<>(parts);
            sorted.sort(Comparator.comparing(CompletedPart::partNumber));
            long listedBytes = 0;
            int listedParts = 0;
            for (var part : s3.listPartsPaginator(b -> b.bucket(bucket).key(key).uploadId(uploadId)).parts()) {
                listedBytes += part.size();
                listedParts++;
            }
            if (listedParts != sorted.size() || listedBytes != bytes) {
                throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + key + ": S3 holds " + listedParts + " parts, " + listedBytes
                        + " bytes, but we uploaded " + sorted.size() + " parts, " + bytes + " bytes; upload aborted, no manifest written");
            }
            try {
                s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(sorted)).ifNoneMatch("*")
                        .overrideConfiguration(AwsClients.completeTimeouts()));
            } catch (S3Exception e) {
                if (e.statusCode() == 501) { // a store without conditional writes
                    s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(sorted))
                            .overrideConfiguration(AwsClients.completeTimeouts()));
                    return;
                }
                if (e.statusCode() != 412 && e.statusCode() != 409) throw e;
                S3Object there = stored(s3, bucket, key);
                if (there != null && etag(there).equals(multipartEtag(sorted))) return;
                throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + key + " already exists: another backup of the same name started in the same second"
                        + " and stored it first; this run's dump was discarded and that backup left untouched (run one backup of a database at a time)", e);
            }
        }

        /** S3's ETag of a multipart object: the MD5 of the parts' binary ETags (MD5s), a dash, the number of parts ("" if unknown). */
        static String multipartEtag(List<CompletedPart> sorted) {
            java.io.ByteArrayOutputStream partEtags = new java.io.ByteArrayOutputStream();
            try {
                for (CompletedPart p : sorted) partEtags.writeBytes(HexFormat.of().parseHex(p.eTag().replace("\"", "")));
            } catch (RuntimeException notHex) {
                return ""; // a store with other ETags: the object cannot be recognised as ours
            }
            return HexFormat.of().formatHex(md5(partEtags.toByteArray())) + "-" + sorted.size();
        }

        static String etag(S3Object o) { return o.eTag() == null ? "" : o.eTag().replace("\"", "").toLowerCase(Locale.ROOT); }

        /**
         * After a failure: lets in-flight parts end (a part that lands after the abort could otherwise stay
         * stored), then aborts. Returns null, or what went wrong aborting (the bucket's lifecycle rule or prune
         * will remove the leftover parts).
         */
        String abortAfterFailure(S3Client client) {
            synchronized (this) { aborted = true; }
            pool.shutdown();
            try {
                pool.awaitTermination(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pool.shutdownNow();
            return abortCall(client);
        }

        /** From the shutdown hook: time is short, so abort at once, give in-flight parts a moment, abort again. */
        void abortNow(S3Client client) {
            synchronized (this) { aborted = true; }
            abortCall(client);
            pool.shutdownNow();
            try {
                pool.awaitTermination(3, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // the JVM is going down
            }
            abortCall(client);
        }

        private String abortCall(S3Client client) {
            try {
                client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
                return null;
            } catch (NoSuchUploadException gone) {
                return null; // already aborted (or completed): nothing left in progress
            } catch (RuntimeException e) {
                return "could not abort multipart upload " + uploadId + " of s3://" + bucket + "/" + key + " (" + Errors.classify(e).getMessage()
                        + "); its parts are removed by the bucket's lifecycle rule or by prune";
            }
        }
    }

    /**
     * Part sizes: {@code first} (8 MiB by default) for parts 1-1,000, doubling every 1,000 parts, up to
     * 256 MiB. So dumps up to ~8 GB use 8 MiB buffers, and 10,000 parts hold more than 1 TiB for any first size
     * from S3's 5 MiB minimum to 1 GiB. Buffers are Java arrays, hence the 1 GiB ceiling (S3's is 5 GiB).
     */
    static final class PartSizes {
        static final int MAX_PARTS = 10_000;
        static final long MIN = 5L << 20;
        static final long MAX_FIRST = 1L << 30;
        static final long MAX_GROWN = 256L << 20;
        private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);

        static int size(int partNumber, long first) {
            long doubled = first << Math.min(20, (partNumber - 1) / 1000);
            return (int) Math.max(first, Math.min(doubled, MAX_GROWN));
        }

        /** "8MiB", "16M", "5242880": binary units; between S3's 5 MiB minimum and 1 GiB. */
        static long parse(String text) {
            Matcher m = SIZE.matcher(text == null ? "" : text.strip());
            if (!m.matches()) throw Failure.usage("invalid --part-size '" + text + "': e.g. 8MiB, 64MiB");
            String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
            int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; default -> 0; };
            long value;
            try {
                value = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
            } catch (ArithmeticException | NumberFormatException e) {
                throw Failure.usage("invalid --part-size '" + text + "'");
            }
            if (value < MIN || value > MAX_FIRST) throw Failure.usage("--part-size must be between 5MiB (S3's minimum) and 1GiB, not " + text);
            return value;
        }

        private PartSizes() {}
    }

    /**
     * --lock-wait-timeout: how long pg_dump may wait for a table lock. Default 5 minutes: long enough to ride out a
     * migration or a maintenance command that holds a table briefly, short enough that a lock held by a stuck
     * session fails the night's backup within minutes, naming the session, instead of holding it (and pg_dump's
     * locks on the tables it already has) for as long as the job may run.
     */
    static final class LockWait {
        static final String DEFAULT = "5m";
        private static final Pattern VALUE = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|min|h)?", Pattern.CASE_INSENSITIVE);

        /** "30s", "5m", "1h", "1500ms", "0" (no limit) → milliseconds; a bare number is seconds. */
        static long parse(String text) {
            Matcher m = VALUE.matcher(text == null ? "" : text.strip());
            if (!m.matches()) throw Failure.usage("invalid --lock-wait-timeout '" + text + "': e.g. 30s, 5m, 1h, or 0 to wait forever");
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
            long ms = switch (unit) { case "ms" -> n; case "m", "min" -> n * 60_000; case "h" -> n * 3_600_000; default -> n * 1000; };
            if (ms > 24L * 3_600_000) throw Failure.usage("--lock-wait-timeout " + text + " is more than a day: use 0 to wait forever");
            if (ms > Integer.MAX_VALUE) throw Failure.usage("invalid --lock-wait-timeout '" + text + "'");
            return ms;
        }

        private LockWait() {}
    }

    /**
     * --exact-count-limit: tables up to this size (main fork, pg_class.relpages: as of its last VACUUM or ANALYZE) get an exact count(*) in the dump's
     * snapshot. The count reads the table once more (measured in the README's "Row counts" section); above the limit
     * the archive's own count stands alone.
     */
    static final class CountLimit {
        static final String DEFAULT = "10GiB";
        private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?", Pattern.CASE_INSENSITIVE);

        /** "10GiB", "500MB", "0" (count nothing), "unlimited" → bytes (binary units). */
        static long parse(String text) {
            String v = text == null ? "" : text.strip();
            if (v.equalsIgnoreCase("unlimited")) return Long.MAX_VALUE;
            Matcher m = SIZE.matcher(v);
            if (!m.matches()) throw Failure.usage("invalid --exact-count-limit '" + text + "': e.g. 10GiB, 500MiB, 0 (count no table), unlimited");
            String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
            int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; case 't' -> 40; default -> 0; };
            try {
                long bytes = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
                return bytes == 0 ? -1 : bytes; // 0: no table is counted (not even empty ones)
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }

        private CountLimit() {}
    }

    /** What --compress pg_dump gets, and its name in the manifest. */
    record Compression(String arg, String label) {
        /**
         * Default: the best the client offers, zstd from pg_dump 16 (which added it); gzip level 6 before (pg_dump
         * 14/15 accept only a level 0-9, meaning gzip). An explicit value is passed through unchanged.
         */
        static Compression choose(String explicit, int pgDumpMajor) {
            if (explicit == null || explicit.isBlank()) {
                return pgDumpMajor >= 16 ? new Compression("--compress=zstd", "zstd") : new Compression("--compress=6", "gzip:6");
            }
            String v = explicit.strip();
            if (pgDumpMajor < 16 && !v.matches("\\d")) {
                throw Failure.usage("pg_dump " + pgDumpMajor + " takes only a gzip level 0-9 as --compress, not '" + v
                        + "' (methods such as zstd, lz4 and gzip:N need pg_dump 16 or newer)");
            }
            return new Compression("--compress=" + v, label(v));
        }

        static String label(String v) {
            if (v.matches("\\d+")) return Integer.parseInt(v) == 0 ? "none" : "gzip:" + Integer.parseInt(v);
            if (v.matches("(?i)none(:.*)?")) return "none";
            return v.toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Checks extra pg_dump arguments the way pg_dump's getopt_long reads them (option values, joined short
     * flags such as -vf, unambiguous abbreviations such as --fi), and refuses those that would break the
     * contract: another output file or format, another database or connection, parallel mode, a prompt.
     */
    static final class DumpArgs {
        private static final String SHORT_WITH_VALUE = "deEfFhjnNpStTUZ";
        private static final Set<String> LONG_WITH_VALUE = Set.of("compress", "dbname", "encoding", "exclude-extension", "exclude-schema",
                "exclude-table", "exclude-table-and-children", "exclude-table-data", "exclude-table-data-and-children", "extension",
                "extra-float-digits", "file", "filter", "format", "host", "include-foreign-data", "jobs", "lock-wait-timeout", "port",
                "restrict-key", "role", "rows-per-insert", "schema", "section", "snapshot", "superuser", "sync-method", "table",
                "table-and-children", "username");
        private static final Set<String> LONG_FLAGS = Set.of("attribute-inserts", "binary-upgrade", "blobs", "clean", "column-inserts", "create",
                "data-only", "disable-dollar-quoting", "disable-triggers", "enable-row-security", "help", "if-exists", "inserts", "large-objects",
                "load-via-partition-root", "no-acl", "no-blobs", "no-comments", "no-data", "no-large-objects", "no-owner", "no-password",
                "no-policies", "no-privileges", "no-publications", "no-schema", "no-security-labels", "no-statistics", "no-subscriptions",
                "no-sync", "no-table-access-method", "no-tablespaces", "no-toast-compression", "no-unlogged-table-data", "on-conflict-do-nothing",
                "password", "quote-all-identifiers", "schema-only", "sequence-data", "serializable-deferrable", "statistics", "statistics-only",
                "strict-names", "use-set-session-authorization", "verbose", "version", "with-data", "with-schema", "with-statistics");
        private static final Map<String, String> REFUSED = new LinkedHashMap<>();
        private static final Map<Character, String> SHORT_NAMES = Map.ofEntries(Map.entry('f', "file"), Map.entry('F', "format"),
                Map.entry('d', "dbname"), Map.entry('h', "host"), Map.entry('p', "port"), Map.entry('U', "username"), Map.entry('j', "jobs"),
                Map.entry('Z', "compress"), Map.entry('W', "password"), Map.entry('V', "version"), Map.entry('?', "help"));

        static {
            String conn = "the connection comes from --database-url (put host, port, user and database in the URL)";
            REFUSED.put("file", "backup streams pg_dump's output to S3, it cannot also go to a file");
            REFUSED.put("format", "backups are always custom format (-Fc)");
            REFUSED.put("dbname", conn);
            REFUSED.put("host", conn);
            REFUSED.put("port", conn);
            REFUSED.put("username", conn);
            REFUSED.put("jobs", "pg_dump's parallel mode needs the directory format, which cannot be streamed (backup's own --jobs dumps several databases at once)");
            REFUSED.put("compress", "use backup's --compress option, which is recorded in the manifest");
            REFUSED.put("password", "pg_dump must never prompt: the password comes from the database URL");
            REFUSED.put("snapshot", "backup exports its own snapshot, shared by pg_dump and the exact row counts");
            REFUSED.put("lock-wait-timeout", "use backup's --lock-wait-timeout, which also bounds the row counts and names the blocking session");
            REFUSED.put("version", "it prints a version, not a dump");
            REFUSED.put("help", "it prints help, not a dump");
        }

        /** Returns the arguments unchanged, or throws a usage error naming the refused one and why. */
        static List<String> check(List<String> args) {
            List<String> list = args == null ? List.of() : List.copyOf(args);
            for (int i = 0; i < list.size(); i++) {
                String a = list.get(i);
                if (a.equals("--")) throw refuse(a, "pg_dump would take what follows as a database name; " + REFUSED.get("dbname"));
                if (a.startsWith("--")) {
                    int eq = a.indexOf('=');
                    String given = eq < 0 ? a.substring(2) : a.substring(2, eq);
                    String value = eq < 0 ? null : a.substring(eq + 1);
                    String option = resolveLong(given, a);
                    if (option != null && LONG_WITH_VALUE.contains(option) && value == null) value = i + 1 < list.size() ? list.get(++i) : null;
                    if (option != null) checkOption(option, value, a);
                } else if (a.startsWith("-") && a.length() > 1) {
                    for (int j = 1; j < a.length(); j++) {
                        char c = a.charAt(j);
                        String value = null;
                        boolean takesValue = SHORT_WITH_VALUE.indexOf(c) >= 0;
                        if (takesValue) value = j + 1 < a.length() ? a.substring(j + 1) : i + 1 < list.size() ? list.get(++i) : null;
                        String option = SHORT_NAMES.get(c);
                        if (option != null) checkOption(option, value, a);
                        if (takesValue) break;
                    }
                } else {
                    throw refuse(a, "pg_dump would take it as the database name; " + REFUSED.get("dbname")
                            + " (an option's value must follow it, e.g. -t TABLE or --table=TABLE)");
                }
            }
            return list;
        }

        /** Whether the (checked) arguments contain the long flag {@code option}, spelled in full or abbreviated. */
        static boolean has(List<String> args, String option) { return args.size() != without(args, option).size(); }

        /** The (checked) arguments without the long flag {@code option} (a flag: it takes no value). */
        static List<String> without(List<String> args, String option) {
            List<String> kept = new ArrayList<>();
            for (String a : args) {
                if (a.startsWith("--") && a.indexOf('=') < 0 && a.length() > 2 && option.equals(resolveLong(a.substring(2), a))) continue;
                kept.add(a);
            }
            return kept;
        }

        /** getopt_long's matching: exact name, else a prefix; a prefix of a refused option is refused, whatever else it could mean. */
        private static String resolveLong(String given, String arg) {
            if (LONG_WITH_VALUE.contains(given) || LONG_FLAGS.contains(given)) return given;
            for (String refused : REFUSED.keySet()) {
                if (!given.isEmpty() && refused.startsWith(given)) {
                    throw refuse(arg, "it abbreviates --" + refused + ": " + REFUSED.get(refused) + " (spell options in full)");
                }
            }
            String match = null;
            for (Set<String> names : List.of(LONG_WITH_VALUE, LONG_FLAGS)) {
                for (String n : names) {
                    if (n.startsWith(given)) {
                        if (match != null) return null; // ambiguous: pg_dump rejects it itself
                        match = n;
                    }
                }
            }
            return match; // null: unknown to us, pg_dump decides
        }

        private static void checkOption(String option, String value, String arg) {
            String why = REFUSED.get(option);
            if (why == null) return;
            if (option.equals("format") && value != null && (value.equalsIgnoreCase("c") || value.equalsIgnoreCase("custom"))) return;
            throw refuse(arg, why);
        }

        private static Failure refuse(String arg, String why) {
            return Failure.usage("pg_dump argument '" + arg + "' is not allowed: " + why);
        }

        private DumpArgs() {}
    }

    /**
     * The --databases-file format: NAME=URL or URL per line, # comments, ${VAR} from the environment, a UTF-8 text file.
     * A line may hold a password, so no message ever shows one, or anything made from one: a line that is not
     * NAME=URL or a URL is described by its line number only, and a NAME is echoed only when it has none of a URL's
     * characters (see {@link #checkName}). Forgiven: a byte order mark, quotes around the URL, spaces around '='.
     */
    static final class Fleet {
        private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
        /** A URL's scheme at the start of a line (postgresql://, jdbc:postgresql://, mysql://...), perhaps after a quote. */
        private static final Pattern URL_START = Pattern.compile("^[\"']?[A-Za-z][A-Za-z0-9+.-]*:(//|[A-Za-z])");
        /** A fleet file is a short list; anything bigger is a wrong file (a dump, a binary), not read into memory. */
        static final long MAX_BYTES = 1 << 20;

        static List<Target> read(Path file, Map<String, String> env) throws IOException {
            if (Files.isDirectory(file)) throw Failure.usage("--databases-file " + file + " is a directory: give the fleet file (one NAME=URL per line)");
            if (!Files.isReadable(file)) throw Failure.usage("cannot read --databases-file " + file + " (no such file, or no permission)");
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) { // not only regular files: <(envsubst < fleet.txt) is a pipe
                bytes = in.readNBytes((int) MAX_BYTES + 1);
            }
            if (bytes.length > MAX_BYTES) {
                throw Failure.usage("--databases-file " + file + " is bigger than " + Progress.size(MAX_BYTES) + ": a fleet file (one NAME=URL per line)"
                        + " is a small text file; is it the right file?");
            }
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw Failure.usage("--databases-file " + file + " is not UTF-8 text: give the fleet file (one NAME=URL per line)");
            }
            if (text.indexOf('\0') >= 0) throw Failure.usage("--databases-file " + file + " is a binary file, not a fleet file (one NAME=URL per line)");
            return parse(text.lines().toList(), file.toString(), env);
        }

        static List<Target> parse(List<String> lines, String where, Map<String, String> env) {
            List<Target> targets = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).replace("\uFEFF", "").strip(); // a BOM: Windows editors write one
                if (line.isEmpty() || line.startsWith("#")) continue;
                String at = where + " line " + (i + 1);
                Matcher m = VAR.matcher(line);
                StringBuilder expanded = new StringBuilder();
                while (m.find()) {
                    String v = env.get(m.group(1));
                    if (v == null || v.isBlank()) throw Failure.usage(at + ": environment variable " + m.group(1) + " is not set");
                    m.appendReplacement(expanded, Matcher.quoteReplacement(v.strip()));
                }
                m.appendTail(expanded);
                line = expanded.toString();
                String name = null;
                String url = line;
                if (!URL_START.matcher(line).find()) {
                    int eq = line.indexOf('=');
                    if (eq <= 0) throw Failure.usage(at + ": expected NAME=URL or URL (the line is not shown: it may hold a password)");
                    name = line.substring(0, eq).strip();
                    url = line.substring(eq + 1).strip();
                    try {
                        checkName(name);
                    } catch (Failure f) {
                        throw Failure.usage(at + ": " + f.getMessage());
                    }
                }
                try {
                    targets.add(new Target(name, ConnInfo.parse(url)));
                } catch (Failure f) {
                    throw Failure.usage(at + ": " + f.getMessage());
                }
            }
            if (targets.isEmpty()) throw Failure.usage(where + " lists no database");
            return targets;
        }

        private Fleet() {}
    }

    /**
     * Counts the archive's table of contents on the way, without a temp file: custom format written to a pipe
     * puts its whole TOC first, and {@code pg_restore --list} reading stdin exits as soon as it has read the TOC.
     * So we feed pg_restore the first bytes of the stream until it stops reading (or at most 256 MiB), and
     * count the entries it lists. Best effort: no pg_restore or an odd archive gives a warning and no count.
     */
    static final class TocCounter {
        private static final long MAX_FEED = 256L << 20;
        private final PgTools.Streaming proc;
        private final Thread reader;
        private final AtomicInteger entries = new AtomicInteger();
        private boolean feeding = true;
        private long fed;

        private TocCounter(PgTools.Streaming proc) {
            this.proc = proc;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.stdout(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) if (!line.isBlank() && !line.startsWith(";")) entries.incrementAndGet();
                } catch (IOException ignored) {
                    // pg_restore gone: finish() looks at its exit status
                }
            }, "toc-count");
            reader.setDaemon(true);
            reader.start();
        }

        static TocCounter start(PgTools.Tool pgDump, java.util.function.Consumer<String> warn) {
            try {
                Path sibling = pgDump.path().resolveSibling("pg_restore");
                PgTools.Tool pgRestore = Files.isExecutable(sibling) ? PgTools.probe(sibling) : PgTools.select("pg_restore", null, pgDump.major());
                return new TocCounter(PgTools.start(List.of(pgRestore.path().toString(), "--list"), Map.of()));
            } catch (Failure f) {
                warn.accept("no TOC entry count in the manifest: " + f.getMessage());
                return null;
            }
        }

        void feed(byte[] buf, int off, int len) {
            if (!feeding) return;
            try {
                proc.stdin().write(buf, off, len);
                proc.stdin().flush();
                fed += len;
                if (fed >= MAX_FEED) closeInput();
            } catch (IOException e) {
                feeding = false; // pg_restore has read the TOC and exited: the normal end
            }
        }

        private void closeInput() {
            feeding = false;
            try {
                proc.stdin().close();
            } catch (IOException ignored) {
                // already gone
            }
        }

        Integer finish(java.util.function.Consumer<String> warn) throws InterruptedException {
            closeInput();
            if (!proc.process().waitFor(60, TimeUnit.SECONDS)) {
                proc.close();
                warn.accept("pg_restore --list did not finish; no TOC entry count in the manifest");
                return null;
            }
            int exit = proc.waitFor();
            reader.join(10_000);
            if (exit != 0) { // 0 entries is a valid count: an empty database lists none
                warn.accept("pg_restore --list could not read the archive's TOC (exit " + exit + ": " + Errors.lastLines(proc.stderr(), 3)
                        + "); no TOC entry count in the manifest");
                return null;
            }
            return entries.get();
        }

        void close() {
            closeInput();
            proc.close();
        }
    }

    /** One dump in progress, as the shutdown hook sees it. */
    static final class Running {
        final StreamUpload upload;
        final AwsOptions aws;
        volatile PgTools.Streaming dump;
        volatile boolean cancelled;

        Running(StreamUpload upload, AwsOptions aws) {
            this.upload = upload;
            this.aws = aws;
        }
    }

    /**
     * SIGTERM (GitHub cancelling a job) and Ctrl-C end the JVM through its shutdown hooks: ours stops every
     * running pg_dump and aborts its multipart upload, so an interrupted run leaves nothing behind. It uses a
     * client of its own, because the main thread may be closing its own at the same moment.
     */
    static final class Cancellation {
        private static final Set<Running> RUNNING = ConcurrentHashMap.newKeySet();
        private static boolean hooked;

        static synchronized void register(Running r) {
            if (!hooked) {
                Runtime.getRuntime().addShutdownHook(new Thread(Cancellation::cancelAll, "backup-cancel"));
                hooked = true;
            }
            RUNNING.add(r);
        }

        static void unregister(Running r) { RUNNING.remove(r); }

        private static void cancelAll() {
            if (RUNNING.isEmpty()) return;
            List<Thread> threads = new ArrayList<>();
            for (Running r : List.copyOf(RUNNING)) {
                r.cancelled = true;
                PgTools.Streaming d = r.dump;
                if (d != null) d.process().destroy();
                Thread t = new Thread(() -> {
                    try (S3Client s3 = AwsClients.s3(r.aws)) {
                        r.upload.abortNow(s3);
                        System.err.println("backup: interrupted: aborted the upload of s3://" + r.upload.bucket + "/" + r.upload.key);
                    } catch (RuntimeException e) {
                        System.err.println("backup: interrupted: could not abort the upload of s3://" + r.upload.bucket + "/" + r.upload.key
                                + ": " + Errors.classify(e).getMessage());
                    }
                });
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                try {
                    t.join(20_000);
                } catch (InterruptedException ignored) {
                    return;
                }
            }
        }

        private Cancellation() {}
    }

    /** The summary of a run: a table on stderr and Markdown for GitHub's job summary. */
    static final class Summary {
        static String table(List<Result> results, String bucket) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "SIZE", "TIME", "SPEED", "RESULT"});
            for (Result r : results) rows.add(cells(r, bucket));
            int[] width = new int[5];
            for (String[] row : rows) for (int i = 0; i < 5; i++) width[i] = Math.max(width[i], row[i].length());
            StringBuilder sb = new StringBuilder();
            for (String[] row : rows) {
                for (int i = 0; i < 4; i++) sb.append(String.format(Locale.ROOT, "%-" + width[i] + "s  ", row[i]));
                sb.append(row[4]).append('\n');
            }
            return sb.toString();
        }

        static String markdown(List<Result> results, String bucket) {
            long ok = results.stream().filter(Result::ok).count();
            StringBuilder sb = new StringBuilder("### pgdump-s3 backup: " + ok + " of " + results.size() + " databases backed up\n\n");
            sb.append("| name | size | time | speed | result |\n|---|---:|---:|---:|---|\n");
            for (Result r : results) {
                String[] c = cells(r, bucket);
                sb.append("| ").append(md(c[0])).append(" | ").append(md(c[1])).append(" | ").append(md(c[2])).append(" | ").append(md(c[3]))
                        .append(" | ").append(r.ok() ? "`" + c[4] + "`" : "❌ " + md(c[4])).append(" |\n");
            }
            return sb.toString();
        }

        private static String[] cells(Result r, String bucket) {
            String time = String.format(Locale.ROOT, "%.1f s", r.durationSeconds());
            if (!r.ok()) return new String[] {r.name(), "-", time, "-", "failed (exit " + r.exitCode() + "): " + r.error()};
            return new String[] {r.name(), Progress.size(r.sizeBytes()), time, Progress.size(r.bytesPerSecond()) + "/s", "s3://" + bucket + "/" + r.dumpKey()};
        }

        private static String md(String s) { return s.replace("|", "\\|").replace("\n", " "); }

        private Summary() {}
    }
}
