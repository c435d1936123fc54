import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * backup --parallel N for one database: {@code pg_dump -Fd -j N} into a private spool directory, each file uploaded
 * to S3 as soon as pg_dump has closed it ({@link SpoolWatch} says how that is known) and deleted at once, toc.dat
 * last, then the manifest (format {@value Manifest#DIRECTORY_FORMAT}, every object with its size and SHA-256).
 *
 * <p>Objects: {@code PREFIX/NAME/NAME_STAMP.dump.d/FILE} for each file of pg_dump's directory (each an age file when
 * encrypted), next to {@code NAME_STAMP.manifest.json}. The safety rules hold as for one stream: the manifest is
 * written only after pg_dump exited 0, every TABLE DATA entry of the TOC has its object, and S3 lists every object
 * with its size; any failure, or SIGTERM, stops pg_dump, deletes the objects already stored (no manifest ever names
 * them), aborts the uploads in flight and deletes the spool.
 *
 * <p>The spool holds only what pg_dump is writing and what waits for its upload: at most the N tables being dumped
 * (a table's file is whole before it is closed) plus the files queued behind N uploads. Up front the plan needs the N
 * largest tables' on-disk size (pg_class.relpages, an overestimate of their compressed dump) free in the spool.
 */
final class ParallelBackup {
    /** Room kept on top of the plan for toc.dat and the files of small tables. */
    static final long HEADROOM = 64L << 20;
    private static final long POLL_MILLIS = 200;

    private final S3Client s3;
    private final String bucket;
    private final DatabaseBackup.Settings settings;
    private final PrintWriter err;
    private final Consumer<String> note;
    private final Consumer<String> warn;
    private final Set<String> stored = ConcurrentHashMap.newKeySet();
    private final Set<MultipartStreamUpload> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean cancelled;
    /** Set just before the manifest PUT: from then on the backup may be complete, and an interruption keeps its objects. */
    private volatile boolean manifestSent;

    ParallelBackup(S3Client s3, String bucket, DatabaseBackup.Settings settings, PrintWriter err, Consumer<String> note, Consumer<String> warn) {
        this.s3 = s3;
        this.bucket = bucket;
        this.settings = settings;
        this.err = err;
        this.note = note;
        this.warn = warn;
    }

    /** What the spool may hold at once with N workers: the N largest tables' on-disk size, plus {@link #HEADROOM}. */
    static long spoolNeed(int workers, List<UserTables.Table> tables) {
        return HEADROOM + tables.stream().map(UserTables.Table::bytes).sorted(Comparator.reverseOrder()).limit(workers).mapToLong(Long::longValue).sum();
    }

    /** Whether N workers' largest tables fit the spool's free space; a Failure (78) saying how much otherwise. */
    static void checkSpace(Path spool, int workers, List<UserTables.Table> tables, long usable) {
        long need = spoolNeed(workers, tables);
        if (usable < need) {
            throw new Failure(Exit.CONFIG, "the spool " + spool + " has " + Progress.size(usable) + " free, but --parallel " + workers + " may hold up to "
                    + Progress.size(need) + " there at once (the " + workers + " largest tables' on-disk size, plus " + Progress.size(HEADROOM)
                    + "): free space, point --spool at a larger disk, or lower --parallel");
        }
    }

    BackupResult run(BackupTarget t, ConnInfo conn, Stopwatch clock, PgTools.Tool psql, PgTools.ServerVersion server, PgTools.Tool pgDump,
                     DumpCompression compression, Manifest.Source source, DumpSnapshot snapshot, List<UserTables.Table> userTables,
                     String prefix) throws Exception {
        if (!SpoolWatch.available()) {
            throw new Failure(Exit.CONFIG, "--parallel needs Linux's /proc to see which files pg_dump has closed: run without --parallel on this system");
        }
        int workers = ConnectionBudget.cap(settings.parallel(), ConnectionBudget.measure(psql, conn), note);
        Path spoolRoot = settings.spool();
        Files.createDirectories(spoolRoot);
        checkSpace(spoolRoot, workers, userTables, Files.getFileStore(spoolRoot).getUsableSpace());

        BackupKey key = new BackupKey(prefix, t.name(), Instant.now().truncatedTo(ChronoUnit.SECONDS));
        String dirKey = key.base() + ".dump.d/";
        boolean encrypted = !settings.recipients().isEmpty();
        note.accept("pg_dump " + pgDump.version() + " -Fd -j " + workers + " of " + conn.database() + " on " + conn.host() + " (server " + server.version()
                + "), compression " + compression.label() + (encrypted ? ", each file encrypted with age" : "") + " → s3://" + bucket + "/" + dirKey);

        Path spool = Files.createTempDirectory(spoolRoot, "pgdump-s3-"); // 0700 on POSIX: the dump is the database's data
        Path dir = spool.resolve("dump");
        String application = conn.param("application_name") != null ? conn.param("application_name")
                : "pgdump-s3 backup " + java.util.UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>(conn.childEnvironment());
        env.put("PGAPPNAME", application);
        List<String> cmd = PgDumpArgs.directoryCommand(pgDump, compression, snapshot.id(), settings.lockWaitMillis(), settings.extraArgs(), conn,
                workers, dir);

        ExecutorService uploaders = Executors.newFixedThreadPool(workers, Threads.daemons("upload-file"));
        PgTools.Streaming dumpProc = null;
        LockWatch watch = null;
        AtomicLong lastOutput = new AtomicLong(System.nanoTime());
        Thread hook = new Thread(() -> cancel(spool), "backup-parallel-cancel");
        Runtime.getRuntime().addShutdownHook(hook);
        Progress progress = new Progress("backup " + t.name(), err, -1, false);
        long peakSpool = 0;
        try {
            dumpProc = PgTools.start(cmd, env);
            proc = dumpProc;
            dumpProc.stdin().close();
            snapshot.startCounting(userTables);
            watch = LockWatch.start(psql, conn, application, lastOutput::get, settings.lockWaitMillis(), note);
            SpoolWatch spoolWatch = new SpoolWatch(dir, dumpProc.process().toHandle());
            List<Future<Manifest.DumpObject>> uploads = new ArrayList<>();
            long lastSpool = -1;
            while (dumpProc.process().isAlive()) {
                if (cancelled) throw new Failure(Exit.FAILED, "interrupted (SIGTERM/Ctrl-C)");
                for (Path p : spoolWatch.closed(false)) uploads.add(uploaders.submit(() -> upload(p, dirKey, encrypted, progress)));
                throwIfFailed(uploads);
                long spoolBytes = sizeOf(dir);
                peakSpool = Math.max(peakSpool, spoolBytes);
                if (spoolBytes != lastSpool) lastOutput.set(System.nanoTime());
                lastSpool = spoolBytes;
                dumpProc.process().waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
            int exit = dumpProc.waitFor();
            if (exit != 0) {
                String lock = cancelled ? null : watch.explain(dumpProc.stderr());
                if (lock != null) throw new Failure(Exit.FAILED, lock + "; no backup written");
                if (dumpProc.stderr().contains("No space left on device")) {
                    throw new Failure(Exit.CONFIG, "the spool " + spoolRoot + " filled up (pg_dump: " + Errors.lastLines(dumpProc.stderr(), 1)
                            + "): free space, point --spool at a larger disk, or lower --parallel; no backup written");
                }
                throw DatabaseBackup.pgDumpFailed(exit, dumpProc.stderr(), cancelled);
            }
            watch.close();
            peakSpool = Math.max(peakSpool, sizeOf(dir));
            for (Path p : spoolWatch.closed(true)) uploads.add(uploaders.submit(() -> upload(p, dirKey, encrypted, progress)));
            List<Manifest.DumpObject> objects = new ArrayList<>();
            for (Future<Manifest.DumpObject> f : uploads) objects.add(get(f));
            Path toc = dir.resolve(SpoolWatch.TOC);
            if (!Files.isRegularFile(toc)) throw new Failure(Exit.FAILED, "pg_dump exited 0 but wrote no toc.dat; no backup written");
            List<String> tocLines = tocList(pgDump, dir);
            checkEveryDataFile(tocLines, objects);
            objects.add(upload(toc, dirKey, encrypted, progress)); // last: the archive is whole only once every data file is stored
            progress.done();
            if (settings.verbose() && !dumpProc.stderr().isBlank()) note.accept("pg_dump said: " + Errors.lastLines(dumpProc.stderr(), 20));

            RowCounts.Outcome rows = RowCounts.combine(userTables, snapshot.finish(), null);
            if (!rows.disagreements().isEmpty()) throw RowCounts.failure(rows.disagreements());
            objects.sort(Comparator.comparing(Manifest.DumpObject::name));
            long bytes = objects.stream().mapToLong(Manifest.DumpObject::sizeBytes).sum();
            checkStored(dirKey, objects);
            if (cancelled) throw new Failure(Exit.FAILED, "interrupted before the manifest was written");
            String sha = Digests.sha256Hex(Manifest.objectList(objects).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            Manifest manifest = new Manifest(Manifest.DIRECTORY_FORMAT, Version.TOOL, Version.VERSION, t.name(), conn.database(), conn.host(),
                    dirKey, key.startedAt().toString(), Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(), bytes, sha,
                    pgDump.version(), server.version(), "directory", compression.label(),
                    encrypted ? new Manifest.Encryption(Age.SCHEME, settings.recipients()) : null, TocEntries.count(tocLines), rows.tables(),
                    settings.extraArgs().stream().map(Redact::text).toList(), source, List.copyOf(objects));
            manifestSent = true;
            new StoredBackup(s3, bucket, key, settings.aws().store()).writeManifest(manifest, warn);
            checkStored(dirKey, objects); // still all there after the manifest (a prune or a person may delete meanwhile)
            double secs = clock.seconds();
            note.accept(String.format(Locale.ROOT, "%d objects, %s, peak spool %s, %.1f s", objects.size(), Progress.size(bytes), Progress.size(peakSpool), secs));
            return new BackupResult(t.name(), conn.database(), conn.host(), "ok", dirKey, key.manifestKey(), bytes, sha, secs,
                    (long) (bytes / Math.max(secs, 1e-3)), 0.0, compression.label(), manifest.tocEntries(), null, Exit.OK);
        } catch (Throwable e) {
            cancelled = true;
            if (dumpProc != null) destroyTree(dumpProc);
            // Uploads in flight end on their own (each checks cancelled before its last request): interrupting one could
            // leave a request S3 still carries out after the deletions below.
            uploaders.shutdown();
            uploaders.awaitTermination(60, TimeUnit.SECONDS);
            uploaders.shutdownNow();
            if (manifestSent && manifestMayExist(key)) throw e; // its objects are the backup's, whatever failed after the manifest
            String problem = deleteStored(s3);
            if (problem != null) {
                Failure f = Errors.classify(e);
                throw new Failure(f.exitCode, f.getMessage() + "; " + problem, e);
            }
            throw e;
        } finally {
            uploaders.shutdownNow();
            if (watch != null) watch.close();
            deleteTree(spool);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it finishes the cleanup
            }
        }
    }

    private volatile PgTools.Streaming proc;

    /** One file: read, perhaps encrypted, hashed and stored as {@code dirKey + name}; deleted from the spool once S3 has it. */
    private Manifest.DumpObject upload(Path file, String dirKey, boolean encrypted, Progress progress) throws IOException, InterruptedException {
        String name = file.getFileName().toString();
        String objectKey = dirKey + name;
        MessageDigest sha = Digests.sha256();
        long size;
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = encrypted ? Age.encrypting(raw, settings.recipients(), (b, o, l) -> { }) : raw) {
            // The file is whole: its part size is planned from its own size (or --part-size), as for a database of that size.
            PartPlan plan = PartPlan.of(settings.partSize(), Files.size(file));
            if (Files.size(file) < plan.partSize()) {
                byte[] bytes = in.readAllBytes();
                sha.update(bytes);
                size = bytes.length;
                if (cancelled) throw new Failure(Exit.FAILED, "interrupted");
                stored.add(objectKey); // before the request: one whose answer is lost may still have stored it
                put(objectKey, bytes);
            } else {
                MultipartStreamUpload upload = MultipartStreamUpload.create(s3, bucket, objectKey, plan, settings.aws().store());
                inFlight.add(upload);
                try {
                    size = upload.pump(in, sha::update);
                    if (cancelled) throw new Failure(Exit.FAILED, "interrupted");
                    stored.add(objectKey);
                    upload.complete(size);
                } catch (Throwable e) {
                    upload.abortAfterFailure(s3);
                    throw e;
                } finally {
                    inFlight.remove(upload);
                }
            }
        }
        Files.delete(file);
        synchronized (progress) { progress.add(size); }
        return new Manifest.DumpObject(name, size, Digests.hex(sha.digest()));
    }

    /** A small file in one request, only if no object has the key yet (two runs of one name in one second). */
    private void put(String objectKey, byte[] bytes) {
        try {
            s3.putObject(b -> b.bucket(bucket).key(objectKey).contentType("application/octet-stream").ifNoneMatch("*"), RequestBody.fromBytes(bytes));
        } catch (S3Exception e) {
            if (e.statusCode() == 501) { // a store without conditional writes
                s3.putObject(b -> b.bucket(bucket).key(objectKey).contentType("application/octet-stream"), RequestBody.fromBytes(bytes));
                return;
            }
            if (e.statusCode() == 412 || e.statusCode() == 409) {
                throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + objectKey + " already exists: another backup of the same name started in the"
                        + " same second (run one backup of a database at a time)", e);
            }
            throw e;
        }
    }

    /** {@code pg_restore --list} of the spool's toc.dat (the data files are gone by now: listing reads only the TOC). */
    private static List<String> tocList(PgTools.Tool pgDump, Path dir) {
        Path pgRestore = pgDump.path().resolveSibling("pg_restore");
        PgTools.Result r = PgTools.run(List.of(pgRestore.toString(), "--list", dir.toString()), Map.of(), null, 600);
        if (r.exitCode() != 0) {
            throw new Failure(Exit.DATA_INVALID, "pg_dump exited 0 but pg_restore cannot read its toc.dat: " + Errors.lastLines(r.stderr(), 3)
                    + "; no backup written");
        }
        return r.stdout().lines().toList();
    }

    /**
     * Every TABLE DATA (and large-object) entry of the TOC names its data file {@code DUMPID.dat[.EXT]}: each must be
     * among the stored objects, or pg_restore would fail on the day it matters.
     */
    static void checkEveryDataFile(List<String> tocLines, List<Manifest.DumpObject> objects) {
        Set<String> names = ConcurrentHashMap.newKeySet();
        for (Manifest.DumpObject o : objects) names.add(o.name().replaceFirst("\\.dat(\\..*)?$", ".dat"));
        for (String line : tocLines) {
            if (!TocEntries.isEntry(line) || !line.contains(" TABLE DATA ")) continue;
            String id = line.substring(0, line.indexOf(';')).strip();
            if (!names.contains(id + ".dat")) {
                throw new Failure(Exit.DATA_INVALID, "pg_dump's TOC lists table data " + line.strip() + " but its file " + id
                        + ".dat was not stored; no backup written");
            }
        }
    }

    /** S3 lists every object under {@code dirKey} with the size we stored, and none we did not. */
    private void checkStored(String dirKey, List<Manifest.DumpObject> objects) {
        Map<String, Long> listed = new HashMap<>();
        for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(dirKey)).contents()) listed.put(o.key().substring(dirKey.length()), o.size());
        for (Manifest.DumpObject o : objects) {
            Long size = listed.remove(o.name());
            if (size == null) throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + dirKey + o.name() + " is not there after its upload; no backup written");
            if (size != o.sizeBytes()) {
                throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + dirKey + o.name() + " has " + size + " bytes but " + o.sizeBytes()
                        + " were stored; no backup written");
            }
        }
        if (!listed.isEmpty()) {
            throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + dirKey + " holds objects this run did not store (" + listed.keySet().iterator().next()
                    + "): another backup of the same name started in the same second; no backup written");
        }
    }

    /** Whether the manifest is there (or whether it is cannot be told): then the objects it names must stay. */
    private boolean manifestMayExist(BackupKey key) {
        try {
            return StoredObject.find(s3, bucket, key.manifestKey()) != null;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** After a failure: removes what this run stored (no manifest names it); null, or what could not be removed. */
    private String deleteStored(S3Client client) {
        for (MultipartStreamUpload u : List.copyOf(inFlight)) u.abortAfterFailure(client);
        List<String> left = new ArrayList<>();
        RuntimeException problem = null;
        for (String k : List.copyOf(stored)) {
            try {
                client.deleteObject(b -> b.bucket(bucket).key(k));
                stored.remove(k);
            } catch (RuntimeException e) {
                left.add(k);
                problem = e;
            }
        }
        if (left.isEmpty()) return null;
        return "could not delete " + left.size() + " object(s) already stored, e.g. s3://" + bucket + "/" + left.get(0) + " ("
                + Errors.classify(problem).getMessage() + "): without a manifest they are no backup; delete them by hand";
    }

    /** SIGTERM / Ctrl-C: stop pg_dump and its workers, remove what was stored and the spool. */
    private void cancel(Path spool) {
        cancelled = true;
        PgTools.Streaming p = proc;
        if (p != null) destroyTree(p);
        if (manifestSent) {
            // The manifest may be stored by now: deleting its objects could turn a good backup into a broken one.
            System.err.println("backup: interrupted while the manifest was being written: the backup may be complete; check it with restore list");
            deleteTree(spool);
            return;
        }
        try (S3Client client = AwsClients.s3(settings.aws())) {
            String problem = deleteStored(client);
            System.err.println("backup: interrupted: pg_dump stopped" + (problem == null ? ", the objects already stored deleted" : "; " + problem));
        } catch (RuntimeException e) {
            System.err.println("backup: interrupted: could not delete the objects already stored: " + Errors.classify(e).getMessage());
        }
        deleteTree(spool);
    }

    private static void destroyTree(PgTools.Streaming p) {
        ProcessHandle h = p.process().toHandle();
        List<ProcessHandle> children = h.descendants().toList();
        for (ProcessHandle c : children) c.destroy();
        p.close();
        for (ProcessHandle c : children) {
            try {
                c.onExit().get(5, TimeUnit.SECONDS); // no worker writes into the spool after it is deleted
            } catch (Exception stillThere) {
                c.destroyForcibly();
            }
        }
    }

    private static void throwIfFailed(List<Future<Manifest.DumpObject>> uploads) throws Exception {
        for (Future<Manifest.DumpObject> f : uploads) if (f.isDone()) get(f);
    }

    private static Manifest.DumpObject get(Future<Manifest.DumpObject> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    private static long sizeOf(Path dir) {
        long total = 0;
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                try {
                    total += Files.size(p);
                } catch (IOException gone) {
                    // uploaded and deleted meanwhile
                }
            }
        } catch (IOException notYet) {
            return 0;
        }
        return total;
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) return;
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            System.err.println("backup: could not delete the spool " + root + ": " + e.getMessage() + " (delete it by hand: it holds database data)");
        }
    }
}
