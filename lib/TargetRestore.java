import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The restore of a chosen, verified backup into the target: from a downloaded and checked temp file (the default)
 * or streamed into pg_restore (--stream); either way a failure says what the target holds afterwards.
 */
final class TargetRestore {
    private final S3Client s3;
    private final String bucket;
    private final BackupChoice chosen;
    private final ConnInfo target;
    private final RestoreTarget.State state;
    private final PgTools.Tool psql;
    private final PgTools.Tool pgRestore;
    private final PgRestoreRun.Options how;
    private final Age.Identities identities;
    private final PrintWriter err;

    TargetRestore(S3Client s3, String bucket, BackupChoice chosen, ConnInfo target, RestoreTarget.State state, PgTools.Tool psql,
                  PgTools.Tool pgRestore, PgRestoreRun.Options how, Age.Identities identities, PrintWriter err) {
        this.s3 = s3;
        this.bucket = bucket;
        this.chosen = chosen;
        this.target = target;
        this.state = state;
        this.psql = psql;
        this.pgRestore = pgRestore;
        this.how = how;
        this.identities = identities;
        this.err = err;
    }

    /** What the apply step did; {@code pipelined}: a parallel backup restored file by file ({@link PipelinedRestore}). */
    record Applied(boolean created, Integer tocEntries, boolean pipelined) {}

    /**
     * Default: download to a temp file, verify it completely, then create the database if asked and restore.
     * An encrypted backup is decrypted on its way into the file (0600, deleted afterwards): every chunk is
     * authenticated before it is written, so the target is touched only after the whole backup decrypted.
     */
    Applied fromFile(Path tempDir) throws Exception {
        return fromFile(tempDir, null, -1);
    }

    /**
     * The same, restoring only {@code selection}'s entries (null: all), with progress over {@code objects} objects
     * (below 0: no progress).
     */
    Applied fromFile(Path tempDir, TocSelection.Result selection, int objects) throws Exception {
        Manifest m = chosen.manifest();
        if (m.directory() && selection == null && !state.exists()) return pipelined(tempDir);
        if (m.directory()) {
            err.println("restore: every object downloaded and checked before pg_restore starts: "
                    + (selection != null ? "--table/--schema restore from the whole directory" : "the target database exists, and a bad object"
                        + " found half-way must not leave it half-restored (into a new database, --create, the restore is pipelined)"));
        }
        Path objectsDir = null;
        try (TempDump temp = TempDump.create(tempDir, m.sizeBytes(), err)) {
            Path file = temp.path();
            if (m.directory()) {
                // backup --parallel: every object checked before pg_restore starts (DirectoryArchive says why not piped)
                objectsDir = DirectoryArchive.download(s3, bucket, m, identities, file, how.jobs(), err);
                file = objectsDir;
            } else {
                VerifiedDownload.toFile(s3, bucket, m, file, identities, err);
            }
            int toc = PgRestoreRun.listFile(pgRestore, file).entries();
            err.println("restore: verified: size and SHA-256 match the manifest" + (identities == null ? "" : ", decrypted with age")
                    + ", pg_restore reads " + toc + " TOC entries");
            Path list = null;
            try {
                if (selection != null) {
                    list = java.nio.file.Files.createTempFile(file.getParent(), file.getFileName().toString(), ".list",
                            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
                    java.nio.file.Files.writeString(list, selection.listFile());
                }
                boolean created = !state.exists() && RestoreTarget.create(psql, target, err);
                try (RestoreInterruption watch = RestoreInterruption.watch(psql, target, created, how.singleTransaction());
                     RestoreProgress progress = objects < 0 ? null : new RestoreProgress("restore: pg_restore", err, objects, file)) {
                    try {
                        PgRestoreRun.run(pgRestore, target, how, file, err, watch, list, progress);
                    } catch (Failure f) {
                        throw restoreFailed(f, created);
                    }
                }
                return new Applied(created, toc, false);
            } finally {
                if (list != null) java.nio.file.Files.deleteIfExists(list);
            }
        } finally {
            DirectoryArchive.delete(objectsDir);
        }
    }

    /**
     * backup --parallel into a database this restore creates: each data file restored as soon as it is proven, while
     * the next ones download ({@link PipelinedRestore}); disk for the look-ahead, not the dump. A bad object found
     * half-way fails the restore and the database, which holds the tables restored before it, is dropped.
     */
    private Applied pipelined(Path tempDir) throws Exception {
        Manifest m = chosen.manifest();
        err.println("restore: pipelined: data files restored as they arrive, each checked first (the database is new: a failure drops it)");
        try (TempDump temp = TempDump.create(tempDir, PipelinedRestore.diskBound(m), err);
             PipelinedRestore pipe = PipelinedRestore.prepare(s3, bucket, m, identities, pgRestore, how, temp.path(), "restore", err)) {
            int toc = PgRestoreRun.listFile(pgRestore, pipe.dir()).entries();
            err.println("restore: verified toc.dat: size and SHA-256 match the manifest" + (identities == null ? "" : ", decrypted with age")
                    + ", pg_restore reads " + toc + " TOC entries; each data file is checked the same way before it is restored");
            boolean created = RestoreTarget.create(psql, target, err);
            try (RestoreInterruption watch = RestoreInterruption.watch(psql, target, created, false)) {
                try {
                    pipe.restore(target, watch);
                } catch (Failure f) {
                    throw restoreFailed(f, created);
                } catch (Exception e) {
                    throw restoreFailed(e instanceof RuntimeException r ? Errors.classify(r) : new Failure(Exit.FAILED, "the pipelined restore failed: " + e, e), created);
                }
            }
            return new Applied(created, toc, true);
        }
    }

    /**
     * --stream: pg_restore reads the download as it arrives. The last bytes are held back until the whole object
     * has been hashed: pg_restore cannot finish (let alone COMMIT its single transaction) without them, so on a
     * checksum mismatch it is stopped with nothing committed. Without a single transaction that guarantee is gone,
     * and the error says the target holds unverified data.
     */
    Applied streaming() throws Exception {
        Manifest m = chosen.manifest();
        boolean created = !state.exists() && RestoreTarget.create(psql, target, err);
        try (RestoreInterruption watch = RestoreInterruption.watch(psql, target, created, how.singleTransaction());
             PgTools.Streaming p = PgTools.start(Lifeline.wrap(PgRestoreRun.command(pgRestore, target, how, null)), target.childEnvironment())) {
            watch.pgRestore = p;
            Thread drain = OutputDrain.start(p.stdout(), OutputStream.nullOutputStream());
            HoldBackStream held = new HoldBackStream(new BufferedOutputStream(p.stdin(), 256 * 1024), HoldBackStream.TAIL);
            TolerantStream sink = new TolerantStream(held);
            // Encrypted: pg_restore gets only authenticated plaintext; a chunk that fails stops the download at once.
            Age.Decrypting decrypting = VerifiedDownload.decrypting(m, identities, sink);
            VerifiedDownload.Result got;
            Failure mismatch;
            try {
                got = VerifiedDownload.fetch(s3, bucket, m.dumpKey(), m.sizeBytes(), decrypting != null ? decrypting : sink,
                        new Progress("restore: streaming " + chosen.key().base(), err, m.sizeBytes()), err);
                mismatch = VerifiedDownload.mismatch(m, got);
                if (mismatch == null && decrypting != null) decrypting.finish();
            } catch (RuntimeException e) {
                if (decrypting == null || !(e instanceof Failure f) || f.exitCode != Exit.DATA_INVALID) {
                    p.close(); // first: the decryption may be blocked writing to it
                    if (decrypting != null) decrypting.close();
                    // Say what the target holds now: dropped if we created it, else nothing committed, or a PARTIAL restore.
                    throw restoreFailed(Errors.classify(e), created);
                }
                mismatch = f; // the decryption failed: like a checksum mismatch, pg_restore must not commit
            }
            if (mismatch != null) {
                boolean finished = !p.process().isAlive() && p.process().exitValue() == 0;
                p.close();
                if (decrypting != null) decrypting.close();
                String where = finished
                        ? "pg_restore had already finished: the target now holds UNVERIFIED data from this backup; drop it or restore a good backup over it with --clean"
                        : how.singleTransaction()
                            ? "pg_restore was stopped before it could commit: nothing from this backup was committed to the target"
                            : "the target now holds UNVERIFIED, possibly corrupt data from this backup (no single transaction): drop it or restore a good backup over it with --clean";
                if (created) {
                    RestoreTarget.drop(psql, target, err);
                    where += "; the database created for this restore was dropped";
                }
                throw new Failure(Exit.DATA_INVALID, mismatch.getMessage() + "; " + where);
            }
            if (!sink.broken()) {
                try {
                    held.release();
                    held.close();
                } catch (IOException e) {
                    // pg_restore exited early; its exit status below says why
                }
            }
            int code = p.waitFor();
            if (code == 0) watch.committed = true;
            drain.join(10_000);
            if (code != 0) throw restoreFailed(Errors.fromPgTool("pg_restore", code, p.stderr()), created);
            err.println("restore: verified: size and SHA-256 match the manifest" + (decrypting == null ? "" : ", decrypted with age") + " (checked as it streamed)");
            return new Applied(created, null, false);
        }
    }

    /** A failed pg_restore, with what state it left the target in. */
    private Failure restoreFailed(Failure f, boolean created) {
        // SIGTERM/Ctrl-C stopped pg_restore: the shutdown hook drops what this run created and says what is left.
        if (RestoreInterruption.shuttingDown()) return new Failure(Exit.FAILED, "interrupted (SIGTERM/Ctrl-C) while pg_restore ran");
        String state;
        if (created) {
            boolean dropped = RestoreTarget.drop(psql, target, null);
            state = dropped ? "the database created for this restore was dropped" : "the database created for this restore could not be dropped: drop it yourself";
        } else {
            state = how.singleTransaction() ? "nothing was committed: the target is as it was"
                    : "the target may hold a PARTIAL restore: drop it, or run again with --clean";
        }
        return new Failure(f.exitCode, f.getMessage() + " — " + state);
    }
}
