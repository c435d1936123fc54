import java.util.regex.Pattern;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where backups live: bucket, prefix, and the AWS options. Shared by backup, prune and restore. */
class StorageOptions {
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    @Option(names = "--bucket", paramLabel = "BUCKET", defaultValue = "${env:S3_BUCKET:-${env:S3_BUCKET_NAME}}",
            description = "S3 bucket (env S3_BUCKET or S3_BUCKET_NAME).")
    String bucket;

    @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "${env:S3_PREFIX:-" + BackupKey.DEFAULT_PREFIX + "}",
            description = "Key prefix under which backups live (env S3_PREFIX; default: ${DEFAULT-VALUE}).")
    String prefix;

    @Mixin
    AwsOptions aws = new AwsOptions();

    /** The bucket, checked against S3's naming rules so a typo is a usage error, not an AWS error. */
    String bucket() {
        if (bucket == null || bucket.isBlank()) throw Failure.usage("no bucket given: use --bucket or set S3_BUCKET");
        String b = bucket.strip();
        if (!BUCKET.matcher(b).matches() || b.contains("..") || b.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
            throw Failure.usage("invalid bucket name '" + bucket + "': 3-63 characters, lowercase letters, digits, '.' and '-'");
        }
        return b;
    }

    String prefix() { return BackupKey.checkPrefix(prefix); }

    /** Checks everything up front, so a bad value fails before any connection is made. */
    void validate() {
        bucket();
        prefix();
        aws.endpoint();
        aws.store();
        aws.regionOrNull();
    }
}
