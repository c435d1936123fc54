import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The roles an archive names, and whether a restore can keep owners and grants. pg_restore's defaults of this
 * tool used to be --no-owner --no-acl: safe, but a restore next to a broken database then loses every GRANT (an
 * application role can no longer read its tables after the switch-over) and every owner. When every role the
 * archive names exists on the target, and the restoring user may act for the owners, owners and grants are kept;
 * otherwise the restore goes on without them and says which roles were missing and how to get them back.
 *
 * <p>Roles named by a policy ({@code CREATE POLICY ... TO role}) are needed in any case: pg_restore creates
 * policies even with --no-acl, so a missing one fails the restore; those are reported up front.
 */
final class ArchiveRoles {
    final Set<String> owners;
    final Set<String> grantees;
    final Set<String> policyRoles;

    private ArchiveRoles(Set<String> owners, Set<String> grantees, Set<String> policyRoles) {
        this.owners = owners;
        this.grantees = grantees;
        this.policyRoles = policyRoles;
    }

    /** Every role the whole set of entries names. */
    Set<String> all() {
        Set<String> all = new TreeSet<>(owners);
        all.addAll(grantees);
        all.addAll(policyRoles);
        return all;
    }

    private static final Pattern GRANT_TO = Pattern.compile("(?is)\\bGRANT\\b.*?\\bTO\\s+(.+?)(?:\\s+WITH\\s+(?:GRANT|ADMIN|INHERIT|SET)\\b.*|\\s+GRANTED\\s+BY\\b.*)?;\\s*$");
    private static final Pattern REVOKE_FROM = Pattern.compile("(?is)\\bREVOKE\\b.*?\\bFROM\\s+(.+?)(?:\\s+GRANTED\\s+BY\\b.*|\\s+CASCADE|\\s+RESTRICT)?;\\s*$");
    private static final Pattern FOR_ROLE = Pattern.compile("(?is)ALTER\\s+DEFAULT\\s+PRIVILEGES\\s+FOR\\s+ROLE\\s+(\"(?:[^\"]|\"\")*\"|[^\\s]+)");
    private static final Pattern POLICY_TO = Pattern.compile("(?is)\\bCREATE\\s+POLICY\\b.*?\\bTO\\s+(.+?)(?:\\s+USING\\b|\\s+WITH\\s+CHECK\\b|;)");
    private static final Set<String> NOT_ROLES = Set.of("public", "current_user", "session_user", "current_role");

    static ArchiveRoles of(Collection<ArchiveToc.Entry> entries) {
        Set<String> owners = new TreeSet<>(), grantees = new TreeSet<>(), policy = new TreeSet<>();
        for (ArchiveToc.Entry e : entries) {
            if (e.owner() != null && !e.owner().isEmpty() && !e.desc().equals("DATABASE") && !e.desc().equals("DATABASE PROPERTIES")) {
                owners.add(e.owner());
            }
            String defn = e.defn() == null ? "" : e.defn();
            if (e.desc().equals("ACL") || e.desc().equals("DEFAULT ACL")) {
                for (String stmt : statements(defn)) {
                    Matcher m = GRANT_TO.matcher(stmt);
                    if (m.find()) grantees.addAll(roleList(m.group(1)));
                    m = REVOKE_FROM.matcher(stmt);
                    if (m.find()) grantees.addAll(roleList(m.group(1)));
                    m = FOR_ROLE.matcher(stmt);
                    if (m.find()) grantees.addAll(roleList(m.group(1)));
                }
            } else if (e.desc().equals("POLICY")) {
                Matcher m = POLICY_TO.matcher(defn);
                if (m.find()) policy.addAll(roleList(m.group(1)));
            }
        }
        return new ArchiveRoles(owners, grantees, policy);
    }

    /** pg_dump writes one statement per line in ACL entries; a quoted name never holds a newline that matters here. */
    private static List<String> statements(String defn) {
        List<String> out = new ArrayList<>();
        for (String line : defn.split("\n")) if (!line.isBlank() && !line.startsWith("--")) out.add(line.strip());
        return out;
    }

    /** "app_ro, \"Weird \"\"Role\"\"\", PUBLIC" → [app_ro, Weird "Role"] (without PUBLIC and the CURRENT_USER keywords). */
    static List<String> roleList(String text) {
        List<String> roles = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false, wasQuoted = false;
        String s = text.strip();
        for (int i = 0; i <= s.length(); i++) {
            char c = i < s.length() ? s.charAt(i) : ',';
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
                wasQuoted = true;
            } else if (c == ',') {
                String name = wasQuoted ? cur.toString() : cur.toString().strip();
                if (name.toUpperCase(Locale.ROOT).startsWith("GROUP ")) name = name.substring(6).strip();
                if (!name.isEmpty() && (wasQuoted || !NOT_ROLES.contains(name.toLowerCase(Locale.ROOT)))) {
                    roles.add(wasQuoted ? name : name.toLowerCase(Locale.ROOT));
                }
                cur.setLength(0);
                wasQuoted = false;
            } else if (!Character.isWhitespace(c) || cur.length() > 0) {
                cur.append(c);
            }
        }
        return roles;
    }

    /** The verdict for one target: keep owners and grants, or not and why, and what to say. */
    record Decision(boolean keepOwners, boolean keepAcl, Set<String> missing, Set<String> notMember, Set<String> policyMissing, String message) {}

    /**
     * Decides against the roles that exist on the target ({@code existing}) and those the restoring user may act as
     * ({@code usable}: a superuser may act as all; else the roles it is a member of). {@code ownerOption} and
     * {@code aclOption}: true/false when the operator said --owner/--no-owner, --acl/--no-acl; null for the default.
     */
    Decision decide(Set<String> existing, Set<String> usable, boolean superuser, Boolean ownerOption, Boolean aclOption) {
        Set<String> missingOwners = new TreeSet<>(owners);
        missingOwners.removeAll(existing);
        Set<String> missingGrantees = new TreeSet<>(grantees);
        missingGrantees.removeAll(existing);
        Set<String> notMember = new TreeSet<>(owners);
        notMember.removeAll(missingOwners);
        if (superuser) notMember.clear();
        else notMember.removeAll(usable);
        Set<String> policyMissing = new TreeSet<>(policyRoles);
        policyMissing.removeAll(existing);

        Set<String> missing = new TreeSet<>(missingOwners);
        missing.addAll(missingGrantees);
        boolean canOwners = missingOwners.isEmpty() && notMember.isEmpty();
        boolean canAcl = missing.isEmpty() && notMember.isEmpty();
        boolean keepOwners = ownerOption != null ? ownerOption : canOwners && canAcl;
        boolean keepAcl = aclOption != null ? aclOption : canOwners && canAcl;

        StringBuilder msg = new StringBuilder();
        if (ownerOption == null && aclOption == null) {
            if (keepOwners) {
                msg.append("keeping owners and grants: every role the backup names exists on the target (").append(summary(all())).append(")");
            } else {
                msg.append("restoring WITHOUT owners and grants (--no-owner --no-acl): objects will belong to the user you restore as,"
                        + " and no GRANT is restored.");
                if (!missing.isEmpty()) msg.append(" Roles missing on the target: ").append(String.join(", ", missing)).append('.');
                if (!notMember.isEmpty()) msg.append(" Owners the restoring user may not act for (not a superuser, not a member): ")
                        .append(String.join(", ", notMember)).append('.');
                msg.append(" To keep them: create the roles on the target (pg_dumpall --roles-only on the source server gives their"
                        + " CREATE ROLE statements; Neon: create them in the console), restore as a superuser or a member of the owners,"
                        + " then run again (with --clean, or into a new database); --owner --acl insist");
            }
        } else {
            msg.append(keepOwners ? "keeping owners (--owner)" : "without owners (--no-owner)").append(", ")
                    .append(keepAcl ? "keeping grants (--acl)" : "without grants (--no-acl)");
            if ((keepOwners || keepAcl) && !(canOwners && canAcl)) {
                msg.append("; warning: ").append(missing.isEmpty() ? "" : "roles missing on the target: " + String.join(", ", missing) + " ")
                        .append(notMember.isEmpty() ? "" : "not a member of: " + String.join(", ", notMember)).append(" (pg_restore will fail on them)");
            }
        }
        if (!policyMissing.isEmpty()) {
            msg.append("; row-level security policies name roles missing on the target: ").append(String.join(", ", policyMissing))
                    .append(" (pg_restore fails on them whatever the options: create them first)");
        }
        return new Decision(keepOwners, keepAcl, missing, notMember, policyMissing, msg.toString());
    }

    private static String summary(Set<String> roles) {
        List<String> l = new ArrayList<>(roles);
        return l.size() <= 6 ? String.join(", ", l) : String.join(", ", l.subList(0, 6)) + ", ... " + l.size() + " roles";
    }

    /** The SQL that reads, in one row, the target's roles, the ones the current user is a member of, and whether it is a superuser. */
    static final String TARGET_ROLES_SQL = "select json_build_object("
            + "'roles', (select coalesce(json_agg(rolname), '[]') from pg_roles),"
            + "'member', (select coalesce(json_agg(rolname), '[]') from pg_roles where pg_has_role(current_user, oid, 'MEMBER')),"
            + "'superuser', (select rolsuper from pg_roles where rolname = current_user))";

    /** The target's side: the roles that exist, those the connecting user is a member of, and whether it is a superuser. */
    record TargetRoles(Set<String> existing, Set<String> member, boolean superuser) {}

    /** Reads the target's roles through {@code db} (any database of the target server). */
    static TargetRoles target(PgTools.Tool psql, ConnInfo db) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = Json.MAPPER.readTree(PgTools.query(psql, db, TARGET_ROLES_SQL));
            Set<String> roles = new TreeSet<>(), member = new TreeSet<>();
            n.get("roles").forEach(r -> roles.add(r.asText()));
            n.get("member").forEach(r -> member.add(r.asText()));
            return new TargetRoles(roles, member, n.get("superuser").asBoolean(false));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Failure(Exit.FAILED, "cannot read the target's roles: " + e.getMessage());
        }
    }

    Decision decide(TargetRoles t, Boolean ownerOption, Boolean aclOption) {
        return decide(t.existing(), t.member(), t.superuser(), ownerOption, aclOption);
    }
}
