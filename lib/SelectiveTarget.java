import java.util.ArrayList;
import java.util.List;

/**
 * The target's side of a selective restore (--table/--schema): which of the chosen relations, and of the views
 * built on them, it holds already. Restoring a dropped table back into the live database is the common case and
 * overwrites nothing; a table that is there is replaced only with --clean; and --clean cannot drop a table while
 * a view on it exists, so that is said before anything is downloaded, with the fix.
 */
final class SelectiveTarget {
    /** The relations among {@code qualified} ("schema.name", as TocSelection names them) that exist in {@code db}. */
    static List<String> existing(PgTools.Tool psql, ConnInfo db, List<String[]> relations) {
        if (relations.isEmpty()) return List.of();
        StringBuilder values = new StringBuilder();
        for (String[] r : relations) {
            if (values.length() > 0) values.append(", ");
            values.append('(').append(literal(r[0])).append(", ").append(literal(r[1])).append(')');
        }
        String out = PgTools.query(psql, db, "select coalesce(string_agg(w.s || '.' || w.n, E'\\n' order by w.s, w.n), '') from (values " + values
                + ") as w(s, n) where exists (select 1 from pg_class c join pg_namespace ns on ns.oid = c.relnamespace"
                + " where ns.nspname = w.s and c.relname = w.n)");
        return out.isBlank() ? List.of() : out.lines().toList();
    }

    /** [schema, name] of the relations among the selection's entries (tables, views, sequences, ...). */
    static List<String[]> relations(TocSelection.Result sel) {
        List<String[]> out = new ArrayList<>();
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        sel.entries().forEach(e -> ids.add(e.dumpId()));
        for (ArchiveToc.Entry e : sel.entries()) {
            if (!TocSelection.RELATIONS.contains(e.desc()) || e.namespace() == null) continue;
            if (e.desc().equals("SEQUENCE") && e.deps().stream().anyMatch(ids::contains)) continue; // owned by a chosen table: comes with it
            out.add(new String[] {e.namespace(), e.tag()});
        }
        return out;
    }

    /** [schema, name] of "schema.name" strings as TocSelection.qualified made them (the name after the first dot of the schema's). */
    static List<String[]> split(List<String> qualified, ArchiveToc toc) {
        List<String[]> out = new ArrayList<>();
        for (String q : qualified) {
            for (ArchiveToc.Entry e : toc.entries) {
                if (TocSelection.RELATIONS.contains(e.desc()) && e.namespace() != null && TocSelection.qualified(e).equals(q)) {
                    out.add(new String[] {e.namespace(), e.tag()});
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Refuses (64) what cannot or must not happen: the target holds chosen relations and --clean was not given (they
     * would be restored on top and fail), or --clean would have to drop a table a view of the target still uses.
     */
    static void refuse(PgTools.Tool psql, ConnInfo db, TocSelection.Result sel, ArchiveToc toc, boolean clean) {
        List<String> there = existing(psql, db, relations(sel));
        if (!there.isEmpty() && !clean) {
            throw Failure.usage("the target database \"" + db.database() + "\" already has " + String.join(", ", limit(there))
                    + ": pass --clean to replace " + (there.size() == 1 ? "it" : "them") + " (only the objects chosen, in one transaction),"
                    + " or restore into a new database (--create) and copy what you need");
        }
        if (clean && !there.isEmpty()) {
            List<String> views = existing(psql, db, split(sel.dependents(), toc));
            if (!views.isEmpty()) {
                throw Failure.usage("--clean cannot drop what you chose while " + String.join(", ", limit(views)) + " in the target "
                        + (views.size() == 1 ? "depends" : "depend") + " on it: add --table for " + (views.size() == 1 ? "it" : "them")
                        + " (recreated from the backup too), or drop " + (views.size() == 1 ? "it" : "them") + " first");
            }
        }
    }

    private static List<String> limit(List<String> names) {
        return names.size() <= 5 ? names : List.of(String.join(", ", names.subList(0, 5)), "... (" + names.size() + " in all)");
    }

    private static String literal(String s) { return "'" + s.replace("'", "''") + "'"; }

    private SelectiveTarget() {}
}
