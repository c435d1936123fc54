///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS software.amazon.awssdk:bom:2.40.2@pom
//DEPS software.amazon.awssdk:s3
//DEPS software.amazon.awssdk:iam
//DEPS software.amazon.awssdk:sts
//DEPS software.amazon.awssdk:apache-client
//DEPS com.fasterxml.jackson.core:jackson-databind:2.21.3
//DEPS org.zeroturnaround:zt-exec:1.12
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/BackupKey.java
//SOURCES lib/Manifest.java
//SOURCES lib/ConnInfo.java
//SOURCES lib/PgTools.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/Progress.java
//SOURCES lib/BackupListing.java

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** backup: stream pg_dump of one or many databases into S3, then write each backup's manifest. */
@Command(name = "backup", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "Stream pg_dump (custom format) of one or many PostgreSQL databases into S3, with a checksummed manifest written last: a failed dump never becomes a visible backup.")
class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--database-url", paramLabel = "URL", defaultValue = "${env:DATABASE_URL}",
            description = "Database to back up, a libpq URI; repeatable (env DATABASE_URL).")
    List<String> databaseUrls = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", description = "Backup name for a single database (default: the database name, sanitised).")
    String name;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    @Parameters(paramLabel = "PG_DUMP_ARG", description = "Extra pg_dump arguments after --, e.g. -- --exclude-table-data=audit_log")
    List<String> pgDumpArgs = new ArrayList<>();

    public static void main(String[] args) { Cli.main(new Backup(), args); }

    @Override
    public Integer call() {
        storage.validate();
        if (databaseUrls.isEmpty()) throw Failure.usage("no database given: use --database-url or set DATABASE_URL");
        for (String url : databaseUrls) ConnInfo.parse(url);
        throw new Failure(Exit.FAILED, "backup is not implemented yet");
    }
}
