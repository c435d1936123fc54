import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * --identity: the age private key of encrypted backups. From a file, or (for CI secrets, which are values, not
 * files) the key itself in BACKUP_AGE_IDENTITY; never an option value, which would put it in argv and shell history.
 */
class AgeIdentityOption {
    @Option(names = "--identity", paramLabel = "FILE",
            description = "For an encrypted backup: the age identity file holding its private key (AGE-SECRET-KEY-1..., as 'restore keygen' or age-keygen"
                    + " write it). Default: the key itself from the environment variable " + Age.IDENTITY_ENV + " (e.g. a GitHub secret).")
    Path file;

    /** The identities for this backup: null when it is not encrypted; a usage error (64) when it is and none was given. */
    Age.Identities forBackup(Manifest m) {
        if (m.encryption() == null) return null;
        String scheme = m.encryption().scheme();
        if (!Age.SCHEME.equals(scheme)) {
            throw new Failure(Exit.CONFIG, "backup " + m.dumpKey() + " is encrypted with '" + scheme + "', which this " + Version.TOOL + " "
                    + Version.VERSION + " cannot decrypt: upgrade " + Version.TOOL);
        }
        Age.Identities identities = load();
        if (identities == null) {
            List<String> to = m.encryption().recipients() == null ? List.of() : m.encryption().recipients();
            throw Failure.usage("backup " + m.dumpKey() + " is encrypted with age" + (to.isEmpty() ? "" : " to " + String.join(", ", to))
                    + ": give its private key with --identity FILE, or the key itself in the environment variable " + Age.IDENTITY_ENV);
        }
        return identities;
    }

    private Age.Identities load() {
        if (file != null) return Age.Identities.read(file);
        String key = System.getenv(Age.IDENTITY_ENV);
        if (key == null || key.isBlank()) return null;
        return Age.Identities.parse(key, "the environment variable " + Age.IDENTITY_ENV);
    }
}
