import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Choosing and running pg_restore. */
final class PgRestoreRun {
    /** {@code enableRowSecurity}: pg_restore --enable-row-security, for a role subject to row-level security ({@link RowSecurity}). */
    record Options(boolean clean, int jobs, boolean singleTransaction, boolean noOwner, boolean noAcl, boolean enableRowSecurity) {
        Options(boolean clean, int jobs, boolean singleTransaction, boolean noOwner, boolean noAcl) {
            this(clean, jobs, singleTransaction, noOwner, noAcl, false);
        }

        Options withRowSecurity(boolean enable) { return new Options(clean, jobs, singleTransaction, noOwner, noAcl, enable); }
    }

    /**
     * The pg_restore for this restore: not older than the target server (like pg_dump in backup.java) and not
     * older than the pg_dump that wrote the archive (an older pg_restore cannot read a newer archive).
     */
    static PgTools.Tool choose(String explicit, int serverMajor, Manifest m) {
        int dumpMajor = PgTools.majorOf(m.pgDumpVersion());
        PgTools.Tool found;
        try {
            found = PgTools.select("pg_restore", explicit, Math.max(serverMajor, dumpMajor));
        } catch (Failure f) {
            // Say which needs the version: the server, or the archive (the old message called the archive's version the server's).
            if (f.exitCode != Exit.CONFIG) throw f;
            throw new Failure(f.exitCode, ServerCompatibility.pgRestoreTooOld(explicit, serverMajor, m.pgDumpVersion()) + " (" + f.getMessage() + ")");
        }
        String tooNew = ServerCompatibility.pgRestoreTooNew(found, serverMajor);
        if (tooNew != null) throw new Failure(Exit.CONFIG, tooNew);
        return found;
    }

    static List<String> command(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file) {
        return command(pgRestore, db, how, file, null, false);
    }

    /** {@code list}: only the entries of this list file (pg_restore -L); {@code verbose}: a line per object (progress). */
    static List<String> command(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, Path list, boolean verbose) {
        List<String> cmd = new ArrayList<>(List.of(pgRestore.path().toString(), "--exit-on-error", "--dbname", db.withoutPassword()));
        if (verbose) cmd.add("--verbose");
        if (list != null) cmd.addAll(List.of("--use-list", list.toString()));
        if (how.noOwner()) cmd.add("--no-owner");
        if (how.noAcl()) cmd.add("--no-acl");
        if (how.enableRowSecurity()) cmd.add("--enable-row-security");
        if (how.clean()) cmd.addAll(List.of("--clean", "--if-exists"));
        if (how.jobs() > 1) cmd.addAll(List.of("--jobs", String.valueOf(how.jobs())));
        else if (how.singleTransaction()) cmd.add("--single-transaction");
        if (file != null) cmd.add(file.toString());
        return cmd;
    }

    /** Restores {@code file} into {@code db}; pg_restore's failure becomes a Failure with its own messages. */
    static void run(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, PrintWriter err) throws Exception {
        run(pgRestore, db, how, file, err, null);
    }

    /** The same, told to {@code watch} (null: none), which stops it on SIGTERM; it never outlives the JVM ({@link Lifeline}). */
    static void run(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, PrintWriter err, RestoreInterruption watch) throws Exception {
        run(pgRestore, db, how, file, err, watch, null, null);
    }

    /**
     * The same, restoring only the entries of {@code list} (null: all), and showing {@code progress} (null: none)
     * from pg_restore's --verbose lines; those lines are left out of the error message, which quotes pg_restore's own.
     */
    static void run(PgTools.Tool pgRestore, ConnInfo db, Options how, Path file, PrintWriter err, RestoreInterruption watch,
                    Path list, RestoreProgress progress) throws Exception {
        err.println("restore: pg_restore " + pgRestore.version() + " into \"" + db.database() + "\" ("
                + (how.jobs() > 1 ? how.jobs() + " jobs" : how.singleTransaction() ? "one transaction" : "no single transaction")
                + (how.noOwner() ? ", --no-owner" : "") + (how.noAcl() ? ", --no-acl" : "") + (how.clean() ? ", --clean" : "")
                + (how.enableRowSecurity() ? ", --enable-row-security" : "") + (list != null ? ", only the chosen objects" : "") + ")");
        err.flush();
        try (PgTools.Streaming p = PgTools.start(Lifeline.wrap(command(pgRestore, db, how, file, list, progress != null)), db.childEnvironment(),
                progress == null ? null : progress::line)) {
            if (watch != null) watch.pgRestore = p;
            if (progress != null) progress.watch(p.process());
            p.stdin().close();
            Thread drain = OutputDrain.start(p.stdout(), OutputStream.nullOutputStream());
            int code = p.waitFor();
            if (code == 0 && watch != null) watch.committed = true;
            drain.join(10_000);
            if (progress != null) {
                if (code == 0) progress.finished();
                else progress.close();
            }
            if (code != 0) throw Errors.fromPgTool("pg_restore", code, progress == null ? p.stderr() : RestoreProgress.problems(p.stderr()));
        }
    }

    /** pg_restore --list failed on the archive: the dump is damaged (exit 65). */
    static Failure unreadable(String stderr) {
        return new Failure(Exit.DATA_INVALID, "pg_restore cannot read the archive (" + Errors.lastLines(stderr, 3) + "): the dump is corrupt");
    }

    /** `pg_restore --list FILE`: an archive pg_restore cannot read is invalid backup data (65). */
    static TocListing listFile(PgTools.Tool pgRestore, Path file) {
        PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--list", file.toString()), Map.of(), null, 600);
        if (r.exitCode() != 0) {
            throw unreadable(r.stderr());
        }
        return TocListing.of(r.stdout());
    }

    private PgRestoreRun() {}
}
