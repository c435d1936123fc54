import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A directory-format backup (manifest format {@value Manifest#DIRECTORY_FORMAT}, backup --parallel) read back from S3:
 * every object's size and SHA-256 checked against the manifest, and decrypted when it is encrypted.
 *
 * <p>Why not serve each data file to pg_restore through a named pipe as it is needed: (1) pg_restore 17 refuses a
 * data file that is not a regular file ({@code "3342.dat.zst" is not a regular file}; 15 and 18 read pipes), so pipes
 * would work for some client versions only; (2) a table's COPY ends, and commits, when pg_restore reaches the end of
 * its file, while the object's SHA-256 is known only at its end too: serving a pipe safely means holding back each
 * object's last bytes until its checksum is proven, and killing pg_restore on a mismatch; (3) pg_restore -j cannot run
 * as one transaction, so a bad object met half-way leaves a half-restored database.
 *
 * <p>So there are two ways to read such a backup. Into a database nobody else has yet (restore --create, the drill's
 * scratch database), {@link PipelinedRestore}: each file downloaded and checked whole, then restored at once while
 * the next ones download; a bad object met half-way fails the restore and the database is dropped. Everywhere else
 * (an existing target, --table/--schema, verify), {@link #download}: every object checked before pg_restore starts,
 * which keeps "nothing is restored from data that differs from what was backed up" for a database that must not be
 * left half-restored; the cost is disk for the whole compressed dump.
 */
final class DirectoryArchive {
    /** What a file name in pg_dump's directory looks like: never a path. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");
    /** Room on top of the objects' stored size (age's overhead is smaller than the ciphertext, plaintext is smaller). */
    static final long HEADROOM = 64L << 20;

    private DirectoryArchive() {}

    /**
     * restore, drill, verify: every object downloaded and checked ({@link #fetch}) into a private directory next to
     * {@code tempFile} (a {@link TempDump}'s: it holds the lock and its space check covers the objects); returns the
     * directory, which pg_restore reads as a directory-format archive. The caller deletes it ({@link #delete}).
     */
    static Path download(S3Client s3, String bucket, Manifest m, Age.Identities identities, Path tempFile, int jobs, java.io.PrintWriter err)
            throws IOException, InterruptedException {
        Path dir = createDir(tempFile);
        try {
            Progress progress = new Progress("downloading " + objects(m).size() + " objects", err, m.sizeBytes());
            fetch(s3, bucket, m, identities, dir, Math.max(2, jobs), n -> { synchronized (progress) { progress.add(n); } });
            progress.done();
            return dir;
        } catch (InterruptedException | RuntimeException e) {
            delete(dir);
            throw e;
        }
    }

    /**
     * The private directory (0700) of {@code tempFile}, a {@link TempDump}'s: {@code TEMPFILE.d}, which
     * {@link TempDump#removeStale} deletes with its temp file when the run that made it was killed.
     */
    static Path createDir(Path tempFile) throws IOException {
        Path dir = tempFile.resolveSibling(tempFile.getFileName() + ".d");
        try {
            Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createDirectory(dir);
        }
        return dir;
    }

    /** Deletes a directory made by {@link #download} (a plain directory of files). */
    static void delete(Path dir) {
        if (dir == null || !Files.isDirectory(dir)) return;
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.deleteIfExists(p);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage() + " (delete it by hand: it holds the backup's data)");
        }
    }

    /** Reads every data block of a downloaded directory archive: pg_restore to /dev/null fails on a truncated or corrupt file. */
    static void readAll(PgTools.Tool pgRestore, Path dir) {
        PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--file", "/dev/null", dir.toString()), java.util.Map.of(), null, 0);
        if (r.exitCode() != 0) {
            throw new Failure(Exit.DATA_INVALID, "pg_restore cannot read the archive's data: " + Errors.lastLines(r.stderr(), 3));
        }
    }

    /** The key of one object: next to the manifest, under its dumpKey ("...NAME_STAMP.dump.d/"). */
    static String objectKey(Manifest m, Manifest.DumpObject o) { return m.dumpKey() + o.name(); }

    /** The manifest's objects, their names checked: a name that is a path (../x, a/b) is invalid backup data. */
    static List<Manifest.DumpObject> objects(Manifest m) {
        if (!m.directory() || m.objects().isEmpty()) throw new Failure(Exit.DATA_INVALID, "manifest of " + m.dumpKey() + " lists no objects");
        boolean toc = false;
        for (Manifest.DumpObject o : m.objects()) {
            if (o.name() == null || !NAME.matcher(o.name()).matches() || o.sha256() == null || o.sizeBytes() < 0) {
                throw new Failure(Exit.DATA_INVALID, "manifest of " + m.dumpKey() + " lists an invalid object: " + o);
            }
            toc |= o.name().equals("toc.dat");
        }
        if (!toc) throw new Failure(Exit.DATA_INVALID, "manifest of " + m.dumpKey() + " lists no toc.dat");
        return m.objects();
    }

    /** Disk a download of the directory needs, and a Failure (78) when {@code dir}'s file system has less free. */
    static void checkSpace(Manifest m, Path dir) throws IOException {
        long need = m.sizeBytes() + HEADROOM;
        long usable = Files.getFileStore(dir).getUsableSpace();
        if (usable < need) {
            throw new Failure(Exit.CONFIG, "restoring this parallel backup downloads its " + m.objects().size() + " objects (" + Progress.size(m.sizeBytes())
                    + ") into " + dir + " first, which has " + Progress.size(usable) + " free of the " + Progress.size(need)
                    + " needed: free space or point TMPDIR (java.io.tmpdir) at a larger disk");
        }
    }

    /**
     * Downloads every object into {@code dir} (decrypted with {@code identities} when the backup is encrypted), {@code jobs}
     * at a time, each object's size and SHA-256 checked: a difference is invalid backup data (65), before anything is
     * restored from it. {@code dir} null: nothing is written, every object is only read and checked (verify).
     */
    static void fetch(S3Client s3, String bucket, Manifest m, Age.Identities identities, Path dir, int jobs, LongConsumer progress) throws InterruptedException {
        List<Manifest.DumpObject> objects = objects(m);
        if (m.encryption() != null && identities == null && dir != null) {
            throw Failure.usage("the backup is encrypted with age: give the private key with --identity (env " + "BACKUP_AGE_IDENTITY)");
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, jobs), Threads.daemons("download-object"));
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Manifest.DumpObject o : objects) done.add(pool.submit(() -> { one(s3, bucket, m, o, identities, dir, progress); return null; }));
            for (Future<?> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    for (Future<?> other : done) other.cancel(true);
                    if (e.getCause() instanceof RuntimeException r) throw Errors.classify(r);
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One object downloaded into {@code dir} (null: only read), decrypted when the backup is encrypted; its size and
     * SHA-256 checked against the manifest before this returns: a difference is invalid backup data (65).
     */
    static void one(S3Client s3, String bucket, Manifest m, Manifest.DumpObject o, Age.Identities identities, Path dir, LongConsumer progress) {
        String key = objectKey(m, o);
        Path file = dir == null ? null : dir.resolve(o.name());
        boolean decrypt = m.encryption() != null && identities != null;
        String[] got = s3.getObject(b -> b.bucket(bucket).key(key), (response, in) -> {
            // Called again on a retry: every attempt starts the file and the checksum afresh.
            MessageDigest sha = Digests.sha256();
            long size = 0;
            try (OutputStream sink = file == null ? OutputStream.nullOutputStream()
                    : Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                Age.Decrypting plain = decrypt ? new Age.Decrypting(sink, identities, "object " + key, m.encryption().recipients()) : null;
                try {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        sha.update(buf, 0, n);
                        size += n;
                        if (plain != null) plain.write(buf, 0, n);
                        else sink.write(buf, 0, n);
                        progress.accept(n);
                    }
                    if (plain != null) plain.finish();
                } finally {
                    if (plain != null) plain.close();
                }
            } catch (IOException e) {
                if (file != null && DiskSpace.isFull(e)) {
                    throw new Failure(Exit.CONFIG, "no space left in " + dir + " while downloading " + key + ": free space or point TMPDIR elsewhere", e);
                }
                throw RetryableException.builder().message("reading " + key + " broke off").cause(e).build();
            }
            return new String[] {Long.toString(size), Digests.hex(sha.digest())};
        });
        if (Long.parseLong(got[0]) != o.sizeBytes() || !got[1].equals(o.sha256())) {
            throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + key + " differs from its manifest (" + got[0] + " bytes, SHA-256 " + got[1]
                    + "; the manifest says " + o.sizeBytes() + " bytes, " + o.sha256() + "): the backup is damaged; nothing was restored from it");
        }
    }
}
