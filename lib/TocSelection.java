import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses the TOC entries that restore some tables or schemas WITH what belongs to them, as a pg_restore list
 * file ({@code pg_restore -L}). {@code pg_restore -t accounts} restores the table and its data only: no primary
 * key, indexes, triggers, RLS flag or policies, no owned sequence's value. Here an entry belongs to a chosen object
 * when it depends on it (the archive records every dependency) and is of a kind that is part of it (constraint,
 * index, trigger, policy, comment, grant, owned sequence, ...), transitively.
 *
 * <p>An entry that also needs a table that is not restored (a foreign key to or from another table) is kept when
 * restoring into an existing database (that table is there) and left out, and said, into a new one. Into a new
 * database the objects the chosen ones need and that are no table (their schema, a trigger's function, a type, a
 * sequence a default uses) come too; into an existing one they must be there.
 *
 * <p>Names are matched as pg_restore's {@code -t} and {@code -n} match them: exact and case-sensitive, a table
 * name in any schema (tables, views, materialized views, foreign tables, sequences). {@code schema.table} (with
 * double quotes around a part that contains a dot) names one schema's table.
 */
final class TocSelection {
    /** Objects a name can choose (pg_restore -t matches these). */
    static final Set<String> RELATIONS = Set.of("TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "SEQUENCE");

    /** Kinds that are part of the object they depend on. */
    static final Set<String> BELONGING = Set.of("TABLE DATA", "MATERIALIZED VIEW DATA", "SEQUENCE", "SEQUENCE SET", "SEQUENCE OWNED BY",
            "DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "INDEX", "INDEX ATTACH", "TABLE ATTACH", "TRIGGER", "RULE",
            "POLICY", "ROW SECURITY", "COMMENT", "ACL", "SECURITY LABEL", "STATISTICS", "STATISTICS DATA");

    /** Kinds that hold or shape another table's rows: an entry needing one that is not restored needs that table. */
    private static final Set<String> OTHER_TABLES = Set.of("TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "CONSTRAINT",
            "FK CONSTRAINT", "INDEX", "TABLE DATA");

    /** Kinds a new database needs before the chosen objects can be created (what they use, not what they are). */
    private static final Set<String> PREREQUISITES = Set.of("SCHEMA", "FUNCTION", "PROCEDURE", "AGGREGATE", "TYPE", "SHELL TYPE", "DOMAIN",
            "COLLATION", "EXTENSION", "SEQUENCE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
            "TEXT SEARCH TEMPLATE", "CONVERSION", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "CAST", "PROCEDURAL LANGUAGE",
            "FOREIGN DATA WRAPPER", "SERVER", "ACCESS METHOD");

    /** Entries pg_restore always processes (session settings). */
    private static final Set<String> SPECIAL = Set.of("ENCODING", "STDSTRINGS", "SEARCHPATH");

    /** What was chosen: the entries to restore in archive order, the objects named, and what was left out and why. */
    record Result(List<ArchiveToc.Entry> entries, List<String> chosen, List<String> leftOut, List<String> dependents) {
        /** The list file for pg_restore -L: one "ID; ..." line per entry (pg_restore reads the ID), comments saying why. */
        String listFile() {
            StringBuilder b = new StringBuilder("; pgdump-s3: selective restore of " + String.join(", ", chosen) + "\n");
            for (String l : leftOut) b.append("; left out: ").append(l.replace('\n', ' ')).append('\n');
            for (ArchiveToc.Entry e : entries) {
                b.append(e.dumpId()).append("; ").append(e.tableOid()).append(' ').append(e.oid()).append(' ')
                        .append(e.describe().replace('\n', ' ')).append('\n');
            }
            return b.toString();
        }

        /** The entries pg_restore will report on (not the session settings). */
        int objects() { return (int) entries.stream().filter(e -> !SPECIAL.contains(e.desc())).count(); }
    }

    /**
     * Chooses from {@code toc} the tables named in {@code tables} and the schemas in {@code schemas}, with what
     * belongs to them. {@code intoExisting}: the target database exists already (foreign keys to other tables are
     * kept, prerequisites are expected there). A name that matches nothing is a usage error naming close ones.
     */
    static Result choose(ArchiveToc toc, List<String> tables, List<String> schemas, boolean intoExisting) {
        Set<Integer> selected = new LinkedHashSet<>();
        List<String> chosen = new ArrayList<>();
        for (String name : tables) {
            List<ArchiveToc.Entry> hits = matchRelation(toc, name);
            if (hits.isEmpty()) throw Failure.usage("no table, view or sequence " + quote(name) + " in this backup" + closeRelations(toc, name)
                    + ": names are exact and case-sensitive, as in pg_restore -t ('restore --list-contents' shows them)");
            for (ArchiveToc.Entry e : hits) {
                selected.add(e.dumpId());
                chosen.add(e.desc() + " " + qualified(e));
            }
        }
        for (String schema : schemas) {
            boolean found = false;
            for (ArchiveToc.Entry e : toc.entries) {
                boolean schemaEntry = e.desc().equals("SCHEMA") && e.tag().equals(schema);
                if (schemaEntry || (schema.equals(e.namespace()) && !BELONGING.contains(e.desc()) && !e.desc().equals("SCHEMA"))
                        || (schema.equals(e.namespace()) && e.desc().equals("SEQUENCE"))) {
                    selected.add(e.dumpId());
                    found = true;
                }
            }
            if (!found) throw Failure.usage("no schema " + quote(schema) + " in this backup" + closeSchemas(toc, schema)
                    + ": names are exact and case-sensitive, as in pg_restore -n ('restore --list-contents' shows them)");
            chosen.add("SCHEMA " + schema);
        }

        // What belongs to the chosen objects, transitively.
        Map<Integer, String> outside = new LinkedHashMap<>();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (ArchiveToc.Entry e : toc.entries) {
                if (selected.contains(e.dumpId()) || !BELONGING.contains(e.desc())) continue;
                if (e.deps().stream().noneMatch(selected::contains)) continue;
                List<String> needs = new ArrayList<>();
                for (int d : e.deps()) {
                    ArchiveToc.Entry dep = toc.get(d);
                    if (dep != null && !selected.contains(d) && OTHER_TABLES.contains(dep.desc())) needs.add(tableOf(toc, dep));
                }
                if (needs.isEmpty() || intoExisting) {
                    selected.add(e.dumpId());
                    outside.remove(e.dumpId());
                    grew = true;
                } else {
                    outside.put(e.dumpId(), e.describe() + " (needs " + String.join(", ", new TreeSet<>(needs))
                            + ", not restored; restore it too, or restore into the existing database)");
                }
            }
        }

        // Into a new database: what the chosen objects use (schema, functions, types, sequences), with their settings.
        if (!intoExisting) {
            Set<Integer> prereqs = new LinkedHashSet<>();
            List<Integer> todo = new ArrayList<>(selected);
            while (!todo.isEmpty()) {
                ArchiveToc.Entry e = toc.get(todo.remove(todo.size() - 1));
                if (e == null) continue;
                for (int d : e.deps()) {
                    ArchiveToc.Entry dep = toc.get(d);
                    if (dep == null || selected.contains(d) || prereqs.contains(d) || !PREREQUISITES.contains(dep.desc())) continue;
                    if (dep.desc().equals("SCHEMA") && "public".equals(dep.tag())) continue; // every database has it
                    prereqs.add(d);
                    todo.add(d);
                }
            }
            for (ArchiveToc.Entry e : toc.entries) {
                if (prereqs.contains(e.dumpId())) continue;
                boolean setting = e.desc().equals("COMMENT") || e.desc().equals("ACL") || e.desc().equals("SECURITY LABEL") || e.desc().equals("SEQUENCE SET");
                if (setting && !e.deps().isEmpty() && e.deps().stream().allMatch(d -> prereqs.contains(d) || selected.contains(d)
                        || (toc.get(d) != null && toc.get(d).desc().equals("ACL")))) {
                    prereqs.add(e.dumpId());
                }
            }
            selected.addAll(prereqs);
        }

        List<ArchiveToc.Entry> entries = new ArrayList<>();
        for (ArchiveToc.Entry e : toc.entries) {
            if (SPECIAL.contains(e.desc()) || selected.contains(e.dumpId())) entries.add(e);
        }
        // Views and other relations built on the chosen ones: --clean cannot drop a table while a view on it exists.
        List<String> dependents = new ArrayList<>();
        for (ArchiveToc.Entry e : toc.entries) {
            if (RELATIONS.contains(e.desc()) && !selected.contains(e.dumpId()) && e.deps().stream().anyMatch(selected::contains)) {
                dependents.add(qualified(e));
            }
        }
        return new Result(entries, chosen, List.copyOf(outside.values()), List.copyOf(dependents));
    }

    /** The relations a -t name matches: the name in any schema, else "schema.name". */
    static List<ArchiveToc.Entry> matchRelation(ArchiveToc toc, String name) {
        List<ArchiveToc.Entry> hits = new ArrayList<>();
        for (ArchiveToc.Entry e : toc.entries) if (RELATIONS.contains(e.desc()) && e.tag().equals(name)) hits.add(e);
        if (!hits.isEmpty()) return hits;
        String[] parts = splitQualified(name);
        if (parts == null) return hits;
        for (ArchiveToc.Entry e : toc.entries) {
            if (RELATIONS.contains(e.desc()) && e.tag().equals(parts[1]) && parts[0].equals(e.namespace())) hits.add(e);
        }
        return hits;
    }

    /** "schema.table", "\"my.schema\".\"t\"" → [schema, table]; null when not qualified. Quotes: "" is one quote. */
    static String[] splitQualified(String name) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '"') {
                if (quoted && i + 1 < name.length() && name.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == '.' && !quoted) {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts.size() == 2 && !parts.get(0).isEmpty() && !parts.get(1).isEmpty() ? parts.toArray(String[]::new) : null;
    }

    /** "public.accounts" for an entry in a schema, else its tag. */
    static String qualified(ArchiveToc.Entry e) {
        return e.namespace() == null || e.namespace().isEmpty() ? e.tag() : e.namespace() + "." + e.tag();
    }

    /** The table an entry of another table belongs to: a table itself, or the table its constraint/index/data depends on. */
    private static String tableOf(ArchiveToc toc, ArchiveToc.Entry e) {
        if (RELATIONS.contains(e.desc())) return qualified(e);
        for (int d : e.deps()) {
            ArchiveToc.Entry dep = toc.get(d);
            if (dep != null && RELATIONS.contains(dep.desc())) return qualified(dep);
        }
        return e.describe();
    }

    private static String closeRelations(ArchiveToc toc, String name) {
        Set<String> close = new TreeSet<>();
        String lower = name.toLowerCase(Locale.ROOT);
        for (ArchiveToc.Entry e : toc.entries) {
            if (!RELATIONS.contains(e.desc())) continue;
            String q = qualified(e).toLowerCase(Locale.ROOT);
            if (e.tag().toLowerCase(Locale.ROOT).equals(lower) || q.equals(lower.replace("\"", "")) || e.tag().toLowerCase(Locale.ROOT).contains(lower)) {
                close.add(qualified(e));
            }
        }
        return close.isEmpty() ? "" : " (did you mean " + String.join(", ", close.stream().limit(5).toList()) + "?)";
    }

    private static String closeSchemas(ArchiveToc toc, String schema) {
        Set<String> close = new TreeSet<>();
        for (ArchiveToc.Entry e : toc.entries) {
            String ns = e.namespace();
            if (ns != null && !ns.isEmpty() && (ns.equalsIgnoreCase(schema) || ns.toLowerCase(Locale.ROOT).contains(schema.toLowerCase(Locale.ROOT)))) close.add(ns);
        }
        return close.isEmpty() ? "" : " (did you mean " + String.join(", ", close.stream().limit(5).toList()) + "?)";
    }

    private static String quote(String s) { return "\"" + s + "\""; }

    private TocSelection() {}
}
