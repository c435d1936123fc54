import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One database to back up: its backup name (null until named) and its connection. */
record BackupTarget(String name, ConnInfo conn) {
    /**
     * Every target with its backup name: its own (NAME= in the fleet file), else {@code name} (--name), else its database
     * name sanitised. Names given by the user are checked; two targets under one name are refused.
     */
    static List<BackupTarget> named(List<BackupTarget> targets, String name) {
        List<BackupTarget> named = new ArrayList<>();
        Map<String, BackupTarget> seen = new HashMap<>();
        for (BackupTarget t : targets) {
            String n = t.name() != null ? t.name() : name != null ? name : BackupKey.sanitizeName(t.conn().database());
            if (t.name() != null || name != null) checkName(n);
            BackupTarget prior = seen.put(n, t);
            if (prior != null) {
                // Same NAME and start second would be the same key: one backup would overwrite the other.
                throw Failure.usage("two databases would be backed up under the same name '" + n + "' (" + prior.conn().redacted() + " and "
                        + t.conn().redacted() + "): name them in --databases-file (NAME=URL per line)");
            }
            named.add(new BackupTarget(n, t.conn()));
        }
        return named;
    }

    /**
     * A backup name given by the user (--name, or NAME= in the fleet file): checked, and echoed or turned into an
     * "e.g." suggestion only when it cannot be a URL or a password typed in the wrong place ({@link Redact#showableName}).
     */
    static void checkName(String n) {
        if (n == null || n.isBlank()) throw Failure.usage("the backup name is empty: use lowercase letters, digits, '.', '_' and '-'");
        if (n.length() > BackupKey.MAX_NAME) {
            throw Failure.usage("the backup name is " + n.length() + " characters long, at most " + BackupKey.MAX_NAME
                    + " are allowed (it appears twice in every S3 key, and S3 keys have at most 1024 bytes)");
        }
        if (!Redact.showableName(n)) {
            throw Failure.usage("invalid backup name (not shown: it holds characters such as : / @ ? = % that belong to a URL or a password,"
                    + " not to a name): use lowercase letters, digits, '.', '_' and '-'");
        }
        String clean = BackupKey.sanitizeName(n);
        if (!clean.equals(n)) {
            throw Failure.usage("invalid backup name '" + n + "': use lowercase letters, digits, '.', '_' and '-' (e.g. '" + clean + "')");
        }
    }
}
