import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sample database of the round-trip tests: several schemas; text, jsonb, bytea, arrays; a large object;
 * sequences, views, functions, triggers, an enum; unicode identifiers; a few MB of data. And the two ways we
 * compare a source with its restored copy: the schema-only dump, and per-table row counts and checksums.
 */
final class SampleDatabase {
    static final String SQL = String.join("\n",
            "create schema sales;",
            "create schema \"Ünïcødé schema\";",
            "create type sales.order_status as enum ('new', 'paid', 'shipped', 'cancelled');",
            "create sequence sales.invoice_no start 1000;",
            "create table public.customers (id bigserial primary key, name text not null, email text unique,",
            "  profile jsonb, tags text[], avatar bytea, created_at timestamptz default now());",
            "create table sales.orders (id bigserial primary key, customer_id bigint references public.customers(id),",
            "  status sales.order_status not null default 'new', amounts numeric(12,2)[], note text,",
            "  invoice bigint default nextval('sales.invoice_no'), updated_at timestamptz);",
            "create table \"Ünïcødé schema\".\"Täbelle ✓\" (\"Schlüssel\" int primary key, \"wert €\" text);",
            "create table public.audit_log (id bigserial primary key, at timestamptz default now(), what text);",
            "create view sales.paid_orders as select o.id, c.name, o.amounts from sales.orders o join public.customers c on c.id = o.customer_id where o.status = 'paid';",
            "create function sales.touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;",
            "create trigger orders_touch before update on sales.orders for each row execute function sales.touch();",
            "create function public.customer_count() returns bigint language sql stable as $$ select count(*) from public.customers $$;",
            "insert into public.customers (name, email, profile, tags, avatar)",
            "  select 'Customer ' || g, 'c' || g || '@example.com',",
            "    jsonb_build_object('n', g, 'vip', g % 7 = 0, 'address', jsonb_build_object('city', 'City ' || (g % 97), 'zip', lpad((g % 10000)::text, 5, '0'))),",
            "    array['tag' || (g % 5), 'tag' || (g % 11)], decode(md5(g::text) || md5((g * 31)::text), 'hex')",
            "  from generate_series(1, 8000) g;",
            "insert into sales.orders (customer_id, status, amounts, note)",
            "  select 1 + (g % 8000), (array['new','paid','shipped','cancelled'])[1 + g % 4]::sales.order_status,",
            "    array[(g % 1000)::numeric / 10, (g % 333)::numeric], repeat('note ' || g || ' ', 1 + g % 20)",
            "  from generate_series(1, 20000) g;",
            "insert into \"Ünïcødé schema\".\"Täbelle ✓\" select g, 'wert ' || g || ' ✓ ü €' from generate_series(1, 500) g;",
            "insert into public.audit_log (what) select 'event ' || g || ' ' || md5(g::text) from generate_series(1, 5000) g;",
            "select lo_from_bytea(424242, convert_to(repeat('large object payload ', 2000), 'UTF8'));",
            "select setval('sales.invoice_no', 31337);",
            "analyze;");

    /** Creates a new database holding the sample data; returns its name. */
    static String create(PgServer pg, String prefix) {
        String db = pg.createDatabase(prefix);
        pg.sql(db, SQL);
        return db;
    }

    /** pg_dump --schema-only, without the random restrict/unrestrict lines of current minor releases (design.md section 5). */
    static String schema(PgServer pg, String db) {
        PgTools.Tool pgDump = pg.tool("pg_dump");
        ConnInfo conn = pg.conn(db);
        PgTools.Result r = PgTools.run(List.of(pgDump.path().toString(), "--schema-only", "--no-owner", "--no-acl", "-d", conn.withoutPassword()),
                conn.childEnvironment(), null, 120);
        if (r.exitCode() != 0) throw new IllegalStateException("pg_dump --schema-only failed: " + r.stderr());
        List<String> kept = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            if (line.startsWith("\\restrict ") || line.startsWith("\\unrestrict ")) continue;
            kept.add(line);
        }
        return String.join("\n", kept);
    }

    /**
     * "schema.table" → "rows:md5 of all rows in a stable order", for every user table; plus the large objects
     * and the sequences' values. Equal maps mean equal data.
     */
    static Map<String, String> fingerprints(PgServer pg, String db) {
        Map<String, String> out = new TreeMap<>();
        String tables = pg.sql(db, "select format('%I.%I', schemaname, relname) from pg_stat_user_tables order by 1");
        for (String table : tables.split("\n")) {
            if (table.isBlank()) continue;
            out.put(table, pg.sql(db, "select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '-') from " + table + " t"));
        }
        out.put("(large objects)", pg.sql(db, "select count(*) || ':' || coalesce(md5(string_agg(oid::text || '=' || md5(lo_get(oid)), '|' order by oid)), '-') from pg_largeobject_metadata"));
        out.put("(sequences)", pg.sql(db, "select coalesce(string_agg(format('%I.%I', schemaname, sequencename) || '=' || coalesce(last_value, 0), '|' order by schemaname, sequencename), '-') from pg_sequences"));
        return out;
    }

    /** Restores a custom-format dump file into an existing empty database with plain pg_restore. */
    static void pgRestore(PgServer pg, Path dumpFile, String targetDb) {
        PgTools.Tool pgRestore = pg.tool("pg_restore");
        ConnInfo conn = pg.conn(targetDb);
        PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--no-owner", "--no-acl", "--exit-on-error", "-d", conn.withoutPassword(), dumpFile.toString()),
                conn.childEnvironment(), null, 600);
        if (r.exitCode() != 0) throw new IllegalStateException("pg_restore failed: " + r.stderr());
    }

    private SampleDatabase() {}
}
