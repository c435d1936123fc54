import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link IamPolicies}: the documents setup-aws writes, as parsed JSON: each role's grants match the role design, IAM's
 * evaluation of their conditions ({@link IamSimulator}) gives create-only and no drill records for the writer, and the
 * bucket policy keeps statements that are not ours.
 */
class IamPoliciesTest {
    static final String ACCOUNT = SetupAwsTest.ACCOUNT;

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

    @Test
    void bucketPolicyKeepsOtherStatements() {
        JsonNode existing = SetupAwsTest.json("""
                {"Version": "2012-10-17", "Statement": [
                  {"Sid": "AuditorRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                  {"Sid": "PgdumpS3DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::old"}]}
                """);
        JsonNode merged = IamPolicies.bucketPolicy(existing, "arn:aws:s3:::b");
        assertEquals(2, merged.get("Statement").size(), merged.toString());
        assertEquals(existing.get("Statement").get(0), merged.get("Statement").get(0), "the other statement is kept as it was");
        assertEquals(SetupAwsTest.json("""
                {"Sid": "PgdumpS3DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                """), merged.get("Statement").get(1), "ours is replaced by the desired one");
        assertEquals(1, IamPolicies.bucketPolicy(null, "arn:aws:s3:::b").get("Statement").size());
    }
}
