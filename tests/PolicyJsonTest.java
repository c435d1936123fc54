import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link PolicyJson}: policy documents compared by meaning, as IAM returns them (URL-encoded, reshaped, reordered). */
class PolicyJsonTest {
    static final String OIDC_ARN = SetupAwsTest.OIDC_ARN;

    @Test
    void policiesAreComparedByMeaning() {
        JsonNode ours = IamPolicies.trustPolicy(OIDC_ARN, "repo:o/r:ref:refs/heads/main");
        // IAM returns role documents URL-encoded, and may write one-element lists as plain values and reorder.
        String encoded = URLEncoder.encode(ours.toString(), StandardCharsets.UTF_8).replace("+", "%20");
        assertEquals(ours, PolicyJson.parse(encoded));
        JsonNode reshaped = SetupAwsTest.json("""
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

        JsonNode w = IamPoliciesTest.permissions(RoleKind.WRITER, null);
        var reversed = Json.MAPPER.createArrayNode();
        for (int i = w.get("Statement").size() - 1; i >= 0; i--) reversed.add(w.get("Statement").get(i));
        JsonNode reordered = ((ObjectNode) w.deepCopy()).set("Statement", reversed);
        assertTrue(PolicyJson.same(w, reordered), "statement order does not matter");
    }
}
