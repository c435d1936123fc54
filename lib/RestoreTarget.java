import java.io.PrintWriter;
import java.util.List;

/** The database a restore writes to: does it exist, what server, what is in it; creating and dropping. */
final class RestoreTarget {
    /** @param objects user tables, views, sequences (not from extensions); examples: a few of their names */
    record State(boolean exists, PgTools.ServerVersion server, long objects, long tables, List<String> examples) {}

    private static final String USER_RELATIONS = "from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and n.nspname not in ('pg_catalog', 'information_schema')"
            + " and n.nspname !~ '^pg_' and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass"
            + " and d.objid = c.oid and d.deptype = 'e')";

    static State inspect(PgTools.Tool psql, ConnInfo target) {
        PgTools.ServerVersion server;
        try {
            server = PgTools.serverVersion(psql, target);
        } catch (Failure f) {
            if (f.exitCode == Exit.USAGE && f.getMessage().contains("does not exist")) {
                return new State(false, PgTools.serverVersion(psql, maintenance(psql, target)), 0, 0, List.of());
            }
            throw f;
        }
        String counts = PgTools.query(psql, target, "select count(*) || ' ' || count(*) filter (where c.relkind in ('r', 'p')) " + USER_RELATIONS);
        String[] n = counts.split(" ");
        String names = PgTools.query(psql, target, "select format('%I.%I', n.nspname, c.relname) " + USER_RELATIONS + " order by 1 limit 3");
        return new State(true, server, Long.parseLong(n[0]), Long.parseLong(n[1]), names.isBlank() ? List.of() : names.lines().toList());
    }

    /**
     * The safety rules before anything is written (docs/architecture.md#safety-rules): never the database the backup
     * came from, never a database that does not exist without --create, never one that has tables without --clean;
     * --force lifts the first and the last. A usage error (64) says which and what to do.
     */
    static void refuseUnsafe(State state, PgTools.Tool psql, ConnInfo target, Manifest m, boolean create, boolean clean, boolean force) {
        if (!force && state.exists()) {
            // By identity, not by how the URLs spell the host: localhost is 127.0.0.1, a moved DNS name is the same server.
            String same = ServerIdentity.sameAsSource(m, target, ServerIdentity.of(psql, target));
            if (same != null) {
                throw Failure.usage("the target is the database this backup came from (" + m.database() + " on " + m.host() + ": " + same
                        + "): restore into a new database and switch over once it is checked, or pass --force to overwrite the source"
                        + " (a Neon branch or a physical copy of the source has the same identity: --force is for those too)");
            }
        }
        if (!state.exists() && !create) {
            throw Failure.usage("the target database \"" + target.database() + "\" does not exist on " + target.host()
                    + ": add --create to create it (after the backup is verified), or create it yourself");
        }
        if (state.objects() > 0 && !clean && !force) {
            throw Failure.usage("the target database \"" + target.database() + "\" is not empty: it has " + state.objects()
                    + " tables, views or sequences (" + String.join(", ", state.examples()) + (state.objects() > state.examples().size() ? ", ..." : "")
                    + "): restore into a new database (--create), or pass --clean to replace the backup's objects, or --force to restore on top");
        }
    }

    /** A database on the target's server to run CREATE/DROP DATABASE from: postgres, else template1. */
    static ConnInfo maintenance(PgTools.Tool psql, ConnInfo target) {
        Failure last = null;
        for (String db : List.of("postgres", "template1")) {
            ConnInfo c = target.withDatabase(db);
            try {
                PgTools.query(psql, c, "select 1");
                return c;
            } catch (Failure f) {
                last = f;
            }
        }
        throw new Failure(last.exitCode, "cannot reach a maintenance database (postgres, template1) on " + target.host() + " to create \""
                + target.database() + "\": " + last.getMessage() + "; create the database yourself");
    }

    /** CREATE DATABASE from template0 (an empty database, whatever template1 holds). */
    static boolean create(PgTools.Tool psql, ConnInfo target, PrintWriter err) {
        PgTools.query(psql, maintenance(psql, target), "create database " + UserTables.quoted(target.database()) + " template template0");
        err.println("restore: created database \"" + target.database() + "\" on " + target.host());
        return true;
    }

    static boolean drop(PgTools.Tool psql, ConnInfo target, PrintWriter err) {
        try {
            return dropByName(psql, maintenance(psql, target), target.database());
        } catch (Failure f) {
            return false;
        }
    }

    static boolean dropByName(PgTools.Tool psql, ConnInfo via, String database) {
        try {
            PgTools.query(psql, via, "drop database if exists " + UserTables.quoted(database) + " with (force)");
            return true;
        } catch (Failure f) {
            return false;
        }
    }

    private RestoreTarget() {}
}
