import java.util.Collection;
import java.util.List;

/**
 * Row-level security during a restore. pg_restore runs with {@code row_security = off} by default, where a statement
 * that a policy would filter fails ("query would be affected by row-level security policy") instead. One such
 * statement is in every archive with a materialized view over a table with FORCE ROW LEVEL SECURITY: its
 * {@code REFRESH MATERIALIZED VIEW} runs as the view's owner, after the post-data section turned the table's row
 * security on, and fails whenever that owner is neither superuser nor BYPASSRLS (the owner role on Neon or RDS), even
 * when a superuser restores with owners kept.
 *
 * <p>Such an archive is restored with {@code --enable-row-security} ({@code row_security = on}). That loses no row:
 * pg_dump puts every ENABLE/FORCE ROW LEVEL SECURITY in post-data, so while the data section copies the rows no
 * restored table has row security on (a --clean restore drops and recreates the tables first); the refresh then
 * computes the view under its owner's policies, as a refresh on the source did. For a superuser or BYPASSRLS role the
 * setting changes nothing: policies never apply to it.
 */
final class RowSecurity {
    /** Whether these TOC entries need --enable-row-security: a table's row security turned on, and a materialized view refreshed. */
    static boolean needed(Collection<ArchiveToc.Entry> entries) {
        return entries.stream().anyMatch(e -> "ROW SECURITY".equals(e.desc()))
                && entries.stream().anyMatch(e -> "MATERIALIZED VIEW DATA".equals(e.desc()));
    }

    /** The same for the lines of {@code pg_restore --list} ("3345; 0 16386 ROW SECURITY public t owner"). */
    static boolean neededInListing(List<String> lines) {
        return lines.stream().anyMatch(l -> l.matches("^\\d+; \\d+ \\d+ ROW SECURITY .*"))
                && lines.stream().anyMatch(l -> l.matches("^\\d+; \\d+ \\d+ MATERIALIZED VIEW DATA .*"));
    }

    /** Why the flag is used, for the output. */
    static final String WHY = "pg_restore --enable-row-security: the backup has materialized views and tables with row-level security;"
            + " with pg_restore's default (row_security = off) a view's refresh fails when its owner is neither superuser nor BYPASSRLS."
            + " The rows are copied before any table's row security is turned on, and each view is refreshed under its owner's policies, as on the source";

    /** When owners are not kept: the views are refreshed as the restoring user, under its policies, not their owners'. */
    static final String NOT_OWNERS = "WARNING: owners are not kept, so each materialized view is refreshed as the user you restore as: where a"
            + " row-level security policy depends on the role, the view's rows can differ from the source's; REFRESH MATERIALIZED VIEW as the right owner"
            + " after the restore, or keep the owners (create the roles first)";

    /** The role {@code db} connects as when it is subject to row-level security (neither superuser nor BYPASSRLS), else null. */
    static String subjectRole(PgTools.Tool psql, ConnInfo db) {
        String[] row = PgTools.query(psql, db, "select rolsuper or rolbypassrls, rolname from pg_roles where rolname = current_user").strip().split("\\|", 2);
        return row.length == 2 && row[0].equals("f") ? row[1] : null;
    }

    private RowSecurity() {}
}
