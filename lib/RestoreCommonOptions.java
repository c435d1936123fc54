import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The options restore and its subcommands share, declared once: where the backups are ({@link StorageOptions}:
 * bucket, prefix, region, endpoint...) and --json/--verbose ({@link OutputOptions}).
 */
class RestoreCommonOptions {
    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    /** Before anything runs: the options typed before the subcommand ({@link ParentOptions}), then every value checked. */
    void begin(CommandSpec command) {
        ParentOptions.take(command);
        storage.validate();
    }

    String bucket() { return storage.bucket(); }

    String prefix() { return storage.prefix(); }

    boolean json() { return output.json; }

    S3Client s3() { return AwsClients.s3(storage.aws); }
}
