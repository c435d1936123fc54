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
//SOURCES lib/JsonDocument.java
//SOURCES lib/Errors.java
//SOURCES lib/Json.java
//SOURCES lib/BackupKey.java
//SOURCES lib/AwsClients.java
//SOURCES lib/StoreProfile.java
//SOURCES lib/StorageOptions.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketLocationConstraint;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.ObjectOwnership;
import software.amazon.awssdk.services.s3.model.OwnershipControlsRule;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionRule;
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
 * It first reads the current state of every resource and plans (create / update / unchanged), then applies
 * the plan in order. --dry-run stops after the plan: it is enforced by an interceptor that refuses every AWS
 * call that is not a read. Nothing is ever deleted, and settings it does not own (other statements of the
 * bucket policy, other lifecycle rules) are kept.
 */
@Command(name = "setup-aws", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Create or converge, idempotently, the hardened S3 bucket, the GitHub Actions OIDC provider and least-privilege IAM role(s); print what to set in GitHub.",
                "Run it with administrator credentials on your machine (or CloudShell), once, and again whenever you change an option: a second run changes nothing and says so."})
class SetupAws implements Callable<Integer> {
    static final String TOOL_TAG_KEY = "managed-by";
    static final String TOOL_TAG_VALUE = "pgdump-s3";
    static final String POLICY_NAME = "pgdump-s3-access";
    static final String OIDC_HOST = "token.actions.githubusercontent.com";
    static final String OIDC_AUDIENCE = "sts.amazonaws.com";
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
        Settings s = settings();
        PrintWriter human = output.json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        ExecutionInterceptor[] guard = dryRun ? new ExecutionInterceptor[] {new ReadOnlyGuard()} : new ExecutionInterceptor[0];
        try (StsClient sts = AwsClients.sts(storage.aws, guard);
             S3Client s3 = AwsClients.s3(storage.aws, guard);
             IamClient iam = AwsClients.iam(storage.aws, guard)) {
            GetCallerIdentityResponse me = sts.getCallerIdentity();
            Target t = new Target(s, me.account(), partitionOf(me.arn()));
            human.printf("setup-aws%s: AWS account %s (%s), region %s, bucket %s, prefix %s/%n", dryRun ? " --dry-run" : "",
                    t.account, me.arn(), s.region, s.bucket, s.prefix);
            human.printf("  trusted GitHub subject: %s%s%n", s.subject,
                    trigger.branch == null && trigger.environment == null ? "  (branch main by default: use --branch if yours differs)" : "");
            human.flush();

            List<Item> plan = new ArrayList<>();
            List<String> warnings = new ArrayList<>();
            new BucketPlanner(s3, t, warnings).plan(plan);
            new IamPlanner(iam, t, warnings).plan(plan);

            Failure failure = dryRun ? null : apply(plan);
            report(human, t, plan, warnings, failure);
            if (failure != null) throw failure;
            return Exit.OK;
        }
    }

    /** Applies the plan in order; on the first failure, stops and returns it (what was done stays done). */
    private Failure apply(List<Item> plan) {
        for (Item item : plan) {
            if (item.action == Action.UNCHANGED) {
                item.status = "done";
                continue;
            }
            try {
                item.apply.run();
                item.status = "done";
            } catch (RuntimeException e) {
                item.status = "failed";
                Failure cause = explain(e, item);
                for (Item rest : plan) if (rest.status == null) rest.status = "skipped";
                long done = plan.stream().filter(i -> "done".equals(i.status) && i.action != Action.UNCHANGED).count();
                return new Failure(cause.exitCode, "could not " + item.action.verb + " " + item.label() + ": " + cause.getMessage()
                        + " (" + done + " change(s) before it are in place; fix this and run setup-aws again)", e);
            }
        }
        return null;
    }

    /** One line for an AWS error while changing a resource, with the exit code of design.md. */
    static Failure explain(Throwable e, Item item) {
        if (e instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
            String code = aws.awsErrorDetails().errorCode();
            String msg = aws.awsErrorDetails().errorMessage();
            if ("BucketAlreadyExists".equals(code)) {
                return new Failure(Exit.FAILED, "the bucket name is already taken by another AWS account (S3 bucket names are global): choose another --bucket", e);
            }
            if ("AccessDenied".equals(code) || "AccessDeniedException".equals(code) || aws.statusCode() == 403) {
                return new Failure(Exit.NO_PERMISSION, "permission denied (" + code + (msg == null ? "" : ": " + msg)
                        + "): setup-aws needs rights to administer S3 buckets and IAM roles (see the README, setup-aws: permissions needed)", e);
            }
        }
        return Errors.classify(e);
    }

    // ---------------------------------------------------------------------------------------------------
    // Inputs: everything is checked before the first AWS call, so a typo is exit 64, not a half-done setup.
    // ---------------------------------------------------------------------------------------------------

    /** The validated inputs. */
    record Settings(String bucket, String prefix, String region, String githubRepo, String subject, String environment,
                    List<RoleKind> kinds, String roleBase, String kmsKey, boolean versioning, int noncurrentDays,
                    Integer objectLockDays, int maxSessionSeconds) {
        String roleName(RoleKind kind) { return roleBase + kind.suffix; }
    }

    private static final Pattern REPO = Pattern.compile("([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9_.-]{1,100})");
    private static final Pattern IMMUTABLE = Pattern.compile("(?:repo:)?([A-Za-z0-9][A-Za-z0-9-]{0,38})@(\\d+)/([A-Za-z0-9_.-]{1,100})@(\\d+)");
    private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9._/-]{1,255}");
    private static final Pattern ENVIRONMENT = Pattern.compile("[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,253}[A-Za-z0-9._-])?");
    private static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z0-9+=,.@_-]{1,64}");
    private static final Pattern KMS_KEY_ARN = Pattern.compile("arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\\d{12}):key/([A-Za-z0-9-]+)");

    Settings settings() {
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
            subject = Policies.environmentSubject(repoClaim, trigger.environment);
        } else {
            String branch = trigger.branch == null ? "main" : trigger.branch.strip();
            if (branch.startsWith("refs/heads/")) branch = branch.substring("refs/heads/".length());
            if (!BRANCH.matcher(branch).matches() || branch.contains("..") || branch.startsWith("/") || branch.endsWith("/")) {
                throw Failure.usage("invalid --branch '" + trigger.branch + "': a branch name such as main (no wildcards: the role trusts exactly one branch)");
            }
            subject = Policies.branchSubject(repoClaim, branch);
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
        return new Settings(bucket, prefix, region, repo.group(1) + "/" + repo.group(2), subject, trigger.environment, kinds, base,
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
        return base.substring(0, 46) + "-" + sha256(bucket).substring(0, 8);
    }

    static String partitionOf(String callerArn) {
        String[] parts = callerArn == null ? new String[0] : callerArn.split(":");
        return parts.length > 2 && !parts[1].isBlank() ? parts[1] : "aws";
    }

    /** Who we are and what we converge: the settings plus the account and partition from STS. */
    record Target(Settings s, String account, String partition) {
        String bucketArn() { return "arn:" + partition + ":s3:::" + s.bucket; }
        String oidcProviderArn() { return "arn:" + partition + ":iam::" + account + ":oidc-provider/" + OIDC_HOST; }
        String roleArn(RoleKind k) { return "arn:" + partition + ":iam::" + account + ":role/" + s.roleName(k); }
    }

    // ---------------------------------------------------------------------------------------------------
    // The role design. Why these permissions: see each capability. Listing is allowed only for keys under
    // PREFIX/ (an s3:prefix condition), objects only under PREFIX/*; nothing on other prefixes or buckets,
    // no s3:DeleteObjectVersion (with versioning, prune's deletes leave recoverable versions), no bucket admin.
    // ---------------------------------------------------------------------------------------------------

    enum Capability {
        LIST,           // s3:ListBucket, only with s3:prefix PREFIX/*: backup, prune and restore find backups by listing
        CREATE,         // s3:PutObject on PREFIX/* as a create only, + abort and list parts: backup streams dumps as multipart
                        // uploads and completes them, and puts manifests, with If-None-Match: * (never replaces an object)
        READ_MANIFESTS, // s3:GetObject on PREFIX/*.manifest.json: backup reads a name's newest manifest (one history per source),
                        // prune every manifest (only complete backups count)
        READ_VERIFY,    // s3:GetObject on PREFIX/*.verify.json: prune --require-verified reads drill records
        READ,           // s3:GetObject on PREFIX/*: restore and drills download dumps and manifests
        DELETE,         // s3:DeleteObject on PREFIX/*: prune
        STALE_UPLOADS,  // s3:ListBucketMultipartUploads (bucket) + s3:AbortMultipartUpload: prune cleans up dead uploads
        WRITE_VERIFY    // s3:PutObject on PREFIX/*.verify.json, unconditional: a restore drill records (and replaces) its result
    }

    enum RoleKind {
        ALL("", "AWS_ROLE_ARN", "backup, prune and restore",
                List.of(Capability.LIST, Capability.CREATE, Capability.READ, Capability.DELETE, Capability.STALE_UPLOADS, Capability.WRITE_VERIFY)),
        WRITER("-writer", "AWS_WRITER_ROLE_ARN", "backup (create new objects only; read manifests; no delete, no verify records)",
                List.of(Capability.LIST, Capability.CREATE, Capability.READ_MANIFESTS)),
        PRUNER("-pruner", "AWS_PRUNER_ROLE_ARN", "prune (list, read manifests and drill records, delete)",
                List.of(Capability.LIST, Capability.DELETE, Capability.STALE_UPLOADS, Capability.READ_MANIFESTS, Capability.READ_VERIFY)),
        RESTORER("-restorer", "AWS_RESTORER_ROLE_ARN", "restore and drills (read; write only *.verify.json)", List.of(Capability.LIST, Capability.READ, Capability.WRITE_VERIFY));

        final String suffix, variable, purpose;
        final List<Capability> capabilities;

        RoleKind(String suffix, String variable, String purpose, List<Capability> capabilities) {
            this.suffix = suffix;
            this.variable = variable;
            this.purpose = purpose;
            this.capabilities = capabilities;
        }

        boolean can(Capability c) { return capabilities.contains(c); }

        /** Does this role encrypt (put) or decrypt (get, or complete a multipart upload) with the bucket's KMS key? */
        boolean usesKms() { return can(Capability.CREATE) || can(Capability.READ) || can(Capability.WRITE_VERIFY); }

        /** Does it only read small objects under the key (manifests, drill records) and write nothing: kms:Decrypt alone? */
        boolean decryptsOnly() { return !usesKms() && (can(Capability.READ_MANIFESTS) || can(Capability.READ_VERIFY)); }
    }

    /** The policy documents, as data, from pure functions (tests assert on them). */
    static final class Policies {
        static String branchSubject(String repoClaim, String branch) { return repoClaim + ":ref:refs/heads/" + branch; }

        static String environmentSubject(String repoClaim, String environment) { return repoClaim + ":environment:" + environment; }

        /** Trust: only GitHub's OIDC tokens for audience sts.amazonaws.com and exactly this subject (no wildcard). */
        static ObjectNode trustPolicy(String oidcProviderArn, String subject) {
            ObjectNode doc = document();
            ObjectNode st = doc.withArray("Statement").addObject();
            st.put("Sid", "GitHubActionsOidc");
            st.put("Effect", "Allow");
            st.putObject("Principal").put("Federated", oidcProviderArn);
            st.put("Action", "sts:AssumeRoleWithWebIdentity");
            ObjectNode eq = st.putObject("Condition").putObject("StringEquals");
            eq.put(OIDC_HOST + ":aud", OIDC_AUDIENCE);
            eq.put(OIDC_HOST + ":sub", subject);
            return doc;
        }

        /**
         * The inline permission policy of one role.
         *
         * <p>Creating without replacing, as AWS documents it for conditional writes: s3:PutObject is one permission
         * for PutObject, CreateMultipartUpload, UploadPart and CompleteMultipartUpload. It is allowed for a request
         * that carries If-None-Match (s3:if-none-match not null: PutObject and CompleteMultipartUpload, which S3 then
         * refuses with 412 when the key exists; S3 takes no other value than * there), and for the requests that
         * only stage parts (s3:ObjectCreationOperation false: CreateMultipartUpload, UploadPart, UploadPartCopy,
         * which take no conditional header and create no object). A PutObject or completion without the header,
         * and so any overwrite or CopyObject, matches neither and is denied.
         */
        static ObjectNode permissionPolicy(RoleKind kind, String partition, String bucket, String prefix, String kmsKeyArn, String region) {
            String bucketArn = "arn:" + partition + ":s3:::" + bucket;
            String objects = bucketArn + "/" + prefix + "/*";
            String verifyRecords = objects + BackupKey.Kind.VERIFY.suffix;
            ObjectNode doc = document();
            ArrayNode statements = doc.withArray("Statement");
            if (kind.can(Capability.LIST)) {
                ObjectNode st = allow(statements, "ListBackupPrefix", List.of("s3:ListBucket"), bucketArn);
                st.putObject("Condition").putObject("StringLike").putArray("s3:prefix").add(prefix + "/*");
            }
            if (kind.can(Capability.STALE_UPLOADS)) allow(statements, "ListMultipartUploads", List.of("s3:ListBucketMultipartUploads"), bucketArn);
            if (kind.can(Capability.CREATE)) {
                allow(statements, "CreateObjectsOnly", List.of("s3:PutObject"), objects)
                        .putObject("Condition").putObject("Null").put("s3:if-none-match", "false");
                allow(statements, "StageMultipartUploads", List.of("s3:PutObject"), objects)
                        .putObject("Condition").putObject("Bool").put("s3:ObjectCreationOperation", "false");
            }
            List<String> objectActions = new ArrayList<>();
            if (kind.can(Capability.CREATE)) objectActions.addAll(List.of("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"));
            if (kind.can(Capability.READ)) objectActions.add("s3:GetObject");
            if (kind.can(Capability.DELETE)) objectActions.add("s3:DeleteObject");
            if (kind.can(Capability.STALE_UPLOADS) && !objectActions.contains("s3:AbortMultipartUpload")) objectActions.add("s3:AbortMultipartUpload");
            if (!objectActions.isEmpty()) allow(statements, "BackupObjects", objectActions.stream().sorted().toList(), objects);
            if (kind.can(Capability.READ_MANIFESTS) && !kind.can(Capability.READ)) {
                allow(statements, "ReadManifests", List.of("s3:GetObject"), objects + BackupKey.Kind.MANIFEST.suffix);
            }
            if (kind.can(Capability.READ_VERIFY) && !kind.can(Capability.READ)) {
                allow(statements, "ReadVerifyRecords", List.of("s3:GetObject"), verifyRecords);
            }
            if (kind.can(Capability.WRITE_VERIFY)) allow(statements, "WriteVerifyRecords", List.of("s3:PutObject"), verifyRecords);
            if (kind.can(Capability.CREATE) && !kind.can(Capability.WRITE_VERIFY)) {
                // The create grant above covers *.verify.json too; a drill record written by the job that holds the
                // database credentials would let --require-verified trust an untested backup. An explicit Deny also
                // wins over any other policy attached to the role.
                ObjectNode st = statements.addObject();
                st.put("Sid", "NoVerifyRecords");
                st.put("Effect", "Deny");
                st.putArray("Action").add("s3:PutObject");
                st.put("Resource", verifyRecords);
            }
            if (kmsKeyArn != null && kind.decryptsOnly()) { // reads manifests or drill records only: no data keys
                ObjectNode st = allow(statements, "UseBucketKmsKey", List.of("kms:Decrypt"), kmsKeyArn);
                st.putObject("Condition").putObject("StringEquals").put("kms:ViaService", "s3." + region + ".amazonaws.com");
            }
            if (kmsKeyArn != null && kind.usesKms()) {
                ObjectNode st = allow(statements, "UseBucketKmsKey", List.of("kms:Decrypt", "kms:GenerateDataKey"), kmsKeyArn);
                st.putObject("Condition").putObject("StringEquals").put("kms:ViaService", "s3." + region + ".amazonaws.com");
            }
            return doc;
        }

        /** The statement setup-aws owns in the bucket policy: refuse every request not made over TLS. */
        static ObjectNode denyInsecureTransport(String bucketArn) {
            ObjectNode st = Json.MAPPER.createObjectNode();
            st.put("Sid", "PgdumpS3DenyInsecureTransport");
            st.put("Effect", "Deny");
            st.put("Principal", "*");
            st.put("Action", "s3:*");
            st.putArray("Resource").add(bucketArn).add(bucketArn + "/*");
            st.putObject("Condition").putObject("Bool").put("aws:SecureTransport", "false");
            return st;
        }

        /** The bucket policy: the existing one with our statement added or replaced (others are kept). */
        static ObjectNode bucketPolicy(JsonNode existing, String bucketArn) {
            ObjectNode ours = denyInsecureTransport(bucketArn);
            ObjectNode doc = existing == null || !existing.isObject() ? document() : ((ObjectNode) existing).deepCopy();
            if (!doc.has("Version")) doc.put("Version", "2012-10-17");
            ArrayNode out = Json.MAPPER.createArrayNode();
            boolean replaced = false;
            for (JsonNode st : statementsOf(doc)) {
                if (ours.get("Sid").equals(st.get("Sid"))) {
                    if (!replaced) out.add(ours);
                    replaced = true;
                } else {
                    out.add(st);
                }
            }
            if (!replaced) out.add(ours);
            doc.set("Statement", out);
            return doc;
        }

        static List<JsonNode> statementsOf(JsonNode doc) {
            List<JsonNode> list = new ArrayList<>();
            JsonNode st = doc == null ? null : doc.get("Statement");
            if (st == null) return list;
            if (st.isArray()) st.forEach(list::add);
            else list.add(st);
            return list;
        }

        private static ObjectNode document() {
            ObjectNode doc = Json.MAPPER.createObjectNode();
            doc.put("Version", "2012-10-17");
            doc.putArray("Statement");
            return doc;
        }

        private static ObjectNode allow(ArrayNode statements, String sid, List<String> actions, String resource) {
            ObjectNode st = statements.addObject();
            st.put("Sid", sid);
            st.put("Effect", "Allow");
            ArrayNode a = st.putArray("Action");
            actions.forEach(a::add);
            st.put("Resource", resource);
            return st;
        }

        private Policies() {}
    }

    // ---------------------------------------------------------------------------------------------------
    // Comparing policy documents: by meaning, not by text. IAM returns documents URL-encoded and may reorder
    // or collapse one-element lists, so both sides are parsed and put in a canonical form first.
    // ---------------------------------------------------------------------------------------------------

    static final class PolicyJson {
        /** Parses a policy document as AWS returns it: JSON, or URL-encoded JSON (IAM roles and inline policies). */
        static JsonNode parse(String text) {
            if (text == null) return null;
            String t = text.strip();
            if (!t.startsWith("{")) t = URLDecoder.decode(t.replace("+", "%2B"), StandardCharsets.UTF_8).strip();
            try {
                return Json.MAPPER.readTree(t);
            } catch (Exception e) {
                throw new Failure(Exit.FAILED, "AWS returned a policy document that is not JSON: " + e.getMessage());
            }
        }

        private static final List<String> LIST_VALUED = List.of("Action", "NotAction", "Resource", "NotResource");

        /** Canonical form: keys sorted, one-element lists and strings alike, lists of values sorted, statements sorted. */
        static JsonNode canonical(JsonNode node) { return canonical(node, null); }

        private static JsonNode canonical(JsonNode node, String key) {
            if (node == null) return null;
            if (node.isObject()) {
                ObjectNode out = Json.MAPPER.createObjectNode();
                TreeMap<String, JsonNode> sorted = new TreeMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) sorted.put(e.getKey(), e.getValue());
                boolean conditionValues = "Condition-operator".equals(key) || "Principal".equals(key);
                for (var e : sorted.entrySet()) {
                    String childKey = e.getKey();
                    if ("Condition".equals(key)) childKey = "Condition-operator";
                    else if (conditionValues || LIST_VALUED.contains(e.getKey())) childKey = "list";
                    else if ("Statement".equals(e.getKey())) childKey = "Statement";
                    out.set(e.getKey(), canonical(e.getValue(), childKey));
                }
                if ("Statement".equals(key)) return Json.MAPPER.createArrayNode().add(out);
                return out;
            }
            if ("list".equals(key) || "Statement".equals(key)) {
                List<JsonNode> items = new ArrayList<>();
                if (node.isArray()) node.forEach(n -> items.add(canonical(n, "Statement".equals(key) ? null : "item")));
                else items.add(canonical(node, "item"));
                items.sort((a, b) -> a.toString().compareTo(b.toString()));
                ArrayNode out = Json.MAPPER.createArrayNode();
                items.forEach(out::add);
                return out;
            }
            if (node.isArray()) {
                ArrayNode out = Json.MAPPER.createArrayNode();
                node.forEach(n -> out.add(canonical(n, null)));
                return out;
            }
            return node;
        }

        /** Same meaning: equal canonical forms, where true and "true", 7 and "7" are alike (IAM accepts both). */
        static boolean same(JsonNode a, JsonNode b) {
            if (a == null || b == null) return a == b;
            return textual(canonical(a)).equals(textual(canonical(b)));
        }

        private static JsonNode textual(JsonNode node) {
            if (node.isObject()) {
                ObjectNode out = Json.MAPPER.createObjectNode();
                node.properties().forEach(e -> out.set(e.getKey(), textual(e.getValue())));
                return out;
            }
            if (node.isArray()) {
                ArrayNode out = Json.MAPPER.createArrayNode();
                node.forEach(n -> out.add(textual(n)));
                return out;
            }
            return node.isBoolean() || node.isNumber() ? Json.MAPPER.getNodeFactory().textNode(node.asText()) : node;
        }

        /** A line diff of the two documents' canonical, pretty-printed forms ("-" current, "+" desired). */
        static String diff(JsonNode current, JsonNode desired) {
            List<String> a = current == null ? List.of() : Json.write(display(canonical(current))).lines().toList();
            List<String> b = Json.write(display(canonical(desired))).lines().toList();
            return lineDiff(a, b);
        }

        /** For people: one-element lists of plain values shown as the value, as policies are usually written. */
        static JsonNode display(JsonNode node) {
            if (node.isObject()) {
                ObjectNode out = Json.MAPPER.createObjectNode();
                node.properties().forEach(e -> out.set(e.getKey(), display(e.getValue())));
                return out;
            }
            if (node.isArray()) {
                if (node.size() == 1 && node.get(0).isValueNode()) return node.get(0);
                ArrayNode out = Json.MAPPER.createArrayNode();
                node.forEach(n -> out.add(display(n)));
                return out;
            }
            return node;
        }

        /** Longest-common-subsequence diff; unchanged runs longer than 4 lines are elided. */
        static String lineDiff(List<String> a, List<String> b) {
            int n = a.size(), m = b.size();
            int[][] lcs = new int[n + 1][m + 1];
            for (int i = n - 1; i >= 0; i--) {
                for (int j = m - 1; j >= 0; j--) lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
            List<String> out = new ArrayList<>();
            int i = 0, j = 0;
            while (i < n || j < m) {
                if (i < n && j < m && a.get(i).equals(b.get(j))) { out.add("  " + a.get(i)); i++; j++; }
                else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) out.add("- " + a.get(i++));
                else out.add("+ " + b.get(j++));
            }
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < out.size(); k++) {
                boolean near = false;
                for (int d = -2; d <= 2; d++) {
                    int x = k + d;
                    if (x >= 0 && x < out.size() && !out.get(x).startsWith("  ")) near = true;
                }
                if (near) sb.append(out.get(k)).append('\n');
                else if (sb.length() == 0 || !sb.toString().endsWith("  ...\n")) sb.append("  ...\n");
            }
            return sb.toString();
        }

        private PolicyJson() {}
    }

    // ---------------------------------------------------------------------------------------------------
    // The plan: one item per resource or setting, each with its current and desired state as JSON.
    // ---------------------------------------------------------------------------------------------------

    enum Action {
        CREATE("create", "created", "would create"), UPDATE("update", "updated", "would update"), UNCHANGED("unchanged", "unchanged", "unchanged");
        final String verb, done, planned;
        Action(String verb, String done, String planned) { this.verb = verb; this.done = done; this.planned = planned; }
    }

    static final class Item {
        final String resource, name;
        final Action action;
        final JsonNode current, desired;
        final String note;
        final Runnable apply;
        String status; // done | failed | skipped | null (dry run: planned)

        Item(String resource, String name, JsonNode current, JsonNode desired, String note, Runnable apply) {
            this.resource = resource;
            this.name = name;
            this.current = current;
            this.desired = desired;
            this.note = note;
            this.apply = apply;
            this.action = current == null ? Action.CREATE : PolicyJson.same(current, desired) ? Action.UNCHANGED : Action.UPDATE;
        }

        String label() { return resource + " " + name; }

        ObjectNode toJson(boolean dryRun) {
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("resource", resource);
            o.put("name", name);
            o.put("action", action.verb);
            o.put("status", dryRun ? "planned" : status);
            if (note != null) o.put("note", note);
            o.set("desired", desired);
            if (current != null) o.set("current", current);
            if (action == Action.UPDATE) o.put("diff", PolicyJson.diff(current, desired));
            return o;
        }
    }

    /** Reads the bucket's state and plans each of its settings. */
    final class BucketPlanner {
        private final S3Client s3;
        private final Target t;
        private final List<String> warnings;

        BucketPlanner(S3Client s3, Target t, List<String> warnings) {
            this.s3 = s3;
            this.t = t;
            this.warnings = warnings;
        }

        void plan(List<Item> plan) {
            Settings s = t.s;
            String b = s.bucket;
            String name = "s3://" + b;
            boolean exists = bucketExists(b);

            // The bucket, in the region; with Object Lock when asked (S3 allows it at creation; see below).
            ObjectNode wantBucket = obj().put("Region", s.region);
            if (s.objectLockDays != null) wantBucket.put("ObjectLockEnabled", true);
            ObjectNode haveBucket = null;
            if (exists) {
                haveBucket = obj().put("Region", s.region);
                if (s.objectLockDays != null) {
                    boolean locked = objectLockEnabled(b);
                    if (!locked) {
                        throw new Failure(Exit.CONFIG, "the bucket " + b + " exists without Object Lock, and setup-aws does not turn it on for an existing bucket"
                                + " (irreversible, and it needs versioning first): use a new bucket with --object-lock-days, or enable Object Lock on this one"
                                + " yourself (aws s3api put-bucket-versioning, then put-object-lock-configuration) and run again");
                    }
                    haveBucket.put("ObjectLockEnabled", true);
                }
            }
            plan.add(new Item("bucket", name, haveBucket, wantBucket, null, () -> s3.createBucket(r -> {
                r.bucket(b);
                if (!s.region.equals("us-east-1")) r.createBucketConfiguration(c -> c.locationConstraint(BucketLocationConstraint.fromValue(s.region)));
                if (s.objectLockDays != null) r.objectLockEnabledForBucket(true);
            })));

            // Block Public Access: all four.
            ObjectNode wantPab = obj().put("BlockPublicAcls", true).put("IgnorePublicAcls", true).put("BlockPublicPolicy", true).put("RestrictPublicBuckets", true);
            ObjectNode havePab = !exists ? null : absentOn(() -> {
                var c = s3.getPublicAccessBlock(r -> r.bucket(b)).publicAccessBlockConfiguration();
                return obj().put("BlockPublicAcls", Boolean.TRUE.equals(c.blockPublicAcls())).put("IgnorePublicAcls", Boolean.TRUE.equals(c.ignorePublicAcls()))
                        .put("BlockPublicPolicy", Boolean.TRUE.equals(c.blockPublicPolicy())).put("RestrictPublicBuckets", Boolean.TRUE.equals(c.restrictPublicBuckets()));
            }, "NoSuchPublicAccessBlockConfiguration");
            plan.add(new Item("public-access-block", name, havePab, wantPab, null, () -> s3.putPublicAccessBlock(r -> r.bucket(b)
                    .publicAccessBlockConfiguration(c -> c.blockPublicAcls(true).ignorePublicAcls(true).blockPublicPolicy(true).restrictPublicBuckets(true)))));

            // Object ownership: bucket owner enforced, i.e. ACLs off; access is decided by policies only.
            ObjectNode wantOwn = obj().put("ObjectOwnership", ObjectOwnership.BUCKET_OWNER_ENFORCED.toString());
            ObjectNode haveOwn = !exists ? null : absentOn(() -> {
                var rules = s3.getBucketOwnershipControls(r -> r.bucket(b)).ownershipControls().rules();
                return obj().put("ObjectOwnership", rules.isEmpty() ? "none" : rules.get(0).objectOwnershipAsString());
            }, "OwnershipControlsNotFoundError");
            plan.add(new Item("ownership-controls", name, haveOwn, wantOwn, null, () -> s3.putBucketOwnershipControls(r -> r.bucket(b)
                    .ownershipControls(c -> c.rules(OwnershipControlsRule.builder().objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED).build())))));

            // Default encryption: SSE-S3, or SSE-KMS with a bucket key (fewer KMS calls, lower cost).
            ObjectNode wantEnc = s.kmsKey == null ? obj().put("SSEAlgorithm", "AES256")
                    : obj().put("SSEAlgorithm", "aws:kms").put("KMSMasterKeyID", s.kmsKey).put("BucketKeyEnabled", true);
            ObjectNode haveEnc = !exists ? null : absentOn(() -> {
                List<ServerSideEncryptionRule> rules = s3.getBucketEncryption(r -> r.bucket(b)).serverSideEncryptionConfiguration().rules();
                if (rules.isEmpty() || rules.get(0).applyServerSideEncryptionByDefault() == null) return null;
                var rule = rules.get(0);
                var def = rule.applyServerSideEncryptionByDefault();
                String alg = def.sseAlgorithmAsString();
                if (!"AES256".equals(alg)) {
                    if (s.kmsKey == null) {
                        throw Failure.usage("the bucket " + b + " is encrypted by default with " + alg + (def.kmsMasterKeyID() == null ? "" : " (key " + def.kmsMasterKeyID() + ")")
                                + ": setup-aws never weakens that to SSE-S3; pass --kms-key with that key's ARN so the role(s) may use it");
                    }
                    String key = def.kmsMasterKeyID();
                    // S3 may store the key as an id or ARN; the same key either way counts as unchanged.
                    if (key != null && !key.startsWith("arn:") && s.kmsKey.endsWith("key/" + key)) key = s.kmsKey;
                    ObjectNode o = obj().put("SSEAlgorithm", alg).put("BucketKeyEnabled", Boolean.TRUE.equals(rule.bucketKeyEnabled()));
                    if (key != null) o.put("KMSMasterKeyID", key);
                    return o;
                }
                return obj().put("SSEAlgorithm", alg);
            }, "ServerSideEncryptionConfigurationNotFoundError");
            plan.add(new Item("default-encryption", name, haveEnc, wantEnc, null, () -> s3.putBucketEncryption(r -> r.bucket(b)
                    .serverSideEncryptionConfiguration(c -> c.rules(s.kmsKey == null
                            ? ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(d -> d.sseAlgorithm(ServerSideEncryption.AES256)).build()
                            : ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(d -> d.sseAlgorithm(ServerSideEncryption.AWS_KMS).kmsMasterKeyID(s.kmsKey))
                                    .bucketKeyEnabled(true).build())))));

            // Versioning, when asked (or needed by Object Lock). Never turned off by setup-aws.
            String currentVersioning = exists ? s3.getBucketVersioning(r -> r.bucket(b)).statusAsString() : null;
            boolean versioned = s.versioning || "Enabled".equals(currentVersioning);
            if (s.versioning) {
                ObjectNode have = !exists ? null : obj().put("Status", currentVersioning == null ? "Off" : currentVersioning);
                plan.add(new Item("versioning", name, have, obj().put("Status", "Enabled"), null,
                        () -> s3.putBucketVersioning(r -> r.bucket(b).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)))));
            } else if ("Enabled".equals(currentVersioning)) {
                warnings.add("versioning is on for " + b + " (not asked for: left on); noncurrent versions under " + s.prefix + "/ expire after " + s.noncurrentDays + " days");
            }

            // Object Lock default retention, GOVERNANCE mode: a deleted or overwritten backup stays recoverable for N days.
            if (s.objectLockDays != null) {
                ObjectNode want = obj().put("Mode", "GOVERNANCE").put("Days", s.objectLockDays);
                ObjectNode have = !exists ? null : absentOn(() -> {
                    var c = s3.getObjectLockConfiguration(r -> r.bucket(b)).objectLockConfiguration();
                    if (c.rule() == null || c.rule().defaultRetention() == null) return null;
                    var d = c.rule().defaultRetention();
                    ObjectNode o = obj().put("Mode", d.modeAsString());
                    if (d.days() != null && d.days() > 0) o.put("Days", d.days());
                    if (d.years() != null && d.years() > 0) o.put("Years", d.years());
                    return o;
                }, "ObjectLockConfigurationNotFoundError");
                plan.add(new Item("object-lock-retention", name, have, want, null, () -> s3.putObjectLockConfiguration(r -> r.bucket(b)
                        .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)
                                .rule(x -> x.defaultRetention(d -> d.mode(ObjectLockRetentionMode.GOVERNANCE).days(s.objectLockDays)))))));
            }

            // Lifecycle: our rules (by id, for PREFIX/) replace their earlier versions; other rules are kept.
            List<LifecycleRule> existingRules = !exists ? List.of() : absentOrEmpty(() -> s3.getBucketLifecycleConfiguration(r -> r.bucket(b)).rules(), "NoSuchLifecycleConfiguration");
            List<LifecycleRule> ours = lifecycleRules(s.prefix, versioned || s.objectLockDays != null, s.noncurrentDays);
            List<String> ourIds = ours.stream().map(LifecycleRule::id).toList();
            ArrayNode wantLc = Json.MAPPER.createArrayNode();
            ours.forEach(r -> wantLc.add(ruleJson(r)));
            ArrayNode haveLc = Json.MAPPER.createArrayNode();
            existingRules.stream().filter(r -> ourIds.contains(r.id())).forEach(r -> haveLc.add(ruleJson(r)));
            List<LifecycleRule> merged = new ArrayList<>(existingRules.stream().filter(r -> !ourIds.contains(r.id())).toList());
            merged.addAll(ours);
            int others = existingRules.size() - haveLc.size();
            plan.add(new Item("lifecycle", name + " (" + s.prefix + "/)", haveLc.isEmpty() ? null : haveLc, wantLc,
                    others > 0 ? others + " other rule(s) kept" : null,
                    () -> s3.putBucketLifecycleConfiguration(r -> r.bucket(b).lifecycleConfiguration(c -> c.rules(merged)))));

            // Bucket policy: deny anything not over TLS. Other statements are kept. On a plain-HTTP endpoint (a local
            // MinIO or emulator) that statement would refuse every request the endpoint can ever receive: not set there.
            var endpoint = storage.aws.endpoint();
            if (endpoint != null && "http".equals(endpoint.getScheme())) {
                warnings.add("the endpoint " + endpoint + " is plain HTTP: the TLS-only bucket policy is not set (it would refuse every request to it); against AWS it always is");
                return;
            }
            JsonNode havePolicy = !exists ? null : absentOn(() -> PolicyJson.parse(s3.getBucketPolicy(r -> r.bucket(b)).policy()), "NoSuchBucketPolicy");
            ObjectNode wantPolicy = Policies.bucketPolicy(havePolicy, t.bucketArn());
            int otherStatements = Policies.statementsOf(wantPolicy).size() - 1;
            plan.add(new Item("bucket-policy", name, havePolicy, wantPolicy, otherStatements > 0 ? otherStatements + " other statement(s) kept" : null,
                    () -> s3.putBucketPolicy(r -> r.bucket(b).policy(compact(wantPolicy)))));
        }

        /**
         * HeadBucket with ExpectedBucketOwner (our account): 200 ours, 404 free, 403 another account's or no permission,
         * 301 another region. setup-aws only ever changes buckets of the account it runs in; since S3-compatible
         * servers may ignore ExpectedBucketOwner, a 200 is also checked against this account's bucket list.
         */
        private boolean bucketExists(String b) {
            try {
                var head = s3.headBucket(r -> r.bucket(b).expectedBucketOwner(t.account));
                String region = head.bucketRegion();
                if (region != null && !region.isBlank() && !region.equals(t.s.region) && storage.aws.endpoint() == null) {
                    throw new Failure(Exit.CONFIG, "the bucket " + b + " exists in " + region + ", not " + t.s.region + ": run with --region " + region);
                }
                boolean ours;
                try {
                    ours = ownBucket(b);
                } catch (S3Exception listDenied) {
                    ours = true; // ExpectedBucketOwner already vouched for it (on AWS); the list is only a second check
                }
                if (!ours) {
                    throw new Failure(Exit.FAILED, "the bucket name " + b + " is already taken by another AWS account (S3 bucket names are global): choose another --bucket");
                }
                return true;
            } catch (NoSuchBucketException e) {
                return false;
            } catch (S3Exception e) {
                if (e.statusCode() == 404) return false;
                if (e.statusCode() == 301) {
                    String region = e.awsErrorDetails() == null ? null : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region").orElse(null);
                    throw new Failure(Exit.CONFIG, "the bucket " + b + " exists in another region" + (region == null ? "" : " (" + region + ")")
                            + ": run with --region " + (region == null ? "REGION" : region), e);
                }
                if (e.statusCode() == 403) {
                    boolean ours;
                    try {
                        ours = ownBucket(b);
                    } catch (S3Exception listDenied) {
                        throw new Failure(Exit.NO_PERMISSION, "access to the bucket " + b + " is denied, and listing your buckets too: either the name belongs to another"
                                + " AWS account (choose another --bucket) or your credentials lack S3 permissions", e);
                    }
                    if (ours) throw new Failure(Exit.NO_PERMISSION, "the bucket " + b + " is yours but your credentials may not read it: setup-aws needs S3 administration rights", e);
                    throw new Failure(Exit.FAILED, "the bucket name " + b + " is already taken by another AWS account (S3 bucket names are global): choose another --bucket", e);
                }
                throw e;
            }
        }

        /** Is the bucket one of this account's? (ListBuckets lists only the caller's own buckets.) */
        private boolean ownBucket(String b) {
            return s3.listBucketsPaginator(r -> r.prefix(b).maxBuckets(1000)).buckets().stream().anyMatch(x -> x.name().equals(b));
        }

        private boolean objectLockEnabled(String b) {
            return Boolean.TRUE.equals(absentOn(() -> {
                var c = s3.getObjectLockConfiguration(r -> r.bucket(b)).objectLockConfiguration();
                return c != null && c.objectLockEnabled() == ObjectLockEnabled.ENABLED ? Boolean.TRUE : Boolean.FALSE;
            }, "ObjectLockConfigurationNotFoundError"));
        }
    }

    /** Our lifecycle rules for PREFIX/: abort incomplete multipart uploads after a day; with versioning, expire old versions. */
    static List<LifecycleRule> lifecycleRules(String prefix, boolean versioned, int noncurrentDays) {
        List<LifecycleRule> rules = new ArrayList<>();
        rules.add(LifecycleRule.builder().id("pgdump-s3-abort-incomplete-uploads:" + prefix + "/").status(ExpirationStatus.ENABLED)
                .filter(f -> f.prefix(prefix + "/")).abortIncompleteMultipartUpload(a -> a.daysAfterInitiation(1)).build());
        if (versioned) {
            rules.add(LifecycleRule.builder().id("pgdump-s3-expire-noncurrent-versions:" + prefix + "/").status(ExpirationStatus.ENABLED)
                    .filter(f -> f.prefix(prefix + "/")).noncurrentVersionExpiration(n -> n.noncurrentDays(noncurrentDays))
                    .expiration(e -> e.expiredObjectDeleteMarker(true)).build());
        }
        return rules;
    }

    /** The parts of a lifecycle rule that we set, as JSON (for comparing, and for showing the plan). */
    static ObjectNode ruleJson(LifecycleRule r) {
        ObjectNode o = obj().put("ID", r.id()).put("Status", r.statusAsString());
        String prefix = r.filter() != null && r.filter().prefix() != null ? r.filter().prefix()
                : r.filter() != null && r.filter().and() != null ? r.filter().and().prefix() : legacyPrefix(r);
        o.put("FilterPrefix", prefix == null ? "" : prefix);
        if (r.abortIncompleteMultipartUpload() != null) o.put("AbortIncompleteMultipartUploadDays", r.abortIncompleteMultipartUpload().daysAfterInitiation());
        if (r.noncurrentVersionExpiration() != null) o.put("NoncurrentVersionExpirationDays", r.noncurrentVersionExpiration().noncurrentDays());
        if (r.expiration() != null) {
            if (Boolean.TRUE.equals(r.expiration().expiredObjectDeleteMarker())) o.put("ExpiredObjectDeleteMarker", true);
            if (r.expiration().days() != null) o.put("ExpirationDays", r.expiration().days());
        }
        return o;
    }

    /** A rule written before S3 had filters keeps its prefix at the top level (deprecated in the SDK, still returned). */
    @SuppressWarnings("deprecation")
    private static String legacyPrefix(LifecycleRule r) { return r.prefix(); }

    /** Reads the OIDC provider and the roles, and plans them. */
    final class IamPlanner {
        private final IamClient iam;
        private final Target t;
        private final List<String> warnings;

        IamPlanner(IamClient iam, Target t, List<String> warnings) {
            this.iam = iam;
            this.t = t;
            this.warnings = warnings;
        }

        void plan(List<Item> plan) {
            planOidcProvider(plan);
            for (RoleKind kind : t.s.kinds) planRole(plan, kind);
        }

        /** GitHub's OIDC provider, with audience sts.amazonaws.com. One per account, shared: created only if missing. */
        private void planOidcProvider(List<Item> plan) {
            String arn = t.oidcProviderArn();
            String found = iam.listOpenIDConnectProviders().openIDConnectProviderList().stream()
                    .map(p -> p.arn()).filter(a -> a.endsWith(":oidc-provider/" + OIDC_HOST)).findFirst().orElse(null);
            ObjectNode want = obj().put("Url", "https://" + OIDC_HOST);
            want.putArray("ClientIDList").add(OIDC_AUDIENCE);
            ObjectNode have = null;
            List<String> clientIds = List.of();
            if (found != null) {
                clientIds = iam.getOpenIDConnectProvider(r -> r.openIDConnectProviderArn(found)).clientIDList();
                have = obj().put("Url", "https://" + OIDC_HOST);
                ArrayNode ids = have.putArray("ClientIDList");
                // Other audiences (other tools' use of the provider) are left alone; we only need ours in the list.
                if (clientIds.contains(OIDC_AUDIENCE)) ids.add(OIDC_AUDIENCE);
            }
            boolean exists = found != null;
            plan.add(new Item("oidc-provider", exists ? found : arn, have, want, null, exists
                    ? () -> iam.addClientIDToOpenIDConnectProvider(r -> r.openIDConnectProviderArn(found).clientID(OIDC_AUDIENCE))
                    // No thumbprint: IAM trusts GitHub's certificate through its own root CA library.
                    : () -> iam.createOpenIDConnectProvider(r -> r.url("https://" + OIDC_HOST).clientIDList(OIDC_AUDIENCE)
                            .tags(Tag.builder().key(TOOL_TAG_KEY).value(TOOL_TAG_VALUE).build()))));
        }

        private void planRole(List<Item> plan, RoleKind kind) {
            Settings s = t.s;
            String name = s.roleName(kind);
            Role role = null;
            try {
                role = iam.getRole(r -> r.roleName(name)).role();
            } catch (NoSuchEntityException absent) {
                // planned as created below
            }
            ObjectNode trust = Policies.trustPolicy(t.oidcProviderArn(), s.subject);
            ObjectNode permissions = Policies.permissionPolicy(kind, t.partition, s.bucket, s.prefix, s.kmsKey, s.region);
            ObjectNode wantRole = obj().put("MaxSessionDuration", s.maxSessionSeconds);
            wantRole.putObject("Tags").put(TOOL_TAG_KEY, TOOL_TAG_VALUE);
            String description = "pgdump-s3 " + kind.purpose + ": s3://" + s.bucket + "/" + s.prefix + "/ (managed by setup-aws)";

            if (role == null) {
                plan.add(new Item("iam-role", name, null, wantRole, kind.purpose, () -> iam.createRole(r -> r.roleName(name)
                        .assumeRolePolicyDocument(compact(trust)).description(description).maxSessionDuration(s.maxSessionSeconds)
                        .tags(Tag.builder().key(TOOL_TAG_KEY).value(TOOL_TAG_VALUE).build()))));
                plan.add(new Item("trust-policy", name, null, trust, null, () -> { })); // set by CreateRole
                plan.add(new Item("role-policy", name + "/" + POLICY_NAME, null, permissions, null,
                        () -> iam.putRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME).policyDocument(compact(permissions)))));
                return;
            }
            // An existing role is converged only if setup-aws created it: never rewrite someone else's role.
            boolean ours = role.tags().stream().anyMatch(x -> TOOL_TAG_KEY.equals(x.key()) && TOOL_TAG_VALUE.equals(x.value()))
                    || iam.listRoleTags(r -> r.roleName(name)).tags().stream().anyMatch(x -> TOOL_TAG_KEY.equals(x.key()) && TOOL_TAG_VALUE.equals(x.value()));
            if (!ours) {
                throw new Failure(Exit.FAILED, "the IAM role " + name + " exists and was not created by setup-aws (it has no tag " + TOOL_TAG_KEY + "=" + TOOL_TAG_VALUE
                        + "): choose another --role-name, or tag that role to let setup-aws take it over");
            }
            ObjectNode haveRole = obj().put("MaxSessionDuration", role.maxSessionDuration() == null ? 3600 : role.maxSessionDuration());
            haveRole.putObject("Tags").put(TOOL_TAG_KEY, TOOL_TAG_VALUE);
            plan.add(new Item("iam-role", name, haveRole, wantRole, kind.purpose,
                    () -> iam.updateRole(r -> r.roleName(name).maxSessionDuration(s.maxSessionSeconds))));
            plan.add(new Item("trust-policy", name, PolicyJson.parse(role.assumeRolePolicyDocument()), trust, null,
                    () -> iam.updateAssumeRolePolicy(r -> r.roleName(name).policyDocument(compact(trust)))));
            JsonNode havePolicy = null;
            try {
                havePolicy = PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME)).policyDocument());
            } catch (NoSuchEntityException absent) {
                // planned as created
            }
            plan.add(new Item("role-policy", name + "/" + POLICY_NAME, havePolicy, permissions, null,
                    () -> iam.putRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME).policyDocument(compact(permissions)))));
            // Anything else on the role widens it: not ours to remove, but the operator must know.
            List<String> otherInline = iam.listRolePolicies(r -> r.roleName(name)).policyNames().stream().filter(p -> !p.equals(POLICY_NAME)).toList();
            List<String> attached = iam.listAttachedRolePolicies(r -> r.roleName(name)).attachedPolicies().stream().map(p -> p.policyArn()).toList();
            if (!otherInline.isEmpty() || !attached.isEmpty()) {
                warnings.add("role " + name + " has other policies that widen it beyond least privilege (left in place): "
                        + String.join(", ", otherInline) + (otherInline.isEmpty() || attached.isEmpty() ? "" : ", ") + String.join(", ", attached));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // The report: each item, then exactly what to set in GitHub.
    // ---------------------------------------------------------------------------------------------------

    private void report(PrintWriter human, Target t, List<Item> plan, List<String> warnings, Failure failure) {
        Settings s = t.s;
        int width = plan.stream().mapToInt(i -> i.resource.length()).max().orElse(10);
        for (Item item : plan) {
            String verb = dryRun ? item.action.planned
                    : "done".equals(item.status) ? item.action.done
                    : "failed".equals(item.status) ? "FAILED to " + item.action.verb : "not done (" + item.action.verb + ")";
            human.printf("  %-14s %-" + width + "s  %s%s%n", verb, item.resource, item.name, item.note == null ? "" : "  (" + item.note + ")");
            if (item.action == Action.UPDATE) {
                human.print(indent(PolicyJson.diff(item.current, item.desired), "      "));
            } else if (item.action == Action.CREATE && dryRun) {
                human.print(indent(Json.write(item.desired) + "\n", "      "));
            }
        }
        long created = plan.stream().filter(i -> i.action == Action.CREATE).count();
        long updated = plan.stream().filter(i -> i.action == Action.UPDATE).count();
        long unchanged = plan.stream().filter(i -> i.action == Action.UNCHANGED).count();
        if (dryRun) human.printf("Plan (dry run, nothing changed): %d to create, %d to update, %d unchanged.%n", created, updated, unchanged);
        else human.printf("%s: %d created, %d updated, %d unchanged%s.%n", failure == null ? "Done" : "Stopped",
                count(plan, Action.CREATE), count(plan, Action.UPDATE), unchanged,
                failure == null ? "" : ", " + plan.stream().filter(i -> !"done".equals(i.status)).count() + " not done");
        for (String w : warnings) human.println("warning: " + w);

        Map<String, String> variables = githubVariables(t);
        if (failure == null) {
            human.println();
            String where = s.environment == null ? "repository " + s.githubRepo : "environment '" + s.environment + "' of " + s.githubRepo;
            human.printf("%s in GitHub (%s → Settings → Secrets and variables → Actions%s):%n",
                    dryRun ? "After a real run, set these" : "Set these", s.githubRepo, s.environment == null ? "" : ", environment " + s.environment);
            human.println("  Variables:");
            variables.forEach((k, v) -> human.printf("    %-22s %s%n", k, v));
            human.println("  Secret:");
            // A pooler (Neon's -pooler host, PgBouncer in transaction mode) hands pg_dump's session settings to other
            // clients and can hide rows from the dump: the secret must be the direct connection string.
            human.printf("    %-22s %s%n", "DATABASE_URL", "your database's direct (unpooled) connection string, with ?sslmode=require");
            human.printf("    %-22s %s%n", "", "(Neon: the one without -pooler in its host name; through a pooler a dump can miss rows)");
            human.println("Or with the GitHub CLI, for the " + where + ":");
            String env = s.environment == null ? "" : " --env " + shellQuote(s.environment);
            variables.forEach((k, v) -> human.printf("  gh variable set %s --repo %s%s --body %s%n", k, s.githubRepo, env, shellQuote(v)));
            human.printf("  gh secret set DATABASE_URL --repo %s%s    # prompts for the value, so it stays out of your shell history%n", s.githubRepo, env);
            human.println("The workflow needs `permissions: id-token: write` and aws-actions/configure-aws-credentials with role-to-assume: ${{ vars."
                    + (s.kinds.size() == 1 ? RoleKind.ALL.variable : "AWS_..._ROLE_ARN") + " }} (role-duration-seconds up to " + s.maxSessionSeconds + ").");
        }
        human.flush();

        if (output.json) {
            ObjectNode o = obj();
            o.put("ok", failure == null);
            o.put("dryRun", dryRun);
            o.put("account", t.account);
            o.put("partition", t.partition);
            o.put("region", s.region);
            o.put("bucket", s.bucket);
            o.put("prefix", s.prefix);
            o.put("subject", s.subject);
            ArrayNode items = o.putArray("items");
            plan.forEach(i -> items.add(i.toJson(dryRun)));
            ObjectNode summary = o.putObject("summary");
            summary.put("create", created).put("update", updated).put("unchanged", unchanged);
            ArrayNode roles = o.putArray("roles");
            for (RoleKind k : s.kinds) {
                roles.addObject().put("kind", k.name().toLowerCase(Locale.ROOT)).put("name", s.roleName(k)).put("arn", t.roleArn(k)).put("variable", k.variable);
            }
            ObjectNode gh = o.putObject("github");
            gh.put("repository", s.githubRepo);
            if (s.environment == null) gh.putNull("environment"); else gh.put("environment", s.environment);
            ObjectNode vars = gh.putObject("variables");
            variables.forEach(vars::put);
            gh.putArray("secrets").add("DATABASE_URL");
            ArrayNode w = o.putArray("warnings");
            warnings.forEach(w::add);
            if (failure != null) o.putObject("error").put("exitCode", failure.exitCode).put("message", failure.getMessage());
            PrintWriter out = spec.commandLine().getOut();
            out.println(Json.write(o));
            out.flush();
        }
        StepSummary.append("### setup-aws" + (dryRun ? " (dry run)" : "") + "\n\n| resource | name | result |\n|---|---|---|\n"
                + plan.stream().map(i -> "| " + i.resource + " | " + i.name + " | " + (dryRun ? i.action.planned : i.status == null ? "" : "done".equals(i.status) ? i.action.done : i.status) + " |")
                        .reduce("", (a, b) -> a + b + "\n"));
    }

    /** The repository (or environment) variables the workflow reads. */
    static Map<String, String> githubVariables(Target t) {
        Map<String, String> v = new LinkedHashMap<>();
        for (RoleKind k : t.s.kinds) v.put(k.variable, t.roleArn(k));
        v.put("S3_BUCKET", t.s.bucket);
        v.put("S3_PREFIX", t.s.prefix);
        v.put("AWS_REGION", t.s.region);
        return v;
    }

    // ---------------------------------------------------------------------------------------------------
    // Small helpers.
    // ---------------------------------------------------------------------------------------------------

    /** Dry run, enforced: every AWS call that is not a read (Get*, List*, Head*) is refused before it is sent. */
    static final class ReadOnlyGuard implements ExecutionInterceptor {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            String op = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            if (op == null || !(op.startsWith("Get") || op.startsWith("List") || op.startsWith("Head"))) {
                throw new IllegalStateException("dry run: refusing the mutating AWS call " + op + " (a bug in setup-aws: please report it)");
            }
        }
    }

    interface Read<T> { T get(); }

    /** The result of a read, or null when AWS answers that the configuration does not exist (the given error code). */
    static <T> T absentOn(Read<T> read, String absentCode) {
        try {
            return read.get();
        } catch (AwsServiceException e) {
            if (e.awsErrorDetails() != null && absentCode.equals(e.awsErrorDetails().errorCode())) return null;
            throw e;
        }
    }

    static <T> List<T> absentOrEmpty(Read<List<T>> read, String absentCode) {
        List<T> r = absentOn(read, absentCode);
        return r == null ? List.of() : r;
    }

    static ObjectNode obj() { return Json.MAPPER.createObjectNode(); }

    private static long count(List<Item> plan, Action action) {
        return plan.stream().filter(i -> i.action == action && "done".equals(i.status)).count();
    }

    /** Policy text sent to AWS: compact (IAM counts policy size against a quota). */
    static String compact(JsonNode doc) {
        try {
            return Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String indent(String text, String pad) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n", -1)) if (!line.isEmpty()) sb.append(pad).append(line).append('\n');
        return sb.toString();
    }

    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./:@=+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
