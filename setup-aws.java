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

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** setup-aws: create or converge the bucket, the GitHub OIDC provider and the IAM role(s). */
@Command(name = "setup-aws", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "Create or converge, idempotently, the hardened S3 bucket, the GitHub Actions OIDC provider and least-privilege IAM role(s); print what to set in GitHub.")
class SetupAws implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--github-repo", paramLabel = "OWNER/REPO", description = "GitHub repository whose workflows may assume the role.")
    String githubRepo;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    public static void main(String[] args) { Cli.main(new SetupAws(), args); }

    @Override
    public Integer call() {
        storage.validate();
        if (githubRepo == null || !githubRepo.matches("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")) {
            throw Failure.usage("--github-repo must be OWNER/REPO, not '" + githubRepo + "'");
        }
        throw new Failure(Exit.FAILED, "setup-aws is not implemented yet");
    }
}
