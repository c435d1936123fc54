import java.io.PrintWriter;
import picocli.CommandLine.Mixin;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The options of the commands that act on one backup (restore, verify, drill), declared once: which backup
 * (--name, --at, --key), its private key when encrypted (--identity), and the {@link RestoreCommonOptions}.
 */
class RestoreBackupOptions {
    @Mixin AgeIdentityOption identity = new AgeIdentityOption();
    @Mixin BackupSelection selection = new BackupSelection();
    @Mixin RestoreCommonOptions common = new RestoreCommonOptions();

    /** The backup the selection means ({@link BackupChoice#select}). */
    BackupChoice choose(S3Client s3, PrintWriter err) { return BackupChoice.select(s3, common.bucket(), common.prefix(), selection, err); }
}
