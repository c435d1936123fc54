///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// Sources are UTF-8 whatever the locale (cron, systemd, containers with LANG unset or C would read them as ASCII).
//COMPILE_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS software.amazon.awssdk:bom:2.40.2@pom
//DEPS software.amazon.awssdk:s3
//DEPS software.amazon.awssdk:iam
//DEPS software.amazon.awssdk:sts
//DEPS software.amazon.awssdk:apache-client
//DEPS com.fasterxml.jackson.core:jackson-databind:2.21.3
//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-nop:2.0.17
//SOURCES lib/Exit.java
//SOURCES lib/Redact.java
//SOURCES lib/Version.java
//SOURCES lib/Cli.java
//SOURCES lib/ActionsAnnotator.java
//SOURCES lib/GitHubAnnotations.java
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/BackupKey.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StoreProfile.java
//SOURCES lib/StorageOptions.java
//SOURCES lib/Digests.java
//SOURCES lib/Markdown.java
//SOURCES lib/RoleKind.java
//SOURCES lib/IamPolicies.java
//SOURCES lib/PolicyJson.java
//SOURCES lib/SetupSettings.java
//SOURCES lib/SetupTarget.java
//SOURCES lib/SetupItem.java
//SOURCES lib/SetupPlan.java
//SOURCES lib/BucketPlanner.java
//SOURCES lib/IamPlanner.java
//SOURCES lib/ReadOnlyGuard.java
//SOURCES lib/SetupReport.java

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.AutoComplete;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * setup-aws: create or converge, idempotently, everything the nightly workflow needs in AWS:
 * <ol>
 *   <li>the S3 bucket, hardened (no public access, ACLs off, default encryption, TLS only, stale multipart
 *       uploads aborted, optional versioning and Object Lock);</li>
 *   <li>the GitHub Actions OIDC provider, so workflows get short-lived credentials and no keys are stored;</li>
 *   <li>the IAM role(s) the workflow assumes: trusted only by one repository's branch or environment, and
 *       allowed only what backup, prune and restore do under the prefix.</li>
 * </ol>
 * It first reads the current state of every resource and plans (create / update / unchanged: {@link BucketPlanner},
 * {@link IamPlanner}, the documents from {@link IamPolicies}, compared by meaning by {@link PolicyJson}), then applies
 * the plan in order ({@link SetupPlan}). --dry-run stops after the plan: it is enforced by an interceptor that refuses
 * every AWS call that is not a read ({@link ReadOnlyGuard}). Nothing is ever deleted, and settings it does not own
 * (other statements of the bucket policy, other lifecycle rules) are kept.
 */
@Command(name = "setup-aws", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        subcommands = AutoComplete.GenerateCompletion.class,
        description = {"Create or converge, idempotently, the hardened S3 bucket, the GitHub Actions OIDC provider and least-privilege IAM role(s); print what to set in GitHub.",
                "Run it with administrator credentials on your machine (or CloudShell), once, and again whenever you change an option: a second run changes nothing and says so."})
class SetupAws implements Callable<Integer> {
    static final int NONCURRENT_DAYS_DEFAULT = 30;

    @Spec CommandSpec spec;

    @Option(names = "--github-repo", paramLabel = "OWNER/REPO", defaultValue = "${env:GITHUB_REPOSITORY}",
            description = "GitHub repository whose workflows may assume the role(s) (env GITHUB_REPOSITORY). Case matters: as GitHub spells it.")
    String githubRepo;

    /** Which workflow runs may assume the role: one branch, or one deployment environment. Never a wildcard. */
    static class Trigger {
        @Option(names = "--branch", paramLabel = "BRANCH",
                description = "Branch whose workflow runs may assume the role (default: main; set it if your default branch has another name).")
        String branch;

        @Option(names = "--environment", paramLabel = "NAME",
                description = "GitHub deployment environment whose jobs may assume the role, instead of a branch (lets you add reviewers or branch rules in GitHub).")
        String environment;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Trigger trigger = new Trigger();

    @Option(names = "--subject-prefix", paramLabel = "repo:OWNER@ID/REPO@ID",
            description = "Use GitHub's immutable subject claim (numeric owner and repository ids) instead of repo:OWNER/REPO in the trust policy, e.g. repo:octo-org@123456/app@789012.")
    String subjectPrefix;

    @Mixin StorageOptions storage = new StorageOptions();

    @Option(names = "--role-name", paramLabel = "NAME",
            description = "IAM role name (default: pgdump-s3-BUCKET); with --split-roles the base of NAME-writer, NAME-pruner, NAME-restorer.")
    String roleName;

    @Option(names = "--split-roles",
            description = "Three roles instead of one: a writer for backup (creates new objects only, reads only manifests, no delete, no *.verify.json), a pruner for prune (list and delete), a restorer for restore drills (read, and write only *.verify.json).")
    boolean splitRoles;

    @Option(names = "--kms-key", paramLabel = "KEY_ARN",
            description = "Default encryption with this KMS key (SSE-KMS with an S3 bucket key) instead of SSE-S3; the role(s) get kms:GenerateDataKey/Decrypt on it, through S3 only.")
    String kmsKey;

    @Option(names = "--versioning", description = "Turn on bucket versioning; noncurrent versions expire after --noncurrent-days.")
    boolean versioning;

    @Option(names = "--noncurrent-days", paramLabel = "DAYS", defaultValue = "" + NONCURRENT_DAYS_DEFAULT,
            description = "With versioning: days after which overwritten or deleted versions expire (default: ${DEFAULT-VALUE}).")
    int noncurrentDays;

    @Option(names = "--object-lock-days", paramLabel = "DAYS",
            description = "Object Lock default retention in GOVERNANCE mode for DAYS days (turns on versioning). Only for a bucket created with Object Lock: setup-aws does that when it creates the bucket.")
    Integer objectLockDays;

    @Option(names = "--max-session-hours", paramLabel = "HOURS", defaultValue = "6",
            description = "Longest session the workflow may request for a role, 1-12 hours (default: ${DEFAULT-VALUE}): long enough for a big dump; the workflow asks for it with role-duration-seconds.")
    int maxSessionHours;

    @Option(names = "--dry-run", description = "Print the plan (each resource: create, update or unchanged, with its JSON) and change nothing.")
    boolean dryRun;

    @Mixin OutputOptions output = new OutputOptions();

    public static void main(String[] args) { Cli.main(new SetupAws(), args); }

    // ---------------------------------------------------------------------------------------------------
    // The flow: validate, find out who and where we are, plan, apply, report.
    // ---------------------------------------------------------------------------------------------------

    @Override
    public Integer call() {
        SetupSettings s = settings();
        PrintWriter human = output.json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        ExecutionInterceptor[] guard = dryRun ? new ExecutionInterceptor[] {new ReadOnlyGuard()} : new ExecutionInterceptor[0];
        try (StsClient sts = AwsClients.sts(storage.aws, guard);
             S3Client s3 = AwsClients.s3(storage.aws, guard);
             IamClient iam = AwsClients.iam(storage.aws, guard)) {
            GetCallerIdentityResponse me = sts.getCallerIdentity();
            SetupTarget t = new SetupTarget(s, me.account(), SetupTarget.partitionOf(me.arn()));
            human.printf("setup-aws%s: AWS account %s (%s), region %s, bucket %s, prefix %s/%n", dryRun ? " --dry-run" : "",
                    t.account(), me.arn(), s.region(), s.bucket(), s.prefix());
            human.printf("  trusted GitHub subject: %s%s%n", s.subject(),
                    trigger.branch == null && trigger.environment == null ? "  (branch main by default: use --branch if yours differs)" : "");
            human.flush();

            SetupPlan plan = new SetupPlan();
            List<String> warnings = new ArrayList<>();
            new BucketPlanner(s3, t, storage.aws.endpoint(), warnings).plan(plan.items);
            new IamPlanner(iam, t, warnings).plan(plan.items);

            Failure failure = dryRun ? null : plan.apply();
            new SetupReport(t, plan, warnings, dryRun).print(human, spec.commandLine().getOut(), output.json, failure);
            if (failure != null) throw failure;
            return Exit.OK;
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Inputs: everything is checked before the first AWS call, so a typo is exit 64, not a half-done setup.
    // ---------------------------------------------------------------------------------------------------

    private static final Pattern REPO = Pattern.compile("([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9_.-]{1,100})");
    private static final Pattern IMMUTABLE = Pattern.compile("(?:repo:)?([A-Za-z0-9][A-Za-z0-9-]{0,38})@(\\d+)/([A-Za-z0-9_.-]{1,100})@(\\d+)");
    private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9._/-]{1,255}");
    private static final Pattern ENVIRONMENT = Pattern.compile("[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,253}[A-Za-z0-9._-])?");
    private static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z0-9+=,.@_-]{1,64}");
    private static final Pattern KMS_KEY_ARN = Pattern.compile("arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\\d{12}):key/([A-Za-z0-9-]+)");

    SetupSettings settings() {
        storage.validate();
        String bucket = storage.bucket();
        String prefix = storage.prefix();
        if (githubRepo == null || githubRepo.isBlank()) throw Failure.usage("no repository given: use --github-repo OWNER/REPO");
        Matcher repo = REPO.matcher(githubRepo.strip());
        if (!repo.matches() || repo.group(2).equals(".") || repo.group(2).equals("..")) {
            throw Failure.usage("--github-repo must be OWNER/REPO as on GitHub, not '" + githubRepo + "'");
        }
        String repoClaim = "repo:" + repo.group(1) + "/" + repo.group(2);
        if (subjectPrefix != null) {
            Matcher m = IMMUTABLE.matcher(subjectPrefix.strip());
            if (!m.matches()) {
                throw Failure.usage("--subject-prefix must be GitHub's immutable form repo:OWNER@OWNER_ID/REPO@REPO_ID, not '" + subjectPrefix + "'");
            }
            if (!m.group(1).equalsIgnoreCase(repo.group(1)) || !m.group(3).equalsIgnoreCase(repo.group(2))) {
                throw Failure.usage("--subject-prefix names " + m.group(1) + "/" + m.group(3) + " but --github-repo is " + githubRepo.strip());
            }
            repoClaim = "repo:" + m.group(1) + "@" + m.group(2) + "/" + m.group(3) + "@" + m.group(4);
        }
        String subject;
        if (trigger.environment != null) {
            if (!ENVIRONMENT.matcher(trigger.environment).matches()) {
                throw Failure.usage("invalid --environment '" + trigger.environment + "': letters, digits, ' ', '.', '_' and '-' (no wildcards)");
            }
            subject = IamPolicies.environmentSubject(repoClaim, trigger.environment);
        } else {
            String branch = trigger.branch == null ? "main" : trigger.branch.strip();
            if (branch.startsWith("refs/heads/")) branch = branch.substring("refs/heads/".length());
            if (!BRANCH.matcher(branch).matches() || branch.contains("..") || branch.startsWith("/") || branch.endsWith("/")) {
                throw Failure.usage("invalid --branch '" + trigger.branch + "': a branch name such as main (no wildcards: the role trusts exactly one branch)");
            }
            subject = IamPolicies.branchSubject(repoClaim, branch);
        }
        String region = region();
        List<RoleKind> kinds = splitRoles ? List.of(RoleKind.WRITER, RoleKind.PRUNER, RoleKind.RESTORER) : List.of(RoleKind.ALL);
        String base = roleName == null ? defaultRoleBase(bucket) : roleName.strip();
        for (RoleKind k : kinds) {
            if (!ROLE_NAME.matcher(base + k.suffix).matches()) {
                throw Failure.usage("invalid role name '" + base + k.suffix + "': at most 64 letters, digits and +=,.@_-");
            }
        }
        if (kmsKey != null) {
            Matcher m = KMS_KEY_ARN.matcher(kmsKey.strip());
            if (!m.matches()) {
                throw Failure.usage("--kms-key must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not '" + kmsKey
                        + "': IAM grants on a key need its ARN, an alias does not work there");
            }
            if (!m.group(2).equals(region)) {
                throw Failure.usage("the KMS key is in " + m.group(2) + " but the bucket is in " + region + ": S3 needs a key in the bucket's region");
            }
        }
        if (objectLockDays != null && (objectLockDays < 1 || objectLockDays > 36500)) throw Failure.usage("--object-lock-days must be 1..36500");
        if (noncurrentDays < 1) throw Failure.usage("--noncurrent-days must be at least 1");
        if (maxSessionHours < 1 || maxSessionHours > 12) throw Failure.usage("--max-session-hours must be 1..12 (IAM's limits)");
        boolean versioned = versioning || objectLockDays != null;
        return new SetupSettings(bucket, prefix, region, repo.group(1) + "/" + repo.group(2), subject, trigger.environment, kinds, base,
                kmsKey == null ? null : kmsKey.strip(), versioned, noncurrentDays, objectLockDays, maxSessionHours * 3600);
    }

    private String region() {
        var r = storage.aws.regionOrNull();
        if (r != null) return r.id();
        if (storage.aws.endpoint() != null) return "us-east-1";
        try {
            return new DefaultAwsRegionProviderChain().getRegion().id();
        } catch (RuntimeException e) {
            throw new Failure(Exit.CONFIG, "no AWS region: set --region or AWS_REGION (the bucket is created there)");
        }
    }

    /** pgdump-s3-BUCKET, shortened with a hash when it would not leave room for the -restorer suffix. */
    static String defaultRoleBase(String bucket) {
        String base = "pgdump-s3-" + bucket;
        if (base.length() <= 64 - RoleKind.RESTORER.suffix.length()) return base;
        return base.substring(0, 46) + "-" + Digests.sha256Hex(bucket.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
    }
}
