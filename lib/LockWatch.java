import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches a running pg_dump's server session for lock waits. pg_dump locks every table it dumps (ACCESS SHARE)
 * before it writes a byte; a session holding a conflicting lock (ACCESS EXCLUSIVE: ALTER TABLE, TRUNCATE,
 * VACUUM FULL, LOCK TABLE...) makes it wait, silently. While pg_dump's output is quiet, this asks the server
 * (pg_locks, pg_blocking_pids, pg_stat_activity, in a session of its own opened the first time it is needed)
 * whether pg_dump's backend waits for a lock, and says on what and behind whom: "waiting for a lock on
 * public.orders held by pid 4242 (...)". pg_dump's backend is found by its application_name (backup sets a
 * unique one, unless the URL sets its own).
 *
 * <p>pg_dump's own --lock-wait-timeout bounds its initial LOCK TABLEs; a wait anywhere else (a lock pg_dump takes
 * later) is bounded here: past the same timeout (and a grace), the watch cancels pg_dump's statement. Either way
 * {@link #explain} turns the failure into one line naming the lock and who holds it.
 */
final class LockWatch implements AutoCloseable {
    /** One observed wait: pg_dump's backend, the locked object, the mode it wants, since when, and who blocks it. */
    record Wait(int pid, String object, String mode, double seconds, List<Blocker> blockers) {
        /** "a lock on public.orders held by pid 4242 (user alice, application psql, AccessExclusiveLock, idle in transaction for 42 s)". */
        String describe() {
            StringBuilder sb = new StringBuilder("a lock on ").append(object);
            if (blockers.isEmpty()) return sb.toString();
            sb.append(blockers.stream().anyMatch(b -> b.holds() != null) ? " held by " : " behind ");
            List<String> each = new ArrayList<>();
            for (Blocker b : blockers) each.add(b.describe());
            return sb.append(String.join(", ", each)).toString();
        }
    }

    /** A session in the way: pid, and what the server shows of it to this role. */
    record Blocker(int pid, String user, String application, String state, Double stateSeconds, String holds, String wants) {
        String describe() {
            List<String> parts = new ArrayList<>();
            if (user != null) parts.add("user " + user);
            if (application != null && !application.isEmpty()) parts.add("application " + application);
            if (holds != null) parts.add(holds);
            else if (wants != null) parts.add("waiting for " + wants + " ahead of pg_dump");
            if (state != null) parts.add(state + (stateSeconds == null ? "" : " for " + LockWatch.duration(stateSeconds)));
            return "pid " + pid + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")");
        }
    }

    private static final long QUIET_NANOS = 5_000_000_000L;
    private static final long POLL_MILLIS = 5_000;
    private static final long REPORT_NANOS = 10_000_000_000L;
    private static final long GRACE_SECONDS = 10;
    private static final Pattern LOCK_QUERY = Pattern.compile("Query was: LOCK TABLE (.+?) IN ACCESS SHARE MODE");

    private final PgTools.Tool psql;
    private final ConnInfo conn;
    private final String application;
    private final LongSupplier lastOutputNanos;
    private final long timeoutMillis;
    private final Consumer<String> log;
    private final Thread thread;
    private PsqlSession session;
    private volatile boolean closed;
    private volatile Wait last;
    private volatile Wait cancelledFor;

    private LockWatch(PgTools.Tool psql, ConnInfo conn, String application, LongSupplier lastOutputNanos, long timeoutMillis, Consumer<String> log) {
        this.psql = psql;
        this.conn = conn;
        this.application = application;
        this.lastOutputNanos = lastOutputNanos;
        this.timeoutMillis = timeoutMillis;
        this.log = log;
        this.thread = Threads.start("lock-watch", this::watch);
    }

    /**
     * Starts watching the session whose application_name is {@code application}. {@code lastOutputNanos}: when
     * pg_dump last wrote (System.nanoTime); {@code timeoutMillis}: the lock wait timeout (0: none).
     */
    static LockWatch start(PgTools.Tool psql, ConnInfo conn, String application, LongSupplier lastOutputNanos, long timeoutMillis, Consumer<String> log) {
        return new LockWatch(psql, conn, application, lastOutputNanos, timeoutMillis, log);
    }

    private void watch() {
        long lastReport = 0;
        Wait reported = null;
        while (!closed) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (closed || System.nanoTime() - lastOutputNanos.getAsLong() < QUIET_NANOS) continue;
            Wait w;
            try {
                w = observe();
            } catch (RuntimeException e) {
                continue; // watching is best effort: the dump goes on
            }
            if (w == null || closed) continue;
            last = w;
            long now = System.nanoTime();
            boolean changed = reported == null || reported.pid() != w.pid() || !reported.object().equals(w.object());
            if (changed || now - lastReport >= REPORT_NANOS) {
                log.accept("pg_dump is waiting for " + w.describe() + "; waited " + duration(w.seconds())
                        + (timeoutMillis > 0 ? " (gives up after " + duration(timeoutMillis / 1000.0) + ", --lock-wait-timeout)" : ""));
                lastReport = now;
                reported = w;
            }
            if (timeoutMillis > 0 && w.seconds() > timeoutMillis / 1000.0 + GRACE_SECONDS && cancelledFor == null) {
                cancelledFor = w;
                session().run("select pg_cancel_backend(" + w.pid() + ");");
            }
        }
    }

    private synchronized PsqlSession session() {
        if (session == null || session.ended()) session = PsqlSession.open(psql, conn);
        return session;
    }

    /** pg_dump's backend's lock wait now, or null when it waits for none. */
    Wait observe() {
        String sql = "select 'w=' || json_build_object('pid', a.pid, 'mode', l.mode, 'locktype', l.locktype,"
                + " 'object', (select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = l.relation),"
                + " 'seconds', extract(epoch from now() - coalesce(l.waitstart, a.query_start)),"
                + " 'blockers', " + blockersJson("pg_blocking_pids(a.pid)", "l") + ")"
                + " from pg_stat_activity a join pg_locks l on l.pid = a.pid and not l.granted"
                + " where a.application_name = " + literal(application) + " and a.datname = current_database() and a.pid <> pg_backend_pid()"
                + " order by a.backend_start desc limit 1;";
        PsqlSession.Reply r = session().run(sql);
        String json = r.value("w");
        if (!r.ok() || json == null) return null;
        try {
            JsonNode n = Json.MAPPER.readTree(json);
            String object = n.path("object").isNull() || n.path("object").isMissingNode() ? "a " + n.path("locktype").asText() + " object" : n.get("object").asText();
            return new Wait(n.get("pid").asInt(), object, n.path("mode").asText(), n.path("seconds").asDouble(), blockers(n.path("blockers")));
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** The sessions whose pids {@code pids} returns, with the locks they hold (or want) on the lock {@code l} names. */
    private static String blockersJson(String pids, String l) {
        return "(select json_agg(json_build_object('pid', b.pid, 'user', b.usename, 'application', b.application_name, 'state', b.state,"
                + " 'stateSeconds', extract(epoch from now() - b.state_change),"
                + " 'holds', (select string_agg(distinct h.mode, ',') from pg_locks h where h.pid = b.pid and h.granted and h.locktype = " + l + ".locktype"
                + " and h.database is not distinct from " + l + ".database and h.relation is not distinct from " + l + ".relation"
                + " and h.transactionid is not distinct from " + l + ".transactionid),"
                + " 'wants', (select string_agg(distinct h.mode, ',') from pg_locks h where h.pid = b.pid and not h.granted)) order by b.pid)"
                + " from pg_stat_activity b where b.pid = any(" + pids + "))";
    }

    private static List<Blocker> blockers(JsonNode array) {
        List<Blocker> out = new ArrayList<>();
        if (array == null || !array.isArray()) return out;
        for (JsonNode b : array) {
            out.add(new Blocker(b.get("pid").asInt(), text(b, "user"), text(b, "application"), text(b, "state"),
                    b.path("stateSeconds").isNumber() ? b.get("stateSeconds").asDouble() : null, text(b, "holds"), text(b, "wants")));
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /**
     * When pg_dump failed because it waited too long for a lock: one line naming the lock and who held it (from
     * the last observation, else from the server now), and what to do. Null when the failure was something else.
     */
    String explain(String pgDumpStderr) {
        String said = pgDumpStderr == null ? "" : pgDumpStderr;
        Matcher m = LOCK_QUERY.matcher(said);
        String lockTable = m.find() ? m.group(1) : null;
        boolean timedOut = lockTable != null && said.contains("canceling statement due to statement timeout")
                || said.contains("canceling statement due to lock timeout");
        boolean cancelled = cancelledFor != null && said.contains("canceling statement due to user request");
        if (!timedOut && !cancelled) return null;
        Wait w = cancelled ? cancelledFor : last;
        String what;
        if (w != null && (lockTable == null || w.object().equals(lockTable) || lockTable.contains(w.object()))) {
            what = w.describe();
        } else if (lockTable != null) {
            what = "a lock on " + lockTable;
            try {
                List<Blocker> holders = holders(lockTable);
                if (!holders.isEmpty()) what = new Wait(0, lockTable, "AccessShareLock", 0, holders).describe();
            } catch (RuntimeException e) {
                // the line still says what pg_dump said; who held the lock is a bonus
            }
        } else {
            what = "a lock";
        }
        return "pg_dump gave up waiting " + duration(timeoutMillis / 1000.0) + " (--lock-wait-timeout) for " + what
                + ": end that session or let it finish, then run the backup again (or raise --lock-wait-timeout)";
    }

    /** Sessions holding (or queued for) ACCESS EXCLUSIVE on the tables of pg_dump's LOCK TABLE statement (SQL names). */
    private List<Blocker> holders(String tables) {
        List<String> regclasses = new ArrayList<>();
        for (String t : tables.split(",\\s*")) regclasses.add("to_regclass(" + literal(t.strip()) + ")::oid");
        String sql = "select 'h=' || coalesce(json_agg(json_build_object('pid', b.pid, 'user', b.usename, 'application', b.application_name,"
                + " 'state', b.state, 'stateSeconds', extract(epoch from now() - b.state_change),"
                + " 'holds', case when h.granted then h.mode end, 'wants', case when not h.granted then h.mode end) order by b.pid), '[]')"
                + " from pg_locks h join pg_stat_activity b on b.pid = h.pid"
                + " where h.locktype = 'relation' and h.mode = 'AccessExclusiveLock' and h.relation = any(array[" + String.join(", ", regclasses) + "]);";
        PsqlSession.Reply r = session().run(sql);
        String json = r.value("h");
        if (!r.ok() || json == null) return List.of();
        try {
            return blockers(Json.MAPPER.readTree(json));
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    static String literal(String s) { return "'" + s.replace("'", "''") + "'"; }

    /** 42 → "42 s", 300 → "5 min", 5400 → "1.5 h". */
    static String duration(double seconds) {
        if (seconds < 120) return Math.round(seconds) + " s";
        if (seconds < 7200) return String.format(Locale.ROOT, "%.0f min", seconds / 60);
        return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (session != null) session.close();
        }
    }
}
