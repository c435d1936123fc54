import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.iam.model.Tag;

/**
 * setup-aws's IAM side, planned: reads GitHub's OIDC provider and the role(s), and plans them: each role trusted only by
 * one repository's branch or environment ({@link IamPolicies#trustPolicy}), allowed only what its scripts do
 * ({@link RoleKind}); a role setup-aws did not create (no {@link #TOOL_TAG_KEY} tag) is never taken over.
 */
final class IamPlanner {
    /** The tag that marks what setup-aws created: an existing role without it is never converged. */
    static final String TOOL_TAG_KEY = "managed-by";
    static final String TOOL_TAG_VALUE = "pgdump-s3";
    /** The inline policy setup-aws owns on each role. */
    static final String POLICY_NAME = "pgdump-s3-access";

    private final IamClient iam;
    private final SetupTarget t;
    private final List<String> warnings;

    IamPlanner(IamClient iam, SetupTarget t, List<String> warnings) {
        this.iam = iam;
        this.t = t;
        this.warnings = warnings;
    }

    void plan(List<SetupItem> plan) {
        planOidcProvider(plan);
        for (RoleKind kind : t.s().kinds()) planRole(plan, kind);
    }

    /** GitHub's OIDC provider, with audience sts.amazonaws.com. One per account, shared: created only if missing. */
    private void planOidcProvider(List<SetupItem> plan) {
        String arn = t.oidcProviderArn();
        String found = iam.listOpenIDConnectProviders().openIDConnectProviderList().stream()
                .map(p -> p.arn()).filter(a -> a.endsWith(":oidc-provider/" + IamPolicies.OIDC_HOST)).findFirst().orElse(null);
        ObjectNode want = obj().put("Url", "https://" + IamPolicies.OIDC_HOST);
        want.putArray("ClientIDList").add(IamPolicies.OIDC_AUDIENCE);
        ObjectNode have = null;
        List<String> clientIds = List.of();
        if (found != null) {
            clientIds = iam.getOpenIDConnectProvider(r -> r.openIDConnectProviderArn(found)).clientIDList();
            have = obj().put("Url", "https://" + IamPolicies.OIDC_HOST);
            ArrayNode ids = have.putArray("ClientIDList");
            // Other audiences (other tools' use of the provider) are left alone; we only need ours in the list.
            if (clientIds.contains(IamPolicies.OIDC_AUDIENCE)) ids.add(IamPolicies.OIDC_AUDIENCE);
        }
        boolean exists = found != null;
        plan.add(new SetupItem("oidc-provider", exists ? found : arn, have, want, null, exists
                ? () -> iam.addClientIDToOpenIDConnectProvider(r -> r.openIDConnectProviderArn(found).clientID(IamPolicies.OIDC_AUDIENCE))
                // No thumbprint: IAM trusts GitHub's certificate through its own root CA library.
                : () -> iam.createOpenIDConnectProvider(r -> r.url("https://" + IamPolicies.OIDC_HOST).clientIDList(IamPolicies.OIDC_AUDIENCE)
                        .tags(Tag.builder().key(TOOL_TAG_KEY).value(TOOL_TAG_VALUE).build()))));
    }

    private void planRole(List<SetupItem> plan, RoleKind kind) {
        SetupSettings s = t.s();
        String name = s.roleName(kind);
        Role role = null;
        try {
            role = iam.getRole(r -> r.roleName(name)).role();
        } catch (NoSuchEntityException absent) {
            // planned as created below
        }
        ObjectNode trust = IamPolicies.trustPolicy(t.oidcProviderArn(), s.subject());
        ObjectNode permissions = IamPolicies.permissionPolicy(kind, t.partition(), s.bucket(), s.prefix(), s.kmsKey(), s.region());
        ObjectNode wantRole = obj().put("MaxSessionDuration", s.maxSessionSeconds());
        wantRole.putObject("Tags").put(TOOL_TAG_KEY, TOOL_TAG_VALUE);
        String description = "pgdump-s3 " + kind.purpose + ": s3://" + s.bucket() + "/" + s.prefix() + "/ (managed by setup-aws)";

        if (role == null) {
            plan.add(new SetupItem("iam-role", name, null, wantRole, kind.purpose, () -> iam.createRole(r -> r.roleName(name)
                    .assumeRolePolicyDocument(PolicyJson.compact(trust)).description(description).maxSessionDuration(s.maxSessionSeconds())
                    .tags(Tag.builder().key(TOOL_TAG_KEY).value(TOOL_TAG_VALUE).build()))));
            plan.add(new SetupItem("trust-policy", name, null, trust, null, () -> { })); // set by CreateRole
            plan.add(new SetupItem("role-policy", name + "/" + POLICY_NAME, null, permissions, null,
                    () -> iam.putRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME).policyDocument(PolicyJson.compact(permissions)))));
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
        plan.add(new SetupItem("iam-role", name, haveRole, wantRole, kind.purpose,
                () -> iam.updateRole(r -> r.roleName(name).maxSessionDuration(s.maxSessionSeconds()))));
        plan.add(new SetupItem("trust-policy", name, PolicyJson.parse(role.assumeRolePolicyDocument()), trust, null,
                () -> iam.updateAssumeRolePolicy(r -> r.roleName(name).policyDocument(PolicyJson.compact(trust)))));
        JsonNode havePolicy = null;
        try {
            havePolicy = PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME)).policyDocument());
        } catch (NoSuchEntityException absent) {
            // planned as created
        }
        plan.add(new SetupItem("role-policy", name + "/" + POLICY_NAME, havePolicy, permissions, null,
                () -> iam.putRolePolicy(r -> r.roleName(name).policyName(POLICY_NAME).policyDocument(PolicyJson.compact(permissions)))));
        // Anything else on the role widens it: not ours to remove, but the operator must know.
        List<String> otherInline = iam.listRolePolicies(r -> r.roleName(name)).policyNames().stream().filter(p -> !p.equals(POLICY_NAME)).toList();
        List<String> attached = iam.listAttachedRolePolicies(r -> r.roleName(name)).attachedPolicies().stream().map(p -> p.policyArn()).toList();
        if (!otherInline.isEmpty() || !attached.isEmpty()) {
            warnings.add("role " + name + " has other policies that widen it beyond least privilege (left in place): "
                    + String.join(", ", otherInline) + (otherInline.isEmpty() || attached.isEmpty() ? "" : ", ") + String.join(", ", attached));
        }
    }

    private static ObjectNode obj() { return Json.MAPPER.createObjectNode(); }
}
