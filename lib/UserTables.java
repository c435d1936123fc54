import com.fasterxml.jackson.core.type.TypeReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The user tables of a database, one definition for everything that counts rows: backup records them in the
 * manifest (estimates, exact counts in the dump's snapshot), restore's drill counts the restored copy with the
 * same {@link #countSql} so that the two numbers mean the same thing.
 *
 * <p>User tables: ordinary and partitioned tables ({@code relkind} r, p) outside pg_catalog, information_schema
 * and the pg_* schemas (toast, other sessions' temp tables). A table's rows are its own, {@code FROM ONLY}: what
 * pg_dump's {@code COPY table TO stdout} writes for it, so an inheritance parent does not count its children's
 * rows twice. A partitioned table has no rows of its own (its partitions have them): it is never counted.
 */
final class UserTables {
    /** One user table as the catalog shows it. */
    record Table(String schema, String table, String kind, long rowEstimate, long bytes) {
        /** Partitioned: no storage, no rows of its own, no data in a dump. */
        boolean partitioned() { return "p".equals(kind); }

        /** schema.table for messages, e.g. public.orders, sales."Täbelle ✓". */
        String qualified() { return UserTables.ident(schema) + "." + UserTables.ident(table); }

        List<String> key() { return List.of(schema, table); }
    }

    /**
     * One JSON array of the user tables, ordered by schema and name: schema, table, kind ("r" or "p"), rows
     * (pg_class.reltuples, -1 when never analysed) and bytes (the main fork's size as of the last VACUUM or ANALYZE:
     * pg_class.relpages; pg_relation_size would wait for a table someone holds locked).
     */
    static final String LIST_SQL = "select coalesce(json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'kind', c.relkind,"
            + " 'rows', c.reltuples::bigint, 'bytes', c.relpages::bigint * current_setting('block_size')::bigint) order by n.nspname, c.relname), '[]')"
            + " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            + " where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'";

    /** Parses what {@link #LIST_SQL} returns. */
    static List<Table> parse(String json) {
        try {
            List<Map<String, Object>> rows = Json.MAPPER.readValue(json.strip(), new TypeReference<>() {});
            List<Table> tables = new ArrayList<>();
            for (Map<String, Object> r : rows) {
                tables.add(new Table((String) r.get("schema"), (String) r.get("table"), (String) r.get("kind"),
                        ((Number) r.get("rows")).longValue(), ((Number) r.get("bytes")).longValue()));
            }
            return tables;
        } catch (java.io.IOException | RuntimeException e) {
            throw new Failure(Exit.FAILED, "cannot read the list of user tables: " + e.getMessage());
        }
    }

    /** The user tables of {@code conn}'s database, in a connection of their own. */
    static List<Table> list(PgTools.Tool psql, ConnInfo conn) { return parse(PgTools.query(psql, conn, LIST_SQL)); }

    /** The exact count of a table's own rows: {@code select count(*) from only "schema"."table"}. */
    static String countSql(String schema, String table) { return "select count(*) from only " + quoted(schema) + "." + quoted(table); }

    /** A double-quoted SQL identifier (always quoted: safe for any name, reserved words included). */
    static String quoted(String name) { return "\"" + name.replace("\"", "\"\"") + "\""; }

    /** A name for messages: bare when it is plain lowercase (orders), else double-quoted ("Täbelle ✓"). */
    static String ident(String name) { return name.matches("[a-z_][a-z0-9_$]*") ? name : quoted(name); }

    private UserTables() {}
}
