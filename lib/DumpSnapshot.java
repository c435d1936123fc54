import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The transaction whose snapshot pg_dump dumps, and the exact row counts taken in it. The session begins a
 * REPEATABLE READ, READ ONLY transaction and exports its snapshot ({@code pg_export_snapshot()}); pg_dump runs
 * with {@code --snapshot=ID} and so sees exactly the rows this transaction sees; meanwhile the same transaction
 * counts every user table's rows ({@link UserTables#countSql}). Counts and dump agree by construction: a count
 * that differs from the rows in the archive means the dump did not hold what the database held.
 *
 * <p>The session runs with {@code row_security = off} like pg_dump (unless the dump asked for
 * --enable-row-security): a table whose rows row-level security would hide from this role cannot be counted,
 * and that is recorded ({@link Count#rowSecurity}), because a dump that nevertheless wrote rows for it wrote only
 * the rows it could see. No parallel workers (a backup should not take the server's), the lock wait bounded as
 * pg_dump's is, and no statement or idle-in-transaction timeout (the transaction must outlive pg_dump's start).
 *
 * <p>Cost bound: a table larger than {@code maxBytes} (main fork, as of its last VACUUM or ANALYZE) is not counted; its rows are
 * still counted in the archive. The transaction ends at {@link #finish}, after pg_dump has finished.
 */
final class DumpSnapshot implements AutoCloseable {
    /** One table's count: rows, or why not (error), and whether row-level security refused it. */
    record Count(Long rows, String error, boolean rowSecurity) {}

    /** How the transaction is set up. */
    record Settings(long lockTimeoutMillis, boolean rowSecurity, boolean serializableDeferrable, long maxBytes) {}

    private final PsqlSession session;
    private final Settings settings;
    private final String id;
    private final Map<List<String>, Count> counts = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    private Thread counter;
    private int skippedLarge;

    private DumpSnapshot(PsqlSession session, Settings settings, String id) {
        this.session = session;
        this.settings = settings;
        this.id = id;
    }

    /**
     * Sets the session up, begins the transaction and exports its snapshot. A server that cannot export one (or
     * a session that cannot be set up) gives a warning and a DumpSnapshot without id: pg_dump then takes its own
     * snapshot and nothing is counted exactly.
     */
    static DumpSnapshot begin(PsqlSession session, Settings settings, Consumer<String> warn) {
        // pg_dump imports the snapshot into a transaction of the same isolation (--serializable-deferrable: SERIALIZABLE).
        String isolation = settings.serializableDeferrable() ? "serializable, read only, deferrable" : "repeatable read, read only";
        PsqlSession.Reply begin = session.run("begin isolation level " + isolation + ";");
        // SET LOCAL, inside the transaction: behind a transaction pooler, a session-level SET would land on another server
        // connection (and stay there for other clients); this way every setting holds exactly where the counts run.
        PsqlSession.Reply setup = begin.ok() ? session.run("set local statement_timeout = 0; set local idle_in_transaction_session_timeout = 0;"
                + " set local lock_timeout = " + settings.lockTimeoutMillis() + "; set local max_parallel_workers_per_gather = 0;"
                + " set local row_security = " + (settings.rowSecurity() ? "on" : "off") + ";") : begin;
        PsqlSession.Reply export = setup.ok() ? session.run("select 'snapshot=' || pg_export_snapshot();") : setup;
        String id = export.value("snapshot");
        if (!export.ok() || id == null) {
            session.run("rollback;");
            warn.accept("no exact row counts: the server cannot export a snapshot for pg_dump to share (" + export.error() + ")");
            return new DumpSnapshot(session, settings, null);
        }
        // From here every statement gets its own savepoint: a count that fails (a lock timeout, a permission) ends
        // that statement, not the transaction pg_dump's snapshot depends on. (Not before: an export needs the top level.)
        session.run("\\set ON_ERROR_ROLLBACK on");
        return new DumpSnapshot(session, settings, id);
    }

    /** The exported snapshot's id for pg_dump --snapshot, or null when there is none. */
    String id() { return id; }

    /** The user tables as this transaction sees them: in the snapshot, so exactly the tables pg_dump sees. */
    List<UserTables.Table> tables() {
        return UserTables.parse(session.runOrThrow(UserTables.LIST_SQL + ";").rows().stream().findFirst().orElse("[]"));
    }

    /** Counts the tables' rows in the background, one statement each, in this transaction. Only with a snapshot. */
    void startCounting(List<UserTables.Table> tables) {
        if (id == null) return;
        List<UserTables.Table> todo = new ArrayList<>();
        for (UserTables.Table t : tables) {
            if (t.partitioned()) continue;
            if (t.bytes() > settings.maxBytes()) skippedLarge++;
            else todo.add(t);
        }
        counter = Threads.start("exact-counts", () -> {
            for (UserTables.Table t : todo) {
                if (stopping) return;
                PsqlSession.Reply r = session.run("select 'n=' || (" + UserTables.countSql(t.schema(), t.table()) + ");");
                String n = r.value("n");
                if (r.ok() && n != null) {
                    counts.put(t.key(), new Count(Long.parseLong(n.strip()), null, false));
                } else {
                    String error = r.error() == null ? "no count returned" : r.error();
                    counts.put(t.key(), new Count(null, error, error.contains("row-level security")));
                    if (session.ended()) return;
                }
            }
        });
    }

    /** Tables left uncounted because they are larger than the limit. */
    int skippedLarge() { return skippedLarge; }

    /**
     * Waits for the counts (pg_dump has finished: the snapshot is no longer needed), ends the transaction and
     * returns each counted table's result by {@code [schema, table]}.
     */
    Map<List<String>, Count> finish() throws InterruptedException {
        if (counter != null) counter.join();
        if (id != null && !session.ended()) session.run("rollback;"); // read-only: nothing to commit
        return Map.copyOf(counts);
    }

    /** Stops counting (a running count is cancelled on the server) and ends the session. */
    @Override
    public void close() {
        stopping = true;
        if (counter != null && counter.isAlive()) {
            session.cancel();
            try {
                counter.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        session.close();
    }
}
