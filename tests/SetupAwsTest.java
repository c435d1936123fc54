import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * setup-aws: the trust policy each option asks for, input validation, and convergence against the emulator (the
 * documents themselves: {@link IamPoliciesTest}, {@link PolicyJsonTest}): first run creates, second run changes nothing, a changed option updates only what it
 * touches, --dry-run changes nothing, and what is not ours is kept or refused.
 */
class SetupAwsTest {
    static final String ACCOUNT = "123456789012";
    static final String OIDC_ARN = "arn:aws:iam::" + ACCOUNT + ":oidc-provider/token.actions.githubusercontent.com";

    // ------------------------------------------------------------------ policy documents (pure)

    static SetupSettings settings(String... args) {
        SetupAws cmd = new SetupAws();
        List<String> all = new ArrayList<>(List.of("--bucket", "acme-backups", "--region", "eu-central-1", "--github-repo", "octo-org/app"));
        all.addAll(List.of(args));
        new CommandLine(cmd).parseArgs(all.toArray(String[]::new));
        return cmd.settings();
    }

    static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    static JsonNode expectedTrust(String sub) {
        return json("""
                {"Version": "2012-10-17", "Statement": [{"Sid": "GitHubActionsOidc", "Effect": "Allow",
                  "Principal": {"Federated": "%s"},
                  "Action": "sts:AssumeRoleWithWebIdentity",
                  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                                 "token.actions.githubusercontent.com:sub": "%s"}}}]}
                """.formatted(OIDC_ARN, sub));
    }

    @Test
    void trustPolicyPinsAudienceAndExactSubject() {
        assertEquals(expectedTrust("repo:octo-org/app:ref:refs/heads/main"),
                IamPolicies.trustPolicy(OIDC_ARN, settings().subject()), "default: branch main");
        assertEquals(expectedTrust("repo:octo-org/app:ref:refs/heads/release/2.x"),
                IamPolicies.trustPolicy(OIDC_ARN, settings("--branch", "release/2.x").subject()));
        assertEquals(expectedTrust("repo:octo-org/app:ref:refs/heads/prod"),
                IamPolicies.trustPolicy(OIDC_ARN, settings("--branch", "refs/heads/prod").subject()), "a full ref is accepted");
        assertEquals(expectedTrust("repo:octo-org/app:environment:production"),
                IamPolicies.trustPolicy(OIDC_ARN, settings("--environment", "production").subject()));
        assertEquals(expectedTrust("repo:octo-org@123456/app@789012:ref:refs/heads/main"),
                IamPolicies.trustPolicy(OIDC_ARN, settings("--subject-prefix", "repo:octo-org@123456/app@789012").subject()));
        assertEquals(expectedTrust("repo:octo-org@123456/app@789012:environment:backups"),
                IamPolicies.trustPolicy(OIDC_ARN, settings("--subject-prefix", "octo-org@123456/app@789012", "--environment", "backups").subject()));
        // Never a pattern: the documents use StringEquals only, and no value has a wildcard.
        String text = IamPolicies.trustPolicy(OIDC_ARN, settings().subject()).toString();
        assertFalse(text.contains("StringLike") || text.contains("*"), text);
    }

    /** The evaluator is IAM's, not a yes-man: conditions, wildcards and explicit denials as documented. */
    @Test
    void iamSimulatorEvaluatesAsDocumented() {
        JsonNode policy = json("""
                {"Version": "2012-10-17", "Statement": [
                  {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/p/*"},
                  {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/p/*", "Condition": {"Null": {"s3:if-none-match": "false"}}},
                  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b", "Condition": {"StringLike": {"s3:prefix": ["p/*", "q/?"]}}},
                  {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/secret*"}]}""");
        java.util.function.BiFunction<String, Map<String, String>, IamSimulator.Decision> ask = (actionAndResource, context) -> {
            String[] ar = actionAndResource.split(" ");
            return IamSimulator.evaluate(List.of(policy), new IamSimulator.Request(ar[0], ar[1], context, actionAndResource));
        };
        assertEquals(IamSimulator.Decision.ALLOWED, ask.apply("s3:GetObject arn:aws:s3:::b/p/a/b", Map.of()), "* spans slashes");
        assertEquals(IamSimulator.Decision.ALLOWED, ask.apply("S3:getobject arn:aws:s3:::b/p/x", Map.of()), "actions are case-insensitive");
        assertEquals(IamSimulator.Decision.IMPLICIT_DENY, ask.apply("s3:GetObject arn:aws:s3:::b/P/x", Map.of()), "resources are not");
        assertEquals(IamSimulator.Decision.EXPLICIT_DENY, ask.apply("s3:GetObject arn:aws:s3:::b/p/secret.txt", Map.of()), "a Deny wins");
        assertEquals(IamSimulator.Decision.ALLOWED, ask.apply("s3:PutObject arn:aws:s3:::b/p/x", Map.of("s3:if-none-match", "*")));
        assertEquals(IamSimulator.Decision.IMPLICIT_DENY, ask.apply("s3:PutObject arn:aws:s3:::b/p/x", Map.of()), "Null false: the key must be there");
        assertEquals(IamSimulator.Decision.ALLOWED, ask.apply("s3:ListBucket arn:aws:s3:::b", Map.of("s3:prefix", "q/1")));
        assertEquals(IamSimulator.Decision.IMPLICIT_DENY, ask.apply("s3:ListBucket arn:aws:s3:::b", Map.of("s3:prefix", "q/12")), "? is one character");
        assertEquals(IamSimulator.Decision.IMPLICIT_DENY, ask.apply("s3:ListBucket arn:aws:s3:::b", Map.of()), "StringLike on a missing key");
        JsonNode unknown = json("""
                {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]}""");
        assertThrows(IllegalArgumentException.class, () -> IamSimulator.evaluate(List.of(unknown), new IamSimulator.Request("s3:ListBucket", "arn:aws:s3:::b",
                Map.of("s3:max-keys", "5"), "an operator it does not know")));
    }

    @Test
    void settingsAndDefaults() {
        SetupSettings s = settings();
        assertEquals("pgdump-s3-acme-backups", s.roleName(RoleKind.ALL));
        assertEquals(List.of(RoleKind.ALL), s.kinds());
        assertEquals(6 * 3600, s.maxSessionSeconds());
        SetupSettings split = settings("--split-roles", "--role-name", "nightly", "--object-lock-days", "7");
        assertEquals(List.of("nightly-writer", "nightly-pruner", "nightly-restorer"), split.kinds().stream().map(split::roleName).toList());
        assertTrue(split.versioning(), "Object Lock needs versioning");
        // A long bucket name still leaves room for the longest suffix, and stays unique per bucket.
        String longBucket = "a".repeat(60) + "bcd";
        String base = SetupAws.defaultRoleBase(longBucket);
        assertTrue((base + "-restorer").length() <= 64, base);
        assertFalse(base.equals(SetupAws.defaultRoleBase("a".repeat(60) + "bce")));
    }

    @Test
    void badInputIsUsageErrorBeforeAnyAwsCall() {
        String[][] cases = {
                {"--branch", "main", "--environment", "prod"},
                {"--branch", "*"},
                {"--branch", "feature/*"},
                {"--environment", "prod*"},
                {"--subject-prefix", "repo:octo-org/app"},
                {"--subject-prefix", "repo:other@1/app@2"},
                {"--kms-key", "alias/backups"},
                {"--kms-key", "arn:aws:kms:us-west-2:" + ACCOUNT + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"},
                {"--role-name", "x".repeat(60), "--split-roles"},
                {"--object-lock-days", "0"},
                {"--max-session-hours", "13"},
                {"--github-repo", "not a repo"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("--bucket", "acme-backups", "--region", "eu-central-1", "--github-repo", "octo-org/app",
                    "--endpoint-url", "http://127.0.0.1:1"));
            args.addAll(List.of(c));
            Scripts.Run run = Scripts.run(new SetupAws(), args.toArray(String[]::new));
            assertEquals(Exit.USAGE, run.exit(), String.join(" ", c) + "\n" + run);
            assertEquals("", run.out(), "nothing on stdout: " + run);
            assertTrue(run.err().strip().lines().count() <= 2, "short error: " + run.err());
        }
    }

    // ------------------------------------------------------------------ against the emulator

    static String newBucket() { return "setup-" + UUID.randomUUID().toString().substring(0, 8); }

    static Scripts.Run setup(String... args) {
        S3Server s3 = S3Server.get();
        List<String> all = new ArrayList<>(List.of("--endpoint-url", s3.endpoint));
        if (!List.of(args).contains("--region")) all.addAll(List.of("--region", S3Server.REGION));
        all.addAll(List.of(args));
        return Scripts.run(new SetupAws(), all.toArray(String[]::new));
    }

    /** "resource action" of each item of a --json run, in plan order. */
    static List<String> actions(JsonNode report) {
        List<String> out = new ArrayList<>();
        report.get("items").forEach(i -> out.add(i.get("resource").asText() + " " + i.get("action").asText()));
        return out;
    }

    static IamClient iam() { return AwsClients.iam(S3Server.get().options()); }

    static JsonNode trustOf(IamClient iam, String role) {
        return PolicyJson.parse(iam.getRole(r -> r.roleName(role)).role().assumeRolePolicyDocument());
    }

    @Test
    void firstRunCreatesEverythingSecondRunChangesNothing() {
        String bucket = newBucket();
        String role = "pgdump-s3-" + bucket;
        Scripts.Run first = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--json");
        assertEquals(0, first.exit(), first.toString());
        JsonNode report = json(first.out());
        assertTrue(report.get("ok").asBoolean());
        List<String> expectedCreates = List.of("bucket create", "public-access-block create", "ownership-controls create", "default-encryption create",
                "lifecycle create");
        assertEquals(expectedCreates, actions(report).subList(0, 5), first.out());
        assertTrue(actions(report).containsAll(List.of("iam-role create", "trust-policy create", "role-policy create")), first.out());
        report.get("items").forEach(i -> assertEquals("done", i.get("status").asText(), i.toString()));
        assertTrue(first.err().contains("created        bucket"), "human report on stderr with --json:\n" + first.err());

        // The emulator holds what was asked for.
        try (S3Client s3 = S3Server.get().s3(); IamClient iam = iam()) {
            var pab = s3.getPublicAccessBlock(r -> r.bucket(bucket)).publicAccessBlockConfiguration();
            assertTrue(pab.blockPublicAcls() && pab.ignorePublicAcls() && pab.blockPublicPolicy() && pab.restrictPublicBuckets(), pab.toString());
            assertEquals("BucketOwnerEnforced", s3.getBucketOwnershipControls(r -> r.bucket(bucket)).ownershipControls().rules().get(0).objectOwnershipAsString());
            assertEquals(ServerSideEncryption.AES256, s3.getBucketEncryption(r -> r.bucket(bucket)).serverSideEncryptionConfiguration().rules().get(0)
                    .applyServerSideEncryptionByDefault().sseAlgorithm());
            List<LifecycleRule> rules = s3.getBucketLifecycleConfiguration(r -> r.bucket(bucket)).rules();
            assertEquals(1, rules.size(), rules.toString());
            assertEquals(ExpirationStatus.ENABLED, rules.get(0).status());
            assertEquals("pg-backups/", rules.get(0).filter().prefix());
            assertEquals(1, rules.get(0).abortIncompleteMultipartUpload().daysAfterInitiation());
            assertTrue(iam.listOpenIDConnectProviders().openIDConnectProviderList().stream().anyMatch(p -> p.arn().equals(OIDC_ARN)));
            assertEquals(List.of("sts.amazonaws.com"), iam.getOpenIDConnectProvider(r -> r.openIDConnectProviderArn(OIDC_ARN)).clientIDList());
            assertEquals(expectedTrust("repo:octo-org/app:ref:refs/heads/main"), trustOf(iam, role));
            assertEquals(permissionsFor(RoleKind.ALL, bucket), PolicyJson.parse(
                    iam.getRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME)).policyDocument()));
            assertEquals(21600, iam.getRole(r -> r.roleName(role)).role().maxSessionDuration());
        }
        // What to set in GitHub, as fields.
        JsonNode vars = report.get("github").get("variables");
        assertEquals("arn:aws:iam::" + ACCOUNT + ":role/" + role, vars.get("AWS_ROLE_ARN").asText());
        assertEquals(bucket, vars.get("S3_BUCKET").asText());
        assertEquals("pg-backups", vars.get("S3_PREFIX").asText());
        assertEquals("us-east-1", vars.get("AWS_REGION").asText());
        assertEquals("[\"DATABASE_URL\"]", report.get("github").get("secrets").toString());

        // Second run: every item unchanged, said item by item; and the paste-ready GitHub block.
        Scripts.Run second = setup("--bucket", bucket, "--github-repo", "octo-org/app");
        assertEquals(0, second.exit(), second.toString());
        List<String> itemLines = second.out().lines().filter(l -> l.startsWith("  ") && l.contains(bucket) && !l.contains("gh ")).toList();
        assertTrue(itemLines.size() >= 8, second.out());
        itemLines.stream().filter(l -> !l.contains("arn:aws:iam") && !l.contains("S3_BUCKET")).forEach(l -> assertTrue(l.strip().startsWith("unchanged"), l));
        assertTrue(second.out().contains("Done: 0 created, 0 updated, "), second.out());
        assertTrue(second.out().contains("gh variable set AWS_ROLE_ARN --repo octo-org/app --body arn:aws:iam::" + ACCOUNT + ":role/" + role), second.out());
        assertTrue(second.out().contains("gh secret set DATABASE_URL --repo octo-org/app"), second.out());
        String secretLines = second.out().substring(second.out().indexOf("  Secret:"), second.out().indexOf("Or with the GitHub CLI"));
        assertTrue(secretLines.contains("DATABASE_URL") && secretLines.contains("direct (unpooled) connection string")
                && secretLines.contains("without -pooler"), "the secret is the direct connection string, and why:\n" + secretLines);
        assertTrue(second.out().contains("branch main by default"), "says which branch it trusts by default:\n" + second.out());
    }

    static JsonNode permissionsFor(RoleKind kind, String bucket) {
        return IamPolicies.permissionPolicy(kind, "aws", bucket, "pg-backups", null, "us-east-1");
    }

    @Test
    void changedBranchUpdatesOnlyTheTrustPolicy() {
        String bucket = newBucket();
        assertEquals(0, setup("--bucket", bucket, "--github-repo", "octo-org/app").exit());
        Scripts.Run run = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--branch", "release", "--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = json(run.out());
        for (String a : actions(report)) assertTrue(a.equals("trust-policy update") || a.endsWith(" unchanged"), a + "\n" + run.out());
        assertTrue(actions(report).contains("trust-policy update"));
        JsonNode trustItem = null;
        for (JsonNode i : report.get("items")) if (i.get("resource").asText().equals("trust-policy")) trustItem = i;
        String diff = trustItem.get("diff").asText();
        assertTrue(diff.contains("-") && diff.contains("refs/heads/main") && diff.contains("+") && diff.contains("refs/heads/release"), diff);
        assertTrue(run.err().contains("refs/heads/release"), "the diff is shown to people too:\n" + run.err());
        try (IamClient iam = iam()) {
            assertEquals(expectedTrust("repo:octo-org/app:ref:refs/heads/release"), trustOf(iam, "pgdump-s3-" + bucket));
        }
    }

    @Test
    void dryRunChangesNothing() {
        S3Server server = S3Server.get();
        String bucket = newBucket();
        String role = "pgdump-s3-" + bucket;
        try (S3Client s3 = server.s3(); IamClient iam = iam()) {
            // Nothing exists yet: the plan is all creates, with the documents, and nothing appears.
            List<String> providersBefore = iam.listOpenIDConnectProviders().openIDConnectProviderList().stream().map(p -> p.arn()).sorted().toList();
            Scripts.Run plan = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--split-roles", "--versioning", "--dry-run", "--json");
            assertEquals(0, plan.exit(), plan.toString());
            JsonNode report = json(plan.out());
            assertTrue(report.get("dryRun").asBoolean());
            report.get("items").forEach(i -> {
                assertEquals("planned", i.get("status").asText(), i.toString());
                if (!i.get("resource").asText().equals("oidc-provider")) assertEquals("create", i.get("action").asText(), i.toString());
            });
            JsonNode writerPolicy = null;
            for (JsonNode i : report.get("items")) if (i.get("name").asText().equals(role + "-writer/" + IamPlanner.POLICY_NAME)) writerPolicy = i.get("desired");
            assertEquals(IamPolicies.permissionPolicy(RoleKind.WRITER, "aws", bucket, "pg-backups", null, "us-east-1"), writerPolicy);
            assertTrue(plan.err().contains("would create") && plan.err().contains("sts:AssumeRoleWithWebIdentity"), "the plan shows the documents:\n" + plan.err());
            assertThrows(NoSuchBucketException.class, () -> s3.headBucket(r -> r.bucket(bucket)));
            for (String suffix : List.of("-writer", "-pruner", "-restorer")) {
                assertThrows(NoSuchEntityException.class, () -> iam.getRole(r -> r.roleName(role + suffix)));
            }
            assertEquals(providersBefore, iam.listOpenIDConnectProviders().openIDConnectProviderList().stream().map(p -> p.arn()).sorted().toList());

            // Converged, then drifted by hand: the dry run shows the updates and leaves the drift alone.
            assertEquals(0, setup("--bucket", bucket, "--github-repo", "octo-org/app").exit());
            s3.deletePublicAccessBlock(r -> r.bucket(bucket));
            String widened = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}";
            iam.putRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME).policyDocument(widened));
            Scripts.Run drift = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--dry-run", "--json");
            assertEquals(0, drift.exit(), drift.toString());
            List<String> acts = actions(json(drift.out()));
            assertTrue(acts.contains("public-access-block create") && acts.contains("role-policy update"), acts.toString());
            assertEquals(2, acts.stream().filter(a -> !a.endsWith(" unchanged")).count(), acts.toString());
            assertTrue(drift.err().contains("- ") && drift.err().contains("\"s3:*\""), "the diff shows the widening:\n" + drift.err());
            S3Exception noPab = assertThrows(S3Exception.class, () -> s3.getPublicAccessBlock(r -> r.bucket(bucket)));
            assertEquals("NoSuchPublicAccessBlockConfiguration", noPab.awsErrorDetails().errorCode());
            assertEquals(json(widened), PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME)).policyDocument()));

            // A real run repairs exactly that.
            Scripts.Run fix = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--json");
            assertEquals(acts, actions(json(fix.out())));
            assertEquals(permissionsFor(RoleKind.ALL, bucket),
                    PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME)).policyDocument()));
            assertTrue(s3.getPublicAccessBlock(r -> r.bucket(bucket)).publicAccessBlockConfiguration().blockPublicPolicy());
        }
    }

    @Test
    void splitRolesVersioningObjectLockAndKmsInAnotherRegion() {
        String bucket = newBucket();
        String region = "eu-central-1";
        String key = "arn:aws:kms:" + region + ":" + ACCOUNT + ":key/1234abcd-12ab-34cd-56ef-1234567890ab";
        String[] args = {"--bucket", bucket, "--region", region, "--prefix", "nightly/pg", "--github-repo", "octo-org/app", "--environment", "production",
                "--split-roles", "--versioning", "--object-lock-days", "7", "--kms-key", key, "--json"};
        Scripts.Run run = setup(args);
        assertEquals(0, run.exit(), run.toString());
        JsonNode report = json(run.out());
        for (String a : actions(report)) assertTrue(a.endsWith(" create") || a.equals("oidc-provider unchanged"), a + "\n" + run.out());
        AwsOptions opts = S3Server.get().options();
        opts.region = region;
        try (S3Client s3 = AwsClients.s3(opts); IamClient iam = iam()) {
            assertEquals(region, s3.getBucketLocation(r -> r.bucket(bucket)).locationConstraintAsString(), "LocationConstraint outside us-east-1");
            assertEquals("Enabled", s3.getBucketVersioning(r -> r.bucket(bucket)).statusAsString());
            var lock = s3.getObjectLockConfiguration(r -> r.bucket(bucket)).objectLockConfiguration();
            assertEquals("Enabled", lock.objectLockEnabledAsString());
            assertEquals("GOVERNANCE", lock.rule().defaultRetention().modeAsString());
            assertEquals(7, lock.rule().defaultRetention().days());
            var enc = s3.getBucketEncryption(r -> r.bucket(bucket)).serverSideEncryptionConfiguration().rules().get(0);
            assertEquals("aws:kms", enc.applyServerSideEncryptionByDefault().sseAlgorithmAsString());
            assertEquals(key, enc.applyServerSideEncryptionByDefault().kmsMasterKeyID());
            assertTrue(enc.bucketKeyEnabled());
            List<LifecycleRule> rules = s3.getBucketLifecycleConfiguration(r -> r.bucket(bucket)).rules();
            assertEquals(2, rules.size(), rules.toString());
            LifecycleRule noncurrent = rules.stream().filter(r -> r.noncurrentVersionExpiration() != null).findFirst().orElseThrow();
            assertEquals(30, noncurrent.noncurrentVersionExpiration().noncurrentDays());
            assertEquals("nightly/pg/", noncurrent.filter().prefix());
            for (RoleKind k : List.of(RoleKind.WRITER, RoleKind.PRUNER, RoleKind.RESTORER)) {
                String role = "pgdump-s3-" + bucket + k.suffix;
                assertEquals(expectedTrust("repo:octo-org/app:environment:production"), trustOf(iam, role));
                assertEquals(IamPolicies.permissionPolicy(k, "aws", bucket, "nightly/pg", key, region),
                        PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME)).policyDocument()));
                assertEquals("arn:aws:iam::" + ACCOUNT + ":role/" + role, report.get("github").get("variables").get(k.variable).asText());
            }
        }
        assertEquals("production", report.get("github").get("environment").asText());
        assertFalse(report.get("github").get("variables").has("AWS_ROLE_ARN"));
        Scripts.Run again = setup(args);
        assertEquals(0, again.exit(), again.toString());
        for (String a : actions(json(again.out()))) assertTrue(a.endsWith(" unchanged"), a + "\n" + again.err());
    }

    @Test
    void existingBucketKeepsWhatIsNotOurs() {
        S3Server server = S3Server.get();
        String bucket = server.createBucket("setup-existing");
        LifecycleRule theirs = LifecycleRule.builder().id("their-logs-expiry").status(ExpirationStatus.ENABLED)
                .filter(f -> f.prefix("logs/")).expiration(e -> e.days(90)).build();
        try (S3Client s3 = server.s3()) {
            s3.putBucketLifecycleConfiguration(r -> r.bucket(bucket).lifecycleConfiguration(c -> c.rules(theirs)));
            Scripts.Run run = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--json");
            assertEquals(0, run.exit(), run.toString());
            assertEquals("bucket unchanged", actions(json(run.out())).get(0), "an existing bucket is adopted, not recreated");
            List<String> ids = s3.getBucketLifecycleConfiguration(r -> r.bucket(bucket)).rules().stream().map(LifecycleRule::id).sorted().toList();
            assertEquals(List.of("pgdump-s3-abort-incomplete-uploads:pg-backups/", "their-logs-expiry"), ids);
            assertTrue(run.err().contains("1 other rule(s) kept"), run.err());

            // Object Lock cannot be turned on by setup-aws for a bucket created without it: one clear line, nothing changed.
            s3.deleteBucketLifecycle(r -> r.bucket(bucket));
            Scripts.Run lock = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--object-lock-days", "7");
            assertEquals(Exit.CONFIG, lock.exit(), lock.toString());
            assertTrue(lock.err().contains("exists without Object Lock"), lock.err());
            assertEquals(1, lock.err().strip().lines().count(), lock.err());
            assertThrows(S3Exception.class, () -> s3.getBucketLifecycleConfiguration(r -> r.bucket(bucket)), "planning failed before any change");

            // Default encryption is never weakened: a KMS bucket needs --kms-key.
            String key = "arn:aws:kms:us-east-1:" + ACCOUNT + ":key/abcd";
            s3.putBucketEncryption(r -> r.bucket(bucket).serverSideEncryptionConfiguration(c -> c.rules(x -> x.applyServerSideEncryptionByDefault(
                    d -> d.sseAlgorithm(ServerSideEncryption.AWS_KMS).kmsMasterKeyID(key)))));
            Scripts.Run weaker = setup("--bucket", bucket, "--github-repo", "octo-org/app");
            assertEquals(Exit.USAGE, weaker.exit(), weaker.toString());
            assertTrue(weaker.err().contains("never weakens") && weaker.err().contains("--kms-key"), weaker.err());
            assertEquals(key, s3.getBucketEncryption(r -> r.bucket(bucket)).serverSideEncryptionConfiguration().rules().get(0)
                    .applyServerSideEncryptionByDefault().kmsMasterKeyID());
        }
    }

    @Test
    void aRoleNotCreatedBySetupAwsIsNotTakenOver() {
        String bucket = newBucket();
        String role = "someone-elses-role-" + bucket;
        String theirTrust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
        try (IamClient iam = iam()) {
            iam.createRole(r -> r.roleName(role).assumeRolePolicyDocument(theirTrust));
            Scripts.Run run = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--role-name", role);
            assertEquals(Exit.FAILED, run.exit(), run.toString());
            assertTrue(run.err().contains("was not created by setup-aws") && run.err().contains("--role-name"), run.err());
            assertEquals(json(theirTrust), trustOf(iam, role));
            // With --json, a failure while planning (before the report) still gives stdout one document.
            Scripts.Run asJson = setup("--bucket", bucket, "--github-repo", "octo-org/app", "--role-name", role, "--json");
            assertEquals(Exit.FAILED, asJson.exit(), asJson.toString());
            JsonNode doc = json(asJson.out());
            assertFalse(doc.get("ok").asBoolean(), asJson.out());
            assertEquals(Exit.FAILED, doc.get("error").get("exitCode").asInt(), asJson.out());
            assertTrue(doc.get("error").get("message").asText().contains("was not created by setup-aws"), asJson.out());
        }
        try (S3Client s3 = S3Server.get().s3()) {
            assertThrows(NoSuchBucketException.class, () -> s3.headBucket(r -> r.bucket(bucket)), "refused while planning: nothing created");
        }
    }

    @Test
    void aBucketNameTakenByAnotherAccountIsOneClearError() {
        S3Server server = S3Server.get();
        org.junit.jupiter.api.Assumptions.assumeTrue(server.isMoto(), "needs moto's cross-account buckets");
        String bucket = newBucket();
        // Another account (moto makes one for any account id in an assumed role's ARN) owns the name.
        AwsSessionCredentials other;
        try (StsClient sts = AwsClients.sts(server.options())) {
            var c = sts.assumeRole(r -> r.roleArn("arn:aws:iam::111111111111:role/other").roleSessionName("other")).credentials();
            other = AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
        }
        try (S3Client s3 = S3Client.builder().endpointOverride(java.net.URI.create(server.endpoint)).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(other)).httpClientBuilder(ApacheHttpClient.builder()).build()) {
            s3.createBucket(r -> r.bucket(bucket));
        }
        Scripts.Run run = setup("--bucket", bucket, "--github-repo", "octo-org/app");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("already taken by another AWS account") && run.err().contains("--bucket"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        try (IamClient iam = iam()) {
            assertThrows(NoSuchEntityException.class, () -> iam.getRole(r -> r.roleName("pgdump-s3-" + bucket)));
        }
    }

    @Test
    void dryRunGuardRefusesMutatingCalls() {
        // The guard is what makes --dry-run safe by construction: a mutating call never leaves the process.
        try (S3Client s3 = AwsClients.s3(S3Server.get().options(), new ReadOnlyGuard())) {
            String bucket = newBucket();
            Exception e = assertThrows(Exception.class, () -> s3.createBucket(r -> r.bucket(bucket)));
            assertTrue(String.valueOf(e.getMessage()).contains("dry run"), e.toString());
            assertThrows(NoSuchBucketException.class, () -> s3.headBucket(r -> r.bucket(bucket)), "reads still work");
        }
    }
}
