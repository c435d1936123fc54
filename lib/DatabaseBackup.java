import java.io.PrintWriter;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The backup of one database, step by step (docs/architecture.md#safety-rules): the pooler and source checks, the
 * dump's snapshot and row counts, pg_dump streamed into a multipart upload (hashed, TOC-counted, read back and
 * perhaps encrypted on the way), and only when pg_dump exited 0 and every check agrees: the upload completed, the
 * manifest written last. Anything else aborts the upload. Thread-safe: --jobs runs several at once.
 */
final class DatabaseBackup {
    /** What backup's options decide for every database of a run. */
    record Settings(String pgDumpPath, String compress, boolean allowPooler, boolean sourceMoved, long lockWaitMillis, String exactCountLimit,
                    long countLimitBytes, List<String> recipients, boolean readBack, List<String> extraArgs, Long partSize, int concurrent, AwsOptions aws,
                    boolean verbose, int parallel, java.nio.file.Path spool, long parallelAbove) {
        /** parallel: {@link ParallelChoice#AUTO} (by size, from parallelAbove), 0 or 1 (one stream), N workers. */
        Settings(String pgDumpPath, String compress, boolean allowPooler, boolean sourceMoved, long lockWaitMillis, String exactCountLimit,
                 long countLimitBytes, List<String> recipients, boolean readBack, List<String> extraArgs, Long partSize, int concurrent, AwsOptions aws,
                 boolean verbose, int parallel, java.nio.file.Path spool) {
            this(pgDumpPath, compress, allowPooler, sourceMoved, lockWaitMillis, exactCountLimit, countLimitBytes, recipients, readBack, extraArgs,
                    partSize, concurrent, aws, verbose, parallel, spool, Long.MAX_VALUE);
        }

        /** The same settings with {@code workers} pg_dump workers, as chosen for one database. */
        Settings withParallel(int workers) {
            return new Settings(pgDumpPath, compress, allowPooler, sourceMoved, lockWaitMillis, exactCountLimit, countLimitBytes, recipients, readBack,
                    extraArgs, partSize, concurrent, aws, verbose, workers, spool, parallelAbove);
        }

        /** As before --parallel existed: one custom-format stream per database. */
        Settings(String pgDumpPath, String compress, boolean allowPooler, boolean sourceMoved, long lockWaitMillis, String exactCountLimit,
                 long countLimitBytes, List<String> recipients, boolean readBack, List<String> extraArgs, Long partSize, int concurrent, AwsOptions aws,
                 boolean verbose) {
            this(pgDumpPath, compress, allowPooler, sourceMoved, lockWaitMillis, exactCountLimit, countLimitBytes, recipients, readBack, extraArgs,
                    partSize, concurrent, aws, verbose, 0, null);
        }
    }

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final List<String> extraArgs;
    private final Settings settings;
    private final PrintWriter err;
    private final boolean ttyProgress;
    private final boolean alone;
    /** The failures by name, with their causes: a single database's failure is rethrown as the script's own. */
    final Map<String, Failure> failures = new ConcurrentHashMap<>();

    DatabaseBackup(S3Client s3, String bucket, String prefix, Settings settings, PrintWriter err, boolean alone, boolean sequential) {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix;
        this.settings = settings;
        this.extraArgs = settings.extraArgs();
        this.err = err;
        // Redrawing one terminal line only makes sense when one dump runs at a time.
        this.ttyProgress = sequential && System.console() != null;
        this.alone = alone;
    }

    /** Never throws: a failure becomes a failed BackupResult with its exit code and one-line error. */
    BackupResult backup(BackupTarget t) {
        Stopwatch clock = Stopwatch.start();
        try {
            return dump(t, clock);
        } catch (Throwable e) {
            Failure f = e instanceof OutOfMemoryError
                    ? new Failure(Exit.CONFIG, "not enough memory for the upload buffers (3 parts per database: docs/backup.md#part-sizes): give Java"
                            + " more heap (JAVA_TOOL_OPTIONS=-Xmx2g), lower --jobs or --part-size", e)
                    : Errors.classify(e);
            if (f.getCause() instanceof InterruptedException) Thread.currentThread().interrupt();
            failures.put(t.name(), f);
            if (!alone) {
                // With one database, Cli prints its error as the script's one line; with several, each says its own.
                log(t.name(), "error: " + f.getMessage());
                if (settings.verbose() && f.getCause() != null) {
                    synchronized (err) { f.getCause().printStackTrace(err); }
                }
            }
            return new BackupResult(t.name(), t.conn().database(), t.conn().host(), "failed", null, null, null, null,
                    clock.seconds(), null, null, null, null, f.getMessage(), f.exitCode);
        }
    }

    private BackupResult dump(BackupTarget t, Stopwatch clock) throws Exception {
        ConnInfo conn = t.conn();
        Consumer<String> note = msg -> log(t.name(), msg);
        Consumer<String> warn = msg -> log(t.name(), "warning: " + msg);
        if (!settings.allowPooler()) {
            // Never dump through Neon's pooled endpoint: its direct endpoint is the same database (docs/backup.md#pooled-connections).
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
        boolean pooled = settings.allowPooler();
        if (!settings.allowPooler()) {
            PoolerCheck.Finding pooler = PoolerCheck.probe(psql, conn);
            pooled = pooler.pgbouncer();
            if (pooler.pgbouncer() && !pooler.sessionMode()) PoolerCheck.refuse(pooler, conn.host());
            if (pooler.pgbouncer() && settings.parallel() >= 2) {
                // pg_dump -j: every worker imports the leader's snapshot, which needs one server behind all of them, held for the whole dump.
                throw new Failure(Exit.CONFIG, pooler.version() + " at " + conn.host() + " is a connection pooler: --parallel needs a direct connection"
                        + " (its workers share one snapshot); use the server's own host and port");
            }
            if (pooler.pgbouncer()) note.accept("note: " + pooler.version() + " in session pooling mode at " + conn.host() + ": pg_dump keeps one server session");
        }
        PgTools.Tool pgDump = PgTools.select("pg_dump", settings.pgDumpPath(), server.major());
        DumpCompression compression = DumpCompression.choose(settings.compress(), pgDump.major());

        // One session for the source's identity, then the transaction whose snapshot pg_dump shares and in which rows are counted.
        PsqlSession session = PsqlSession.open(psql, conn);
        DumpSnapshot snapshot = null;
        try {
            long databaseBytes = PartPlan.databaseSize(session); // what the part size is planned from
            Manifest.Source source = SourceHistory.check(s3, bucket, prefix, t.name(), SourceHistory.identify(session, conn.database()), settings.sourceMoved(), note, warn);
            snapshot = DumpSnapshot.begin(session, new DumpSnapshot.Settings(settings.lockWaitMillis(), PgDumpArgs.has(extraArgs, "enable-row-security"),
                    PgDumpArgs.has(extraArgs, "serializable-deferrable"), settings.countLimitBytes()), warn);
            List<UserTables.Table> userTables = snapshot.tables();
            ConnInfo direct = conn;
            int workers = ParallelChoice.choose(settings.parallel(), settings.parallelAbove(), new ParallelChoice.Facts(databaseBytes, settings.concurrent(),
                    pooled, SpoolWatch.available(), () -> ConnectionBudget.measure(psql, direct), settings.spool(), userTables,
                    () -> ParallelChoice.usableSpace(settings.spool())), note);
            if (workers > 0) {
                return new ParallelBackup(s3, bucket, settings.withParallel(workers), err, note, warn).run(t, conn, clock, psql, server, pgDump, compression, source, snapshot,
                        userTables, prefix);
            }
            return stream(t, conn, clock, psql, server, pgDump, compression, source, snapshot, userTables, databaseBytes);
        } finally {
            if (snapshot != null) snapshot.close();
            else session.close();
        }
    }

    private BackupResult stream(BackupTarget t, ConnInfo conn, Stopwatch clock, PgTools.Tool psql, PgTools.ServerVersion server, PgTools.Tool pgDump,
                                DumpCompression compression, Manifest.Source source, DumpSnapshot snapshot, List<UserTables.Table> userTables,
                                long databaseBytes) throws Exception {
        BackupKey key = new BackupKey(prefix, t.name(), Instant.now().truncatedTo(ChronoUnit.SECONDS));
        log(t.name(), "pg_dump " + pgDump.version() + " of " + conn.database() + " on " + conn.host() + " (server " + server.version()
                + "), compression " + compression.label() + (settings.recipients().isEmpty() ? "" : ", encrypted with age to " + settings.recipients().size()
                + " recipient" + (settings.recipients().size() == 1 ? "" : "s")) + " → s3://" + bucket + "/" + key.dumpKey());
        Consumer<String> warn = msg -> log(t.name(), "warning: " + msg);

        List<String> cmd = PgDumpArgs.command(pgDump, compression, snapshot.id(), settings.lockWaitMillis(), extraArgs, conn);
        // A name the lock watch finds pg_dump's server session by (a URL's own application_name wins in libpq).
        String application = conn.param("application_name") != null ? conn.param("application_name")
                : "pgdump-s3 backup " + java.util.UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>(conn.childEnvironment());
        env.put("PGAPPNAME", application);

        // One part size for the whole upload, planned before the dump starts (docs/backup.md#part-sizes).
        PartPlan plan = PartPlan.of(settings.partSize(), databaseBytes);
        if (plan.warning() != null) warn.accept(plan.warning());
        String memory = plan.memoryWarning(Runtime.getRuntime().maxMemory(), settings.concurrent());
        if (memory != null) warn.accept(memory);
        MultipartStreamUpload upload = MultipartStreamUpload.create(s3, bucket, key.dumpKey(), plan, settings.aws().store());
        UploadCancellation.Running running = new UploadCancellation.Running(upload, settings.aws());
        UploadCancellation.register(running);
        PgTools.Streaming dumpProc = null;
        TocCounter toc = null;
        ArchiveRows archive = null;
        AtomicLong lastOutput = new AtomicLong(System.nanoTime());
        LockWatch watch = null;
        try {
            if (settings.readBack()) archive = ArchiveRows.start(pgDump, PgDumpArgs.has(extraArgs, "load-via-partition-root"));
            dumpProc = PgTools.start(cmd, env);
            running.dump = dumpProc;
            Process pgDumpProcess = dumpProc.process();
            upload.onFailure(pgDumpProcess::destroy);
            if (running.cancelled) throw new Failure(Exit.FAILED, "interrupted");
            dumpProc.stdin().close(); // pg_dump reads nothing from us
            snapshot.startCounting(userTables);
            watch = LockWatch.start(psql, conn, application, lastOutput::get, settings.lockWaitMillis(), msg -> log(t.name(), msg));
            toc = TocCounter.start(pgDump, warn);
            MessageDigest sha256 = Digests.sha256();
            Progress progress = new Progress("backup " + t.name(), err, -1, ttyProgress);
            TocCounter tocFeed = toc;
            ArchiveRows archiveFeed = archive;
            boolean encrypted = !settings.recipients().isEmpty();
            // Encrypted: the TOC count and the read-back see the plaintext, while the SHA-256 and the upload see the age file S3 stores.
            Age.Encrypting encrypting = encrypted ? Age.encrypting(dumpProc.stdout(), settings.recipients(), (buf, off, len) -> {
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
            if (settings.verbose() && !dumpProc.stderr().isBlank()) log(t.name(), "pg_dump said: " + Errors.lastLines(dumpProc.stderr(), 20));
            Integer tocEntries = toc == null ? null : toc.finish(warn);
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
                log(t.name(), "note: " + snapshot.skippedLarge() + " table(s) larger than --exact-count-limit " + settings.exactCountLimit()
                        + " not counted in the database; their rows are counted in the archive");
            }

            upload.complete(bytes);
            String sha = Digests.hex(sha256.digest());
            StoredBackup stored = new StoredBackup(s3, bucket, key, settings.aws().store());
            stored.checkSize(bytes);
            if (running.cancelled) throw new Failure(Exit.FAILED, "interrupted before the manifest was written: the dump without a manifest is not a backup");

            Manifest manifest = new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, t.name(), conn.database(), conn.host(),
                    key.dumpKey(), key.startedAt().toString(), Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(), bytes, sha,
                    pgDump.version(), server.version(), "custom", compression.label(),
                    encrypted ? new Manifest.Encryption(Age.SCHEME, settings.recipients()) : null, tocEntries, rows.tables(),
                    extraArgs.stream().map(Redact::text).toList(), source);
            stored.writeManifest(manifest, warn);
            stored.confirmDump(bytes, warn);
            double secs = clock.seconds();
            double waited = upload.secondsWaitingForS3();
            if (waited > 10 && waited > secs / 4) {
                log(t.name(), String.format(Locale.ROOT, "note: the dump waited %.0f s of %.0f s for S3 to take its parts: the upload, not pg_dump,"
                        + " set the pace (network or S3 throughput)", waited, secs));
            }
            return new BackupResult(t.name(), conn.database(), conn.host(), "ok", key.dumpKey(), key.manifestKey(), bytes, sha, secs,
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
            UploadCancellation.unregister(running);
        }
    }

    private void log(String name, String message) {
        synchronized (err) {
            err.println("backup " + name + ": " + Redact.text(message));
            err.flush();
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
}
