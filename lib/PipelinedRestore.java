import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The restore of a directory-format backup (backup --parallel) into a database that nobody else has yet (one restore
 * created with --create, the drill's scratch database), streamed back with bounded disk: downloads overlap pg_restore.
 *
 * <ol>
 * <li>toc.dat first, checked ({@link #prepare}); {@code pg_restore --section=pre-data} needs nothing else, and runs
 *     while the first data files download.</li>
 * <li>The data: download workers fetch the tables' data files largest first, each checked (size, SHA-256, decrypted)
 *     into the private directory; as soon as one is proven, its TABLE DATA entry goes to one of up to {@code jobs}
 *     {@code pg_restore -L LIST} processes (several ready entries in one list, to save start-ups), and its file is
 *     deleted once that process has finished; the same slot then builds the table's own indexes and primary key,
 *     unique and check constraints ({@link #ownPostData}), as pg_restore -j does, while other tables still load. A table's rows are never loaded before its file's SHA-256 is proven.
 *     A file starts downloading only while the files downloaded or downloading but not yet restored, with it, stay
 *     within {@link #lookAhead} (twice the largest data file, at least 256 MiB): that, not the dump, bounds the disk.
 *     Then the rest of the data section ({@link #sections}) in one {@code pg_restore -L} pass, in the archive's order: the
 *     entries without a file (SEQUENCE SET, 17+'s BLOB METADATA, 18's statistics) and the large objects, whose files
 *     (all of them: they are small as a rule) are downloaded for it.</li>
 * <li>{@code pg_restore -L -j N} of the rest of the post-data section: foreign keys, triggers, policies, materialized views,
 *     the indexes of partitioned tables.</li>
 * </ol>
 * Each pg_restore reads the same directory, with only the files it needs present (15, 17 and 18 open a data file only
 * when they restore its entry). A bad object found half-way fails the restore (65, naming the object) with earlier
 * tables already committed: that is why only a database the caller drops on failure is restored this way.
 */
final class PipelinedRestore implements AutoCloseable {
    /** The smallest look-ahead: enough for many small files at once. */
    static final long MIN_LOOK_AHEAD = 256L << 20;
    /** At most this many TOC entries in one pg_restore of the data. */
    private static final int BATCH = 32;

    private final S3Client s3;
    private final String bucket;
    private final Manifest m;
    private final Age.Identities identities;
    private final PgTools.Tool pgRestore;
    private PgRestoreRun.Options how;
    private final String label;
    private final PrintWriter err;
    private final Path dir;
    private final Set<PgTools.Streaming> running = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private long peak;

    private PipelinedRestore(S3Client s3, String bucket, Manifest m, Age.Identities identities, PgTools.Tool pgRestore,
                             PgRestoreRun.Options how, String label, PrintWriter err, Path dir) {
        this.s3 = s3;
        this.bucket = bucket;
        this.m = m;
        this.identities = identities;
        this.pgRestore = pgRestore;
        this.how = how;
        this.label = label;
        this.err = err;
        this.dir = dir;
    }

    /**
     * The private directory next to {@code tempFile} (a {@link TempDump}'s: it holds the lock), with toc.dat in it,
     * checked; nothing else is downloaded yet. A damaged toc.dat: 65.
     */
    static PipelinedRestore prepare(S3Client s3, String bucket, Manifest m, Age.Identities identities, PgTools.Tool pgRestore,
                                    PgRestoreRun.Options how, Path tempFile, String label, PrintWriter err) throws IOException {
        List<Manifest.DumpObject> objects = DirectoryArchive.objects(m);
        if (m.encryption() != null && identities == null) {
            throw Failure.usage("the backup is encrypted with age: give the private key with --identity (env " + Age.IDENTITY_ENV + ")");
        }
        Path dir = DirectoryArchive.createDir(tempFile);
        try {
            for (Manifest.DumpObject o : objects) {
                if (o.name().equals("toc.dat")) DirectoryArchive.one(s3, bucket, m, o, identities, dir, n -> {});
            }
            return new PipelinedRestore(s3, bucket, m, identities, pgRestore, how, label, err, dir);
        } catch (RuntimeException e) {
            DirectoryArchive.delete(dir);
            throw Errors.classify(e);
        }
    }

    /** pg_restore --enable-row-security in every pass, or not ({@link RowSecurity}: the drill knows once it has the TOC). */
    PipelinedRestore rowSecurity(boolean enable) {
        how = how.withRowSecurity(enable);
        return this;
    }

    /** The directory pg_restore reads (toc.dat, and the data files on their way through). */
    Path dir() { return dir; }

    /** Most bytes held on disk at once (data files downloading or waiting, counted at their stored size; toc.dat not counted). */
    long peak() { return peak; }

    /** Bytes of data files downloaded or downloading but not yet restored: twice the largest, at least {@link #MIN_LOOK_AHEAD}. */
    static long lookAhead(Manifest m) {
        long largest = 0;
        for (Manifest.DumpObject o : m.objects()) if (!o.name().equals("toc.dat")) largest = Math.max(largest, o.sizeBytes());
        return Math.max(2 * largest, MIN_LOOK_AHEAD);
    }

    /**
     * Disk the pipelined restore needs at most: toc.dat, and the larger of the look-ahead and the files of the last
     * data pass (large objects and any file no table names); never more than the whole dump.
     */
    static long diskBound(Manifest m) {
        long toc = 0, others = 0;
        for (Manifest.DumpObject o : m.objects()) {
            if (o.name().equals("toc.dat")) toc = o.sizeBytes();
            else if (!o.name().matches("[0-9]+\\.dat(\\.[a-z0-9]+)?")) others += o.sizeBytes();
        }
        return Math.min(m.sizeBytes(), toc + Math.max(lookAhead(m), others));
    }

    /**
     * A table's data file on its way: its TOC entry, its object in the manifest, and the table's own indexes and
     * constraints, built right after its data as pg_restore -j does (see {@link #ownPostData}).
     */
    private record Item(ArchiveToc.Entry entry, Manifest.DumpObject object, List<ArchiveToc.Entry> after) {}

    private record Downloaded(Item item) {}

    /** A batch's rows are in: its files can go. */
    private record Loaded(List<Item> batch) {}

    /** A pg_restore slot is free again (the batch's indexes built too). */
    private record SlotFree() {}

    private record Failed(Throwable cause) {}

    /** The three passes into {@code db} (see the class comment); {@code watch} (null: none) is told each pg_restore. */
    void restore(ConnInfo db, RestoreInterruption watch) throws Exception {
        ArchiveToc toc = ArchiveToc.read(dir.resolve("toc.dat"));
        Map<String, Manifest.DumpObject> byName = new HashMap<>();
        for (Manifest.DumpObject o : m.objects()) byName.put(o.name(), o);
        List<Item> items = new ArrayList<>();
        Set<String> used = new HashSet<>(Set.of("toc.dat"));
        Map<Integer, List<ArchiveToc.Entry>> own = ownPostData(toc);
        for (ArchiveToc.Entry e : toc.entries) {
            String file = toc.dataFiles.get(e.dumpId());
            if (!e.desc().equals("TABLE DATA") || file == null) continue;
            Manifest.DumpObject o = null;
            for (String suffix : List.of("", ".gz", ".zst", ".lz4")) if (o == null) o = byName.get(file + suffix);
            if (o == null) {
                throw new Failure(Exit.DATA_INVALID, "the manifest of " + m.dumpKey() + " lists no data file for " + e.describe() + " (" + file
                        + "): the backup is incomplete; nothing of that table was restored");
            }
            Integer table = tableOf(toc, e);
            items.add(new Item(e, o, table == null ? List.of() : own.getOrDefault(table, List.of())));
            used.add(o.name());
        }
        List<Manifest.DumpObject> rest = m.objects().stream().filter(o -> !used.contains(o.name())).toList();
        long dataBytes = items.stream().mapToLong(i -> i.object().sizeBytes()).sum();

        long t0 = System.nanoTime();
        PgRestoreRun.Options serial = new PgRestoreRun.Options(false, 1, false, how.noOwner(), how.noAcl(), how.enableRowSecurity());
        long lookAhead = lookAhead(m);
        err.println(label + ": pg_restore " + pgRestore.version() + " into \"" + db.database() + "\": pre-data (schemas, tables, functions, types)"
                + (how.noOwner() ? ", --no-owner" : "") + (how.noAcl() ? ", --no-acl" : "") + (how.clean() ? ", --clean" : "")
                + (how.enableRowSecurity() ? ", --enable-row-security" : "") + "; meanwhile the data: " + items.size() + " table files (" + Progress.size(dataBytes) + "), each checked and restored as it arrives, "
                + Math.max(1, how.jobs()) + " pg_restore at a time, at most " + Progress.size(lookAhead) + " downloaded ahead");
        err.flush();
        long[] preData = new long[1];
        pipeline(db, items, lookAhead, serial, watch, () -> {
            pgRestore(db, new PgRestoreRun.Options(how.clean(), 1, false, how.noOwner(), how.noAcl(), how.enableRowSecurity()), List.of("--section=pre-data"), null, watch);
            preData[0] = System.nanoTime();
        });
        long t1 = preData[0];

        // The rest of the data section in the archive's order: BLOB METADATA before BLOBS (17+), sequences, statistics.
        if (!rest.isEmpty()) fetchAll(rest);
        Set<Integer> restored = new HashSet<>();
        for (Item i : items) restored.add(i.entry().dumpId());
        Map<Integer, Integer> sections = sections(toc);
        Path list = writeList(toc.entries.stream().filter(e -> sections.get(e.dumpId()) == ArchiveToc.SECTION_DATA && !restored.contains(e.dumpId())).toList(), "rest");
        try {
            pgRestore(db, serial, List.of(), list, watch);
        } finally {
            Files.deleteIfExists(list);
        }
        for (Manifest.DumpObject o : rest) Files.deleteIfExists(dir.resolve(o.name()));

        long t2 = System.nanoTime();
        Set<Integer> early = new HashSet<>();
        for (Item i : items) for (ArchiveToc.Entry e : i.after()) early.add(e.dumpId());
        err.println(label + ": post-data (" + (early.isEmpty() ? "" : "the rest of it: " + early.size() + " indexes and constraints were built right after"
                + " their table's data; ") + "foreign keys, triggers, policies, materialized views)" + (how.jobs() > 1 ? " with " + how.jobs() + " jobs" : ""));
        err.flush();
        Path post = writeList(toc.entries.stream().filter(e -> sections.get(e.dumpId()) == ArchiveToc.SECTION_POST_DATA && !early.contains(e.dumpId())).toList(), "post");
        try {
            pgRestore(db, new PgRestoreRun.Options(false, how.jobs(), false, how.noOwner(), how.noAcl(), how.enableRowSecurity()), List.of(), post, watch);
        } finally {
            Files.deleteIfExists(post);
        }
        if (watch != null) watch.committed = true;
        long t3 = System.nanoTime();
        err.printf(Locale.ROOT, "%s: restored in three passes: pre-data %.1f s, data %.1f s, post-data %.1f s; peak temp disk %s"
                        + " (data files downloaded but not yet restored; the whole dump is %s)%n",
                label, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, Progress.size(peak), Progress.size(m.sizeBytes()));
        err.flush();
    }

    /** What runs before any data is loaded: the pre-data pass. */
    private interface Schema {
        void restore() throws Exception;
    }

    private record SchemaDone() {}

    /**
     * Steps 1 and 2: {@code schema} (pre-data) runs while the first data files download; then downloads and restores
     * overlap, the disk bounded by {@code lookAhead}.
     */
    private void pipeline(ConnInfo db, List<Item> items, long lookAhead, PgRestoreRun.Options serial, RestoreInterruption watch, Schema schema)
            throws Exception {
        int jobs = Math.max(1, how.jobs());
        int downloaders = Math.max(2, jobs);
        Deque<Item> waiting = new ArrayDeque<>(items.stream().sorted(Comparator.comparingLong((Item i) -> i.object().sizeBytes()).reversed()).toList());
        Deque<Item> ready = new ArrayDeque<>();
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        ExecutorService downloads = Executors.newFixedThreadPool(downloaders, Threads.daemons("download-object"));
        ExecutorService restores = Executors.newFixedThreadPool(jobs, Threads.daemons("pg-restore-data"));
        long total = items.stream().mapToLong(i -> i.object().sizeBytes()).sum();
        Progress progress = new Progress(label + ": restoring " + items.size() + " table files", err, total);
        int downloading = 0, restoring = 1, left = items.size();
        long held = 0; // bytes of files downloading, or downloaded and not yet restored
        boolean schemaReady = false, ok = false;
        restores.execute(() -> {
            try {
                schema.restore();
                events.add(new SchemaDone());
            } catch (Throwable t) {
                events.add(new Failed(t));
            }
        });
        try {
            while (left > 0 || restoring > 0) {
                while (downloading < downloaders && !waiting.isEmpty() && (held == 0 || held + waiting.peek().object().sizeBytes() <= lookAhead)) {
                    Item next = waiting.poll();
                    held += next.object().sizeBytes();
                    peak = Math.max(peak, held);
                    downloading++;
                    downloads.execute(() -> {
                        try {
                            DirectoryArchive.one(s3, bucket, m, next.object(), identities, dir, n -> {});
                            events.add(new Downloaded(next));
                        } catch (Throwable t) {
                            events.add(new Failed(t));
                        }
                    });
                }
                while (schemaReady && restoring < jobs && !ready.isEmpty()) {
                    // Share what is ready among the free pg_restore slots; the largest files come first, alone as a rule.
                    int take = Math.min(BATCH, (ready.size() + (jobs - restoring) - 1) / (jobs - restoring));
                    List<Item> batch = new ArrayList<>();
                    while (batch.size() < take) batch.add(ready.poll());
                    restoring++;
                    restores.execute(() -> {
                        try {
                            Path list = writeList(batch.stream().map(Item::entry).toList(), "data");
                            try {
                                pgRestore(db, serial, List.of(), list, watch);
                            } finally {
                                Files.deleteIfExists(list);
                            }
                            events.add(new Loaded(batch));
                            List<ArchiveToc.Entry> after = batch.stream().flatMap(i -> i.after().stream()).toList();
                            if (!after.isEmpty()) {
                                Path own = writeList(after, "index");
                                try {
                                    pgRestore(db, serial, List.of(), own, watch);
                                } finally {
                                    Files.deleteIfExists(own);
                                }
                            }
                            events.add(new SlotFree());
                        } catch (Throwable t) {
                            events.add(new Failed(t));
                        }
                    });
                }
                Object event = events.take();
                if (event instanceof Failed f) {
                    if (f.cause() instanceof Failure failure) throw failure;
                    if (f.cause() instanceof RuntimeException r) throw Errors.classify(r);
                    if (f.cause() instanceof Exception e) throw e;
                    throw new IllegalStateException(f.cause());
                } else if (event instanceof SchemaDone) {
                    restoring--;
                    schemaReady = true;
                } else if (event instanceof Downloaded d) {
                    downloading--;
                    ready.add(d.item());
                } else if (event instanceof SlotFree) {
                    restoring--;
                } else if (event instanceof Loaded r) {
                    for (Item i : r.batch()) {
                        Files.deleteIfExists(dir.resolve(i.object().name()));
                        held -= i.object().sizeBytes();
                        progress.add(i.object().sizeBytes());
                        left--;
                    }
                }
            }
            progress.done();
            ok = true;
        } finally {
            downloads.shutdownNow();
            restores.shutdownNow();
            if (!ok) {
                for (PgTools.Streaming p : List.copyOf(running)) p.close(); // the first failure stops the rest
                // Let the downloads stop before the caller deletes the directory they write into.
                downloads.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The post-data entries that can be built as soon as a table's rows are in, as pg_restore -j schedules them, by the
     * table's dump id: an INDEX or a CONSTRAINT (primary key, unique, check; not a foreign key, which needs another
     * table) that depends on one table and otherwise on pre-data entries only.
     */
    static Map<Integer, List<ArchiveToc.Entry>> ownPostData(ArchiveToc toc) {
        Map<Integer, List<ArchiveToc.Entry>> own = new HashMap<>();
        for (ArchiveToc.Entry e : toc.entries) {
            if (e.section() != ArchiveToc.SECTION_POST_DATA || !(e.desc().equals("INDEX") || e.desc().equals("CONSTRAINT"))) continue;
            Integer table = null;
            boolean ok = true;
            for (int d : e.deps()) {
                ArchiveToc.Entry dep = toc.get(d);
                if (dep != null && dep.desc().equals("TABLE") && table == null) table = d;
                else if (dep == null || dep.section() != ArchiveToc.SECTION_PRE_DATA) ok = false;
            }
            if (ok && table != null) own.computeIfAbsent(table, t -> new ArrayList<>()).add(e);
        }
        return own;
    }

    /**
     * Each entry's section as pg_restore counts it: a comment, grant or security label (section "none") belongs to
     * the section of the entry before it in the archive. Computed here, on the archive's order, because pg_restore
     * computes it on the order of its -L list, where the entry before a comment may be one left out of the list.
     */
    static Map<Integer, Integer> sections(ArchiveToc toc) {
        Map<Integer, Integer> out = new HashMap<>();
        int current = ArchiveToc.SECTION_PRE_DATA;
        for (ArchiveToc.Entry e : toc.entries) {
            if (e.section() == ArchiveToc.SECTION_PRE_DATA || e.section() == ArchiveToc.SECTION_DATA || e.section() == ArchiveToc.SECTION_POST_DATA) {
                current = e.section();
            }
            out.put(e.dumpId(), current);
        }
        return out;
    }

    /** The dump id of the TABLE whose data {@code data} is (null: none found). */
    private static Integer tableOf(ArchiveToc toc, ArchiveToc.Entry data) {
        for (int d : data.deps()) {
            ArchiveToc.Entry t = toc.get(d);
            if (t != null && t.desc().equals("TABLE")) return d;
        }
        return null;
    }

    /** Downloads (and checks) {@code objects} into the directory, several at a time. */
    private void fetchAll(List<Manifest.DumpObject> objects) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, how.jobs()), Threads.daemons("download-object"));
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (Manifest.DumpObject o : objects) done.add(pool.submit(() -> { DirectoryArchive.one(s3, bucket, m, o, identities, dir, n -> {}); return null; }));
            long bytes = objects.stream().mapToLong(Manifest.DumpObject::sizeBytes).sum();
            peak = Math.max(peak, bytes);
            for (java.util.concurrent.Future<?> f : done) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw Errors.classify(r);
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A list file for pg_restore -L (it reads the leading dump id of each line), next to the data, private like it. */
    private Path writeList(List<ArchiveToc.Entry> entries, String what) throws IOException {
        StringBuilder b = new StringBuilder();
        for (ArchiveToc.Entry e : entries) {
            b.append(e.dumpId()).append("; ").append(e.tableOid()).append(' ').append(e.oid()).append(' ').append(e.describe().replace('\n', ' ')).append('\n');
        }
        // Not a name pg_dump writes (those are digits, blob_*, blobs*.toc, toc.dat): never mistaken for a data file.
        Path list = Files.createTempFile(dir, "pgdump-s3-" + what + "-", ".list");
        Files.writeString(list, b.toString());
        return list;
    }

    /** One pg_restore of {@code dir}: {@code extra} options, the entries of {@code list} (null: all). */
    private void pgRestore(ConnInfo db, PgRestoreRun.Options options, List<String> extra, Path list, RestoreInterruption watch) throws Exception {
        List<String> cmd = new ArrayList<>(PgRestoreRun.command(pgRestore, db, options, null, list, false));
        cmd.addAll(extra);
        cmd.add(dir.toString());
        try (PgTools.Streaming p = PgTools.start(Lifeline.wrap(cmd), db.childEnvironment())) {
            running.add(p);
            try {
                if (watch != null) watch.pgRestore = p;
                p.stdin().close();
                Thread drain = OutputDrain.start(p.stdout(), OutputStream.nullOutputStream());
                int code = p.waitFor();
                drain.join(10_000);
                if (code != 0) throw Errors.fromPgTool("pg_restore", code, p.stderr());
            } finally {
                running.remove(p);
            }
        }
    }

    /** Deletes the directory and what is left in it. */
    @Override
    public void close() { DirectoryArchive.delete(dir); }
}
