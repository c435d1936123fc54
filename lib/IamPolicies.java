import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The policy documents setup-aws writes, as data, from pure functions (tests assert on them): the roles' trust in
 * GitHub's OIDC tokens, their permissions ({@link RoleKind}), and the TLS-only statement of the bucket policy.
 */
final class IamPolicies {
    /** GitHub Actions' OIDC issuer, and the audience its tokens carry for AWS. */
    static final String OIDC_HOST = "token.actions.githubusercontent.com";
    static final String OIDC_AUDIENCE = "sts.amazonaws.com";

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
        if (kind.can(RoleKind.Capability.LIST)) {
            ObjectNode st = allow(statements, "ListBackupPrefix", List.of("s3:ListBucket"), bucketArn);
            st.putObject("Condition").putObject("StringLike").putArray("s3:prefix").add(prefix + "/*");
        }
        if (kind.can(RoleKind.Capability.STALE_UPLOADS)) allow(statements, "ListMultipartUploads", List.of("s3:ListBucketMultipartUploads"), bucketArn);
        if (kind.can(RoleKind.Capability.CREATE)) {
            allow(statements, "CreateObjectsOnly", List.of("s3:PutObject"), objects)
                    .putObject("Condition").putObject("Null").put("s3:if-none-match", "false");
            allow(statements, "StageMultipartUploads", List.of("s3:PutObject"), objects)
                    .putObject("Condition").putObject("Bool").put("s3:ObjectCreationOperation", "false");
        }
        List<String> objectActions = new ArrayList<>();
        if (kind.can(RoleKind.Capability.CREATE)) objectActions.addAll(List.of("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"));
        if (kind.can(RoleKind.Capability.READ)) objectActions.add("s3:GetObject");
        if (kind.can(RoleKind.Capability.DELETE)) objectActions.add("s3:DeleteObject");
        if (kind.can(RoleKind.Capability.STALE_UPLOADS) && !objectActions.contains("s3:AbortMultipartUpload")) objectActions.add("s3:AbortMultipartUpload");
        if (!objectActions.isEmpty()) allow(statements, "BackupObjects", objectActions.stream().sorted().toList(), objects);
        if (kind.can(RoleKind.Capability.READ_MANIFESTS) && !kind.can(RoleKind.Capability.READ)) {
            allow(statements, "ReadManifests", List.of("s3:GetObject"), objects + BackupKey.Kind.MANIFEST.suffix);
        }
        if (kind.can(RoleKind.Capability.READ_VERIFY) && !kind.can(RoleKind.Capability.READ)) {
            allow(statements, "ReadVerifyRecords", List.of("s3:GetObject"), verifyRecords);
        }
        if (kind.can(RoleKind.Capability.WRITE_VERIFY)) allow(statements, "WriteVerifyRecords", List.of("s3:PutObject"), verifyRecords);
        if (kind.can(RoleKind.Capability.CREATE) && !kind.can(RoleKind.Capability.WRITE_VERIFY)) {
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

    private IamPolicies() {}
}
