import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** A temp dump and the lock that says its process is alive (see {@link #create}). */
final class TempDump implements AutoCloseable {
    private static final String PREFIX = "pgdump-s3-";
    private final Path path;
    private final Path lockPath;
    private final java.nio.channels.FileChannel lockChannel;

    private TempDump(Path path, Path lockPath, java.nio.channels.FileChannel lockChannel) {
        this.path = path;
        this.lockPath = lockPath;
        this.lockChannel = lockChannel;
    }

    Path path() { return path; }

    java.nio.file.attribute.UserPrincipal owner() throws IOException { return Files.getOwner(lockPath); }

    /**
     * A private temp file for the dump (0600), after checking there is room for it; closing the handle deletes it.
     *
     * <p>A restore killed outright (SIGKILL, the OOM killer, a cancelled CI job) cannot delete its temp dump, and a
     * dump the size of the database left in /tmp must not be what makes the next restore fail for lack of space.
     * So each temp dump {@code pgdump-s3-PID-N.dump} has a lock file {@code ...dump.lock} on which its process holds
     * an exclusive lock for as long as the dump exists; the kernel releases it when the process dies, however it
     * dies, and across PID namespaces (containers sharing the directory). Before creating its own, a run deletes
     * the dumps whose lock it can take: their owner is gone. The lock file is a file of its own because closing any
     * descriptor of a file drops a process's POSIX locks on it, and the dump is opened and closed by the download.
     */
    static TempDump create(Path dir, long size, PrintWriter err) throws IOException {
        TempDump dump = lockAndCreate(dir);
        try {
            removeStale(dir, dump.owner(), err);
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < size + (64L << 20)) {
                throw new Failure(Exit.CONFIG, "not enough space in " + dir + " for the " + Progress.size(size) + " dump (" + Progress.size(free)
                        + " free): use --temp-dir DIR on a larger disk, or --stream to restore without a temp file");
            }
            return dump;
        } catch (IOException | RuntimeException e) {
            dump.close();
            throw e;
        }
    }

    /** --temp-dir (restore, drill): a directory this user can write to, or a usage error. */
    static void checkDir(Path dir) {
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw Failure.usage("--temp-dir " + dir + " is not a writable directory");
        }
    }

    /** The lock first, then the dump: a dump is never without a held lock. */
    private static TempDump lockAndCreate(Path dir) throws IOException {
        Path lock = privateTempFile(dir, PREFIX + ProcessHandle.current().pid() + "-", ".dump.lock");
        java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE);
        try {
            try {
                channel.tryLock();
            } catch (IOException noLocksHere) {
                // A file system without locks: the dump is still deleted on every exit but SIGKILL, and no run here
                // can take such a lock either, so none deletes it while this restore runs.
            }
            String name = lock.getFileName().toString();
            Path dump = dir.resolve(name.substring(0, name.length() - ".lock".length()));
            Files.deleteIfExists(dump);
            PrivateFile.createFile(dump);
            dump.toFile().deleteOnExit();
            lock.toFile().deleteOnExit();
            return new TempDump(dump, lock, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(lock);
            throw e;
        }
    }

    /** Deletes the dump, then the lock file, then lets the lock go. */
    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(path);
            Files.deleteIfExists(lockPath);
        } finally {
            lockChannel.close();
        }
    }

    /**
     * Deletes the temp dumps in {@code dir} whose lock can be taken: their process is gone. Only files of this
     * user, never through a symbolic link, never one of this process (opening and closing its lock file here would
     * drop that lock: POSIX locks belong to the process). Old temp dumps without a lock file are not touched.
     * A directory-format restore's private directory ({@code ...dump.d}, its files) goes with its dump.
     * Never fails the restore: what cannot be checked or deleted is left alone.
     */
    static void removeStale(Path dir, java.nio.file.attribute.UserPrincipal me, PrintWriter err) {
        String ours = PREFIX + ProcessHandle.current().pid() + "-";
        var nofollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
        try (var locks = Files.newDirectoryStream(dir, PREFIX + "*.dump.lock")) {
            for (Path lock : locks) {
                String name = lock.getFileName().toString();
                Path dump = dir.resolve(name.substring(0, name.length() - ".lock".length()));
                try {
                    if (name.startsWith(ours) || !Files.isRegularFile(lock, nofollow) || !me.equals(Files.getOwner(lock, nofollow))) continue;
                    try (var channel = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE, nofollow)) {
                        if (channel.tryLock() == null) continue; // its restore is running
                        long size = 0;
                        if (Files.isRegularFile(dump, nofollow) && me.equals(Files.getOwner(dump, nofollow))) {
                            size = Files.size(dump);
                            Files.delete(dump);
                        }
                        // A directory-format backup's private directory (DirectoryArchive.createDir): its files, then itself.
                        Path objects = dir.resolve(dump.getFileName() + ".d");
                        if (Files.isDirectory(objects, nofollow) && me.equals(Files.getOwner(objects, nofollow))) {
                            try (var files = Files.newDirectoryStream(objects)) {
                                for (Path f : files) {
                                    if (!Files.isRegularFile(f, nofollow)) continue;
                                    size += Files.size(f);
                                    Files.delete(f);
                                }
                            }
                            Files.delete(objects);
                        }
                        Files.delete(lock);
                        err.println("note: removed " + dump + " (" + Progress.size(size) + "), a temp dump left by a restore that was killed");
                    }
                } catch (IOException | RuntimeException e) {
                    // Locked by this JVM, not ours, already gone, a file system without locks: left alone.
                }
            }
        } catch (IOException | RuntimeException e) {
            err.println("warning: could not look for stale temp dumps in " + dir + ": " + e.getMessage());
        }
    }

    private static Path privateTempFile(Path dir, String prefix, String suffix) throws IOException {
        try {
            return Files.createTempFile(dir, prefix, suffix, PrivateFile.OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            return Files.createTempFile(dir, prefix, suffix);
        }
    }
}
