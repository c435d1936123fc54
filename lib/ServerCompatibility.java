/**
 * Whether an archive can be restored into a server of a given major version, decided before anything is
 * downloaded or created (the manifest has the pg_dump version, one query the server's). PostgreSQL does not
 * support loading pg_dump output into a server older than the pg_dump that wrote it, and it really fails:
 * pg_dump 17 and later write {@code SET transaction_timeout = 0;}, which servers before 17 reject, after the
 * download and, with --create, after the database was made. So that combination is refused up front, with both
 * versions and the two ways out.
 */
final class ServerCompatibility {
    /** The refusal for restoring an archive of pg_dump {@code pgDumpVersion} into a server of {@code serverVersion}; null when it can work. */
    static Failure refusal(String pgDumpVersion, int serverMajor, String serverVersion) {
        int dumpMajor = PgTools.majorOf(pgDumpVersion);
        if (dumpMajor == 0 || serverMajor == 0 || dumpMajor <= serverMajor) return null;
        return new Failure(Exit.CONFIG, "the backup was written by pg_dump " + pgDumpVersion + " and the target server is PostgreSQL "
                + serverVersion + ": pg_dump " + dumpMajor + " archives cannot be restored into an older server"
                + (dumpMajor >= 17 && serverMajor < 17 ? " (they set transaction_timeout, which PostgreSQL " + serverMajor + " rejects)" : "")
                + ". Restore into a PostgreSQL " + dumpMajor + " or newer server, or use a backup made with pg_dump " + serverMajor
                + " (backup --pg-dump PATH; pg_dump must not be older than the source server)");
    }

    /**
     * The message when no pg_restore is new enough: it must be at least the target server's major and the archive's
     * pg_dump major; says which of the two asked for it (the old message called the archive's version the server's).
     */
    static String pgRestoreTooOld(String found, int serverMajor, String pgDumpVersion) {
        int dumpMajor = PgTools.majorOf(pgDumpVersion);
        int need = Math.max(serverMajor, dumpMajor);
        String why = dumpMajor > serverMajor
                ? "the backup was written by pg_dump " + pgDumpVersion + " (the target server is " + serverMajor + ")"
                : "the target server is PostgreSQL " + serverMajor + (dumpMajor > 0 ? " (the backup was written by pg_dump " + pgDumpVersion + ")" : "");
        return "pg_restore " + need + " or newer is needed: " + why + (found == null ? "" : "; found only " + found)
                + ": install postgresql-client-" + need + ", or pass --pg-restore PATH";
    }

    /**
     * The refusal of a pg_restore 17 or later for a server before 17, null when it can work: pg_restore 17 and 18 send
     * {@code SET transaction_timeout = 0} whatever the archive (checked with 17.12 and 18.6 on a PostgreSQL 15 server, for
     * an archive of pg_dump 15), which those servers reject, so the restore would fail only after the download and, with
     * --create, after the database was made.
     */
    static String pgRestoreTooNew(PgTools.Tool pgRestore, int serverMajor) {
        if (serverMajor == 0 || serverMajor >= 17 || pgRestore.major() < 17) return null;
        return "pg_restore " + pgRestore.version() + " (" + pgRestore.path() + ") cannot restore into PostgreSQL " + serverMajor + ": pg_restore 17 and later"
                + " set transaction_timeout, which PostgreSQL " + serverMajor + " rejects. Install postgresql-client-" + serverMajor
                + " (apt.postgresql.org) and pass --pg-restore /usr/lib/postgresql/" + serverMajor + "/bin/pg_restore, or restore into a PostgreSQL 17 or newer server";
    }

    private ServerCompatibility() {}
}
