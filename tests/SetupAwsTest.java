import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
 * setup-aws: the policy documents (pure functions, asserted as parsed JSON), input validation, and convergence
 * against the emulator: first run creates, second run changes nothing, a changed option updates only what it
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

    /** Every (action, resource) a policy allows, plus its conditions, as "action resource [conditions]"; a denial as "DENY action resource". */
    static Set<String> grants(JsonNode policy) {
        Set<String> out = new TreeSet<>();
        for (JsonNode st : policy.get("Statement")) {
            String effect = st.get("Effect").asText();
            assertTrue(effect.equals("Allow") || effect.equals("Deny") && !st.has("Condition"), "an Allow, or an unconditional Deny: " + st);
            List<String> actions = new ArrayList<>();
            if (st.get("Action").isArray()) st.get("Action").forEach(a -> actions.add(a.asText()));
            else actions.add(st.get("Action").asText());
            String cond = st.has("Condition") ? " " + st.get("Condition") : "";
            for (String a : actions) out.add((effect.equals("Deny") ? "DENY " : "") + a + " " + st.get("Resource").asText() + cond);
        }
        return out;
    }

    static final String B = "arn:aws:s3:::acme-backups";
    static final String LIST = "s3:ListBucket " + B + " {\"StringLike\":{\"s3:prefix\":[\"pg-backups/*\"]}}";
    static final String KEY = "arn:aws:kms:eu-central-1:" + ACCOUNT + ":key/1234abcd-12ab-34cd-56ef-1234567890ab";
    static final String VIA = " {\"StringEquals\":{\"kms:ViaService\":\"s3.eu-central-1.amazonaws.com\"}}";

    static JsonNode permissions(RoleKind kind, String kmsKey) {
        return IamPolicies.permissionPolicy(kind, "aws", "acme-backups", "pg-backups", kmsKey, "eu-central-1");
    }

    /** s3:PutObject as a create only (AWS's "enforce conditional writes"): with If-None-Match, or staging a multipart upload. */
    static final String CREATE = "s3:PutObject " + B + "/pg-backups/* {\"Null\":{\"s3:if-none-match\":\"false\"}}";
    static final String STAGE = "s3:PutObject " + B + "/pg-backups/* {\"Bool\":{\"s3:ObjectCreationOperation\":\"false\"}}";

    @Test
    void permissionPoliciesMatchTheRoleDesign() {
        assertEquals(Set.of(LIST,
                "s3:ListBucketMultipartUploads " + B,
                CREATE, STAGE,
                "s3:PutObject " + B + "/pg-backups/*.verify.json",
                "s3:AbortMultipartUpload " + B + "/pg-backups/*",
                "s3:ListMultipartUploadParts " + B + "/pg-backups/*",
                "s3:GetObject " + B + "/pg-backups/*",
                "s3:DeleteObject " + B + "/pg-backups/*"), grants(permissions(RoleKind.ALL, null)), "one role: everything the scripts do");
        assertEquals(Set.of(LIST,
                CREATE, STAGE,
                "DENY s3:PutObject " + B + "/pg-backups/*.verify.json",
                "s3:GetObject " + B + "/pg-backups/*.manifest.json",
                "s3:AbortMultipartUpload " + B + "/pg-backups/*",
                "s3:ListMultipartUploadParts " + B + "/pg-backups/*"), grants(permissions(RoleKind.WRITER, null)),
                "writer: create only, read manifests only, no delete, no drill records");
        assertEquals(Set.of(LIST,
                "s3:ListBucketMultipartUploads " + B,
                "s3:AbortMultipartUpload " + B + "/pg-backups/*",
                "s3:DeleteObject " + B + "/pg-backups/*",
                "s3:GetObject " + B + "/pg-backups/*.manifest.json",
                "s3:GetObject " + B + "/pg-backups/*.verify.json"), grants(permissions(RoleKind.PRUNER, null)),
                "pruner: list, read manifests and drill records (only complete backups count), delete");
        assertEquals(Set.of(LIST,
                "s3:GetObject " + B + "/pg-backups/*",
                "s3:PutObject " + B + "/pg-backups/*.verify.json"), grants(permissions(RoleKind.RESTORER, null)), "restorer: read; write only verify records");

        // With a KMS key: data keys and decryption for the roles that put or get, and only through S3 in that region.
        String kms = "kms:GenerateDataKey " + KEY + VIA;
        String decrypt = "kms:Decrypt " + KEY + VIA;
        assertTrue(grants(permissions(RoleKind.WRITER, KEY)).containsAll(Set.of(kms, decrypt)), "multipart uploads with SSE-KMS need both");
        assertTrue(grants(permissions(RoleKind.RESTORER, KEY)).containsAll(Set.of(kms, decrypt)));
        assertTrue(grants(permissions(RoleKind.ALL, KEY)).containsAll(Set.of(kms, decrypt)));
        assertEquals(Set.of(decrypt), grants(permissions(RoleKind.PRUNER, KEY)).stream().filter(g -> g.startsWith("kms:")).collect(java.util.stream.Collectors.toSet()),
                "reading manifests needs decryption, no data keys");

        // Nothing broad, in any design: no action wildcard, no version deletes, no bucket administration, and no
        // s3:PutObject on PREFIX/* that could replace an object (only the conditional creates above).
        for (RoleKind k : RoleKind.values()) {
            for (String g : grants(permissions(k, KEY))) {
                if (g.startsWith("DENY ")) continue;
                if (g.startsWith("s3:PutObject ")) assertTrue(g.equals(CREATE) || g.equals(STAGE) || g.equals("s3:PutObject " + B + "/pg-backups/*.verify.json"), g);
                assertFalse(g.split(" ")[0].contains("*"), g);
                assertFalse(g.contains("Version") || g.contains("PutBucket") || g.contains("s3:Delete") && !g.startsWith("s3:DeleteObject "), g);
                assertTrue(g.startsWith("kms:") || g.contains(B + "/pg-backups/") || g.startsWith("s3:ListBucket"), g);
            }
        }
    }

    /**
     * The policies' conditions, which the emulator ignores, evaluated as IAM does ({@link IamSimulator}). Each row: a
     * request and the decision for the roles ALL, WRITER, PRUNER, RESTORER in that order: A allowed, - not allowed,
     * X explicitly denied.
     */
    @Test
    void iamDecidesCreateOnlyAndNoDrillRecordsForTheWriter() {
        String dump = "pg-backups/app/app_2026-01-02T02-00-00Z.dump", manifest = "pg-backups/app/app_2026-01-02T02-00-00Z.manifest.json";
        String verify = "pg-backups/app/app_2026-01-02T02-00-00Z.verify.json";
        Map<String, String> creation = Map.of("s3:ObjectCreationOperation", "true");
        Map<String, String> staging = Map.of("s3:ObjectCreationOperation", "false");
        Map<String, String> conditional = Map.of("s3:ObjectCreationOperation", "true", "s3:if-none-match", "*");
        record Row(String decisions, String action, String key, Map<String, String> context, String what) {}
        List<Row> rows = List.of(
                new Row("AA--", "s3:PutObject", manifest, conditional, "put a new manifest with If-None-Match: * (PutObject)"),
                new Row("AA--", "s3:PutObject", dump, conditional, "complete the dump's upload with If-None-Match: *"),
                new Row("AA--", "s3:PutObject", dump, staging, "start a multipart upload, upload a part"),
                new Row("AA--", "s3:PutObject", "pg-backups/.backup-preflight", staging, "backup's preflight upload"),
                new Row("----", "s3:PutObject", manifest, creation, "overwrite a manifest (no If-None-Match)"),
                new Row("----", "s3:PutObject", dump, creation, "overwrite a dump, or CopyObject over it"),
                new Row("AX-A", "s3:PutObject", verify, conditional, "create a drill record"),
                new Row("AX-A", "s3:PutObject", verify, creation, "replace a drill record (the next drill)"),
                new Row("AX-A", "s3:PutObject", verify, staging, "a drill record as a multipart upload"),
                new Row("AAAA", "s3:GetObject", manifest, Map.of(), "read a manifest"),
                new Row("A-AA", "s3:GetObject", verify, Map.of(), "read a drill record"),
                new Row("A--A", "s3:GetObject", dump, Map.of(), "read a dump"),
                new Row("A-A-", "s3:DeleteObject", dump, Map.of(), "delete a dump"),
                new Row("----", "s3:PutObject", "other-team/x", conditional, "create outside the prefix"),
                new Row("----", "s3:GetObject", "other-team/x.manifest.json", Map.of(), "read a manifest outside the prefix"),
                new Row("AAAA", "s3:ListBucket", "", Map.of("s3:prefix", "pg-backups/app/"), "list a name's backups"),
                new Row("----", "s3:ListBucket", "", Map.of("s3:prefix", "other-team/"), "list another prefix"),
                new Row("----", "s3:ListBucket", "", Map.of(), "list the whole bucket"));
        List<String> wrong = new ArrayList<>();
        RoleKind[] kinds = {RoleKind.ALL, RoleKind.WRITER, RoleKind.PRUNER, RoleKind.RESTORER};
        for (Row row : rows) {
            String resource = row.key().isEmpty() ? B : B + "/" + row.key();
            IamSimulator.Request request = new IamSimulator.Request(row.action(), resource, row.context(), row.what());
            for (int i = 0; i < kinds.length; i++) {
                IamSimulator.Decision d = IamSimulator.evaluate(List.of(permissions(kinds[i], null)), request);
                char got = d == IamSimulator.Decision.ALLOWED ? 'A' : d == IamSimulator.Decision.EXPLICIT_DENY ? 'X' : '-';
                if (got != row.decisions().charAt(i)) wrong.add(kinds[i] + ": " + row.what() + ": " + got + ", expected " + row.decisions().charAt(i));
            }
        }
        assertEquals(List.of(), wrong);
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

    @Test
    void policiesAreComparedByMeaning() {
        JsonNode ours = IamPolicies.trustPolicy(OIDC_ARN, "repo:o/r:ref:refs/heads/main");
        // IAM returns role documents URL-encoded, and may write one-element lists as plain values and reorder.
        String encoded = URLEncoder.encode(ours.toString(), StandardCharsets.UTF_8).replace("+", "%20");
        assertEquals(ours, PolicyJson.parse(encoded));
        JsonNode reshaped = json("""
                {"Statement": {"Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": ["repo:o/r:ref:refs/heads/main"],
                  "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}, "Action": ["sts:AssumeRoleWithWebIdentity"],
                  "Principal": {"Federated": ["%s"]}, "Effect": "Allow", "Sid": "GitHubActionsOidc"}, "Version": "2012-10-17"}
                """.formatted(OIDC_ARN));
        assertTrue(PolicyJson.same(ours, reshaped));
        JsonNode other = IamPolicies.trustPolicy(OIDC_ARN, "repo:o/r:ref:refs/heads/dev");
        assertFalse(PolicyJson.same(ours, other));
        String diff = PolicyJson.diff(ours, other);
        assertTrue(diff.contains("- ") && diff.contains("refs/heads/main") && diff.contains("+ ") && diff.contains("refs/heads/dev"), diff);
        assertTrue(diff.indexOf("refs/heads/main") < diff.indexOf("refs/heads/dev"), "removed line first:\n" + diff);

        JsonNode w = permissions(RoleKind.WRITER, null);
        var reversed = Json.MAPPER.createArrayNode();
        for (int i = w.get("Statement").size() - 1; i >= 0; i--) reversed.add(w.get("Statement").get(i));
        JsonNode reordered = ((ObjectNode) w.deepCopy()).set("Statement", reversed);
        assertTrue(PolicyJson.same(w, reordered), "statement order does not matter");
    }

    @Test
    void bucketPolicyKeepsOtherStatements() {
        JsonNode existing = json("""
                {"Version": "2012-10-17", "Statement": [
                  {"Sid": "AuditorRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                  {"Sid": "PgdumpS3DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::old"}]}
                """);
        JsonNode merged = IamPolicies.bucketPolicy(existing, "arn:aws:s3:::b");
        assertEquals(2, merged.get("Statement").size(), merged.toString());
        assertEquals(existing.get("Statement").get(0), merged.get("Statement").get(0), "the other statement is kept as it was");
        assertEquals(json("""
                {"Sid": "PgdumpS3DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                """), merged.get("Statement").get(1), "ours is replaced by the desired one");
        assertEquals(1, IamPolicies.bucketPolicy(null, "arn:aws:s3:::b").get("Statement").size());
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
