import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * One backup name holds one source's history (docs/architecture.md#safety-rules). Every Neon database is called neondb: two
 * servers backed up under one name would share one history, restore would pick the other server's backup, and
 * prune would delete one database's last backup because the other keeps the name's newest one fresh.
 *
 * <p>A source is identified by what PostgreSQL says about itself, readable without superuser: the cluster's
 * system identifier (pg_control_system(); the same on a physical replica, different for any other cluster), the
 * database's OID, and on Neon the branch's timeline; where those are missing on either side, by host, port and
 * database name as the connection reached them. Before a backup, the newest complete manifest of the name is
 * read: a different source is refused, unless the user says it is the same database moved (--source-moved),
 * which the new manifest records ({@link Manifest.Source#movedFrom}). A manifest from before sources were
 * recorded is no evidence either way.
 */
final class SourceHistory {

    /** This session's source: the host and port psql reached, the database, and the identity the server shows this role. */
    static Manifest.Source identify(PsqlSession session, String database) {
        PsqlSession.Reply r = session.run("\\echo host=:HOST\n\\echo port=:PORT\n"
                + "select 'oid=' || oid from pg_database where datname = current_database();\n"
                + "select 'sysid=' || system_identifier from pg_control_system();\n"
                + "select 'timeline=' || current_setting('neon.timeline_id', true);");
        Integer port = null;
        try {
            port = r.value("port") == null ? null : Integer.valueOf(r.value("port").strip());
        } catch (NumberFormatException ignored) {
            // a port psql cannot tell: none recorded
        }
        Long oid = r.value("oid") == null ? null : Long.valueOf(r.value("oid").strip());
        String timeline = r.value("timeline");
        return new Manifest.Source(r.value("host"), port, database, r.value("sysid"), oid, timeline == null || timeline.isBlank() ? null : timeline, null);
    }

    /**
     * Checks {@code current} against the newest complete backup of {@code name} and returns the source to record
     * (with {@code movedFrom} when {@code moved} acknowledged a different one). A listing or manifest this role
     * may not read gives a warning and no check.
     */
    static Manifest.Source check(S3Client s3, String bucket, String prefix, String name, Manifest.Source current, boolean moved,
                                 Consumer<String> note, Consumer<String> warn) {
        Previous previous;
        try {
            previous = newest(s3, bucket, prefix, name);
        } catch (S3Exception | Failure e) {
            Failure f = Errors.classify(e);
            if (f.exitCode != Exit.NO_PERMISSION) throw f;
            warn.accept("cannot read the name's earlier backups (" + f.getMessage() + "), so whether they come from this"
                    + " same database is not checked (grant s3:ListBucket on the prefix and s3:GetObject on *.manifest.json)");
            return current;
        }
        if (previous == null || previous.source() == null) {
            if (moved) note.accept("--source-moved: no earlier backup of '" + name + "' records its source; nothing to acknowledge");
            return current;
        }
        Manifest.Source before = previous.source();
        if (same(before, current)) {
            if (moved) note.accept("--source-moved: the source is the same as in the previous backup (" + describe(before) + "); nothing moved");
            else if (!Objects.equals(lower(before.host()), lower(current.host())) || !Objects.equals(before.port(), current.port())) {
                note.accept("same database as before (" + identity(current) + "), now reached at " + where(current) + " (was " + where(before) + ")");
            }
            return current;
        }
        if (!moved) {
            throw Failure.usage("backup name '" + name + "' holds the history of another database: its newest backup (" + previous.stamp() + ") is of "
                    + describe(before) + ", this one is " + describe(current) + ". Give this database its own --name (fleet file: NAME=URL),"
                    + " or pass --source-moved if it is the same database moved to another server");
        }
        note.accept("--source-moved: recording that '" + name + "' now comes from " + describe(current) + " (was " + describe(before) + ")");
        Manifest.Source was = new Manifest.Source(before.host(), before.port(), before.database(), before.systemIdentifier(), before.databaseOid(),
                before.timelineId(), null);
        return new Manifest.Source(current.host(), current.port(), current.database(), current.systemIdentifier(), current.databaseOid(),
                current.timelineId(), was);
    }

    /** The same source: by identity where both sides have one, else by host, port and database name. */
    static boolean same(Manifest.Source a, Manifest.Source b) {
        if (a.systemIdentifier() != null && b.systemIdentifier() != null && a.databaseOid() != null && b.databaseOid() != null) {
            if (a.timelineId() != null && b.timelineId() != null && !a.timelineId().equals(b.timelineId())) return false;
            return a.systemIdentifier().equals(b.systemIdentifier()) && a.databaseOid().equals(b.databaseOid());
        }
        return Objects.equals(lower(a.host()), lower(b.host())) && Objects.equals(port(a), port(b)) && Objects.equals(a.database(), b.database());
    }

    private static Integer port(Manifest.Source s) { return s.port() == null ? Integer.valueOf(5432) : s.port(); }

    private static String lower(String s) { return s == null ? null : s.toLowerCase(Locale.ROOT); }

    /** "neondb on ep-x.eu-central-1.aws.neon.tech:5432 (system 7713855622416311105, database oid 16384)". */
    static String describe(Manifest.Source s) {
        String id = identity(s);
        return s.database() + " on " + where(s) + (id.isEmpty() ? "" : " (" + id + ")");
    }

    private static String where(Manifest.Source s) { return (s.host() == null ? "?" : s.host()) + (s.port() == null ? "" : ":" + s.port()); }

    private static String identity(Manifest.Source s) {
        StringBuilder sb = new StringBuilder();
        if (s.systemIdentifier() != null) sb.append("system ").append(s.systemIdentifier());
        if (s.databaseOid() != null) sb.append(sb.length() > 0 ? ", " : "").append("database oid ").append(s.databaseOid());
        if (s.timelineId() != null) sb.append(sb.length() > 0 ? ", " : "").append("timeline ").append(s.timelineId());
        return sb.toString();
    }

    /** The newest complete backup of a name: its stamp and recorded source (null in old manifests). */
    record Previous(String stamp, Manifest.Source source) {}

    /** The newest complete backup of the name, or null. */
    static Previous newest(S3Client s3, String bucket, String prefix, String name) {
        List<BackupListing.Entry> entries = BackupListing.list(s3, bucket, prefix, name); // oldest first, each judged (BackupStatus)
        for (int i = entries.size() - 1; i >= 0; i--) {
            BackupListing.Entry e = entries.get(i);
            if (e.complete() && e.key().name().equals(name)) return new Previous(e.key().stamp(), e.status().manifest().source());
        }
        return null;
    }

    private SourceHistory() {}
}
