import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A gate that holds pg_dump or pg_restore at an exact point, deterministically: the database's {@code gate_wait()}
 * ({@link #FUNCTION}, called by a row-security policy or a CHECK constraint) waits for an advisory lock that a psql
 * session of the test holds from {@link #hold} until {@link #close}. While it is held, the dump or restore stops there
 * (its data so far sent or written, the rest not yet), so a test can kill, signal or inspect it mid-way.
 */
final class AdvisoryGate implements AutoCloseable {
    private final PgServer pg;
    private final String db;
    private final int lock;
    private final PgTools.Streaming psql;

    /** SQL that creates {@code gate_wait()} (returns true once {@code lock} is free) in a database. */
    static String function(int lock) {
        return "create function gate_wait() returns boolean language plpgsql as $$ begin perform pg_advisory_xact_lock_shared(" + lock
                + "); return true; end $$;";
    }

    /**
     * A new database whose table {@code gated} (100 rows) has a CHECK calling {@code gate_wait()}: a restore of its
     * backup waits at the gate in the middle of that table's COPY. {@code more}: SQL run after (other tables).
     */
    static String restoreGatedDatabase(PgServer pg, String prefix, int lock, String more) {
        String db = pg.createDatabase(prefix);
        pg.sql(db, function(lock) + " create table gated (id int, check (gate_wait())); insert into gated select generate_series(1, 100);" + more);
        return db;
    }

    /** Takes the lock in {@code db} (the database the gated work connects to) and returns once it is held. */
    static AdvisoryGate hold(PgServer pg, String db, int lock) throws IOException {
        return new AdvisoryGate(pg, db, lock);
    }

    private AdvisoryGate(PgServer pg, String db, int lock) throws IOException {
        this.pg = pg;
        this.db = db;
        this.lock = lock;
        ConnInfo conn = pg.conn(db);
        psql = PgTools.start(List.of(pg.psql().path().toString(), "-X", "-q", "-d", conn.withoutPassword()), conn.childEnvironment());
        send("select pg_advisory_lock(" + lock + ");");
        Waits.until("the gate lock is held", null, () -> pg.sql(db,
                "select count(*) from pg_locks where locktype = 'advisory' and objid = " + lock + " and granted and mode = 'ExclusiveLock'").equals("1"));
    }

    /** Blocks until a session of the database waits at the gate ({@code what}: who, for the message); fails if {@code run} ends first. */
    void awaitWaiter(String what, CompletableFuture<?> run) {
        Waits.until(what + " waits at the gate", run, () -> !pg.sql(db, "select count(*) from pg_stat_activity where datname = '" + db
                + "' and wait_event_type = 'Lock' and wait_event = 'advisory'").equals("0"));
    }

    /** Opens the gate, the session kept (what waited goes on). */
    void open() throws IOException { send("select pg_advisory_unlock(" + lock + ");"); }

    private void send(String sql) throws IOException {
        OutputStream in = psql.stdin();
        in.write((sql + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Ends the session, and with it the lock. */
    @Override
    public void close() { psql.close(); }
}
