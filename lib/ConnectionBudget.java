/**
 * How many pg_dump workers a server lets backup --parallel open. {@code pg_dump -j N} holds N + 1 connections (the
 * leader and N workers) for the whole dump, on top of backup's own session (the exported snapshot and row counts)
 * and the lock watch's short psql connection. A worker refused a connection fails the whole dump late, after
 * minutes of work; so N is capped up front by what the server has free: {@code max_connections} less the
 * superuser-reserved slots (and, on PostgreSQL 16+, the reserved_connections slots) and the client connections already open, the role's {@code rolconnlimit} and the
 * database's {@code datconnlimit} less the connections each already has. The numbers are a moment's view: another
 * client may take a slot meanwhile, and then pg_dump fails with the server's "too many connections" (exit 1).
 */
final class ConnectionBudget {
    /** Connections beyond the workers: pg_dump's leader and the lock watch's psql (backup's own session is already counted). */
    static final int OVERHEAD = 2;

    /** The free connections of the tightest limit, and that limit's name for the message. */
    record Free(int connections, String limit) {}

    static Free measure(PgTools.Tool psql, ConnInfo conn) {
        // One row: free server slots, the role's limit and use, the database's limit and use. This psql's own
        // connection is counted as open while it asks; it closes right after, hence the + 1 on each.
        String out = PgTools.query(psql, conn, """
                select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                       - coalesce(current_setting('reserved_connections', true)::int, 0)
                       - (select count(*) from pg_stat_activity where backend_type = 'client backend') + 1,
                       (select rolconnlimit from pg_roles where rolname = current_user),
                       (select count(*) from pg_stat_activity where usename = current_user and backend_type = 'client backend') - 1,
                       (select datconnlimit from pg_database where datname = current_database()),
                       (select count(*) from pg_stat_activity where datname = current_database() and backend_type = 'client backend') - 1""");
        String[] f = out.strip().split("\\|");
        int server = Integer.parseInt(f[0].strip());
        Free free = new Free(server, "max_connections (less superuser_reserved_connections and the " + "connections already open)");
        int role = Integer.parseInt(f[1].strip());
        if (role >= 0 && role - Integer.parseInt(f[2].strip()) < free.connections()) {
            free = new Free(role - Integer.parseInt(f[2].strip()), "the role's CONNECTION LIMIT " + role + " (less its connections already open)");
        }
        int db = Integer.parseInt(f[3].strip());
        if (db >= 0 && db - Integer.parseInt(f[4].strip()) < free.connections()) {
            free = new Free(db - Integer.parseInt(f[4].strip()), "the database's CONNECTION LIMIT " + db + " (less its connections already open)");
        }
        return free;
    }

    /**
     * The workers to run: {@code wanted}, or fewer when the server has fewer free connections (noted, with why);
     * a Failure (78) when not even one worker fits.
     */
    static int cap(int wanted, Free free, java.util.function.Consumer<String> note) {
        int fits = free.connections() - OVERHEAD;
        if (fits < 1) {
            throw new Failure(Exit.CONFIG, "--parallel needs at least " + (1 + OVERHEAD) + " free connections (pg_dump's leader, one worker, the lock"
                    + " watch) but " + free.limit() + " leaves " + Math.max(free.connections(), 0) + ": free connections or back up without --parallel");
        }
        if (fits >= wanted) return wanted;
        note.accept("--parallel " + wanted + " lowered to " + fits + ": pg_dump -j N holds N + 1 connections and " + free.limit() + " leaves "
                + free.connections() + " free");
        return fits;
    }

    private ConnectionBudget() {}
}
