import java.io.OutputStream;
import java.util.List;
import java.util.Set;

/**
 * A restore interrupted by SIGTERM or Ctrl-C (a cancelled CI job) once pg_restore writes to the target: the JVM's
 * shutdown hook stops pg_restore, drops the database this run created with --create (whatever is in it is an
 * unfinished restore: nothing with one transaction, a part without) and says so, or, for a database that existed,
 * says whether anything was committed. If the drop fails, it prints the statement that drops it. After pg_restore
 * finished, nothing is dropped. (SIGKILL runs no hook: then {@link Lifeline} stops pg_restore, and the database
 * created for the restore stays, empty with one transaction.)
 */
final class RestoreInterruption implements AutoCloseable {
    private static final Set<RestoreInterruption> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static volatile boolean shuttingDown;
    private static boolean hooked;

    private final PgTools.Tool psql;
    private final ConnInfo target;
    private final boolean created;
    private final boolean singleTransaction;
    volatile PgTools.Streaming pgRestore;
    /** pg_restore exited 0: the restore is in the target, whatever happens next. */
    volatile boolean committed;

    private RestoreInterruption(PgTools.Tool psql, ConnInfo target, boolean created, boolean singleTransaction) {
        this.psql = psql;
        this.target = target;
        this.created = created;
        this.singleTransaction = singleTransaction;
    }

    static synchronized RestoreInterruption watch(PgTools.Tool psql, ConnInfo target, boolean created, boolean singleTransaction) {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(RestoreInterruption::onShutdown, "restore-interrupted"));
            hooked = true;
        }
        RestoreInterruption i = new RestoreInterruption(psql, target, created, singleTransaction);
        RUNNING.add(i);
        return i;
    }

    static boolean shuttingDown() { return shuttingDown; }

    @Override
    public void close() { RUNNING.remove(this); }

    private static void onShutdown() {
        shuttingDown = true;
        for (RestoreInterruption i : List.copyOf(RUNNING)) System.err.println("restore: interrupted: " + i.cleanUp());
        System.err.flush();
    }

    /** Stops pg_restore, drops what this run created, and returns what is left. */
    private String cleanUp() {
        PgTools.Streaming p = pgRestore;
        if (p != null) p.close();
        String db = "\"" + target.database() + "\"";
        if (committed) return "pg_restore had finished: " + db + " holds the restored backup";
        if (created) {
            return dropCreated() ? "pg_restore stopped; the database " + db + " created for this restore was dropped"
                    : "pg_restore stopped; the database " + db + " created for this restore is left on " + target.host()
                        + " (empty, or a partial restore): drop it with DROP DATABASE " + UserTables.quoted(target.database()) + " WITH (FORCE);";
        }
        return singleTransaction ? "pg_restore stopped before it committed: nothing from this backup was committed to " + db
                : db + " may hold a PARTIAL restore (no single transaction): drop it, or run the restore again with --clean";
    }

    /**
     * DROP DATABASE through psql started here (zt-exec, which PgTools.query uses, cannot start a process once the
     * JVM is shutting down); from postgres, else template1; bounded: the job's runner may SIGKILL us soon.
     */
    private boolean dropCreated() {
        for (String via : List.of("postgres", "template1")) {
            ConnInfo c = target.withDatabase(via);
            List<String> cmd = List.of(psql.path().toString(), "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d", c.withoutPassword(),
                    "-c", "drop database if exists " + UserTables.quoted(target.database()) + " with (force)");
            try (PgTools.Streaming drop = PgTools.start(cmd, c.childEnvironment())) {
                drop.stdin().close();
                OutputDrain.start(drop.stdout(), OutputStream.nullOutputStream());
                if (drop.process().waitFor(15, java.util.concurrent.TimeUnit.SECONDS) && drop.waitFor() == 0) return true;
            } catch (Exception e) {
                // try the next maintenance database, then report what is left
            }
        }
        return false;
    }
}
