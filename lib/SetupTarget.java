import java.util.LinkedHashMap;
import java.util.Map;

/** Who we are and what setup-aws converges: the settings plus the account and partition from STS. */
record SetupTarget(SetupSettings s, String account, String partition) {
    String bucketArn() { return "arn:" + partition + ":s3:::" + s.bucket(); }

    String oidcProviderArn() { return "arn:" + partition + ":iam::" + account + ":oidc-provider/" + IamPolicies.OIDC_HOST; }

    String roleArn(RoleKind k) { return "arn:" + partition + ":iam::" + account + ":role/" + s.roleName(k); }

    /** The repository (or environment) variables the workflow reads. */
    Map<String, String> githubVariables() {
        Map<String, String> v = new LinkedHashMap<>();
        for (RoleKind k : s.kinds()) v.put(k.variable, roleArn(k));
        v.put("S3_BUCKET", s.bucket());
        v.put("S3_PREFIX", s.prefix());
        v.put("AWS_REGION", s.region());
        return v;
    }

    /** The partition of a caller's ARN (arn:PARTITION:...), "aws" when it has none. */
    static String partitionOf(String callerArn) {
        String[] parts = callerArn == null ? new String[0] : callerArn.split(":");
        return parts.length > 2 && !parts[1].isBlank() ? parts[1] : "aws";
    }
}
