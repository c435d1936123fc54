import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** setup-aws's report: each item of the plan, then exactly what to set in GitHub; the --json document; the step summary. */
final class SetupReport {
    private final SetupTarget t;
    private final SetupPlan plan;
    private final List<String> warnings;
    private final boolean dryRun;

    SetupReport(SetupTarget t, SetupPlan plan, List<String> warnings, boolean dryRun) {
        this.t = t;
        this.plan = plan;
        this.warnings = warnings;
        this.dryRun = dryRun;
    }


    /**
     * On {@code human} (stdout, or stderr with --json): each item with its verb and, for an update, the diff; the totals;
     * the warnings; and, when nothing failed, what to set in GitHub. With --json, the document on {@code out}. Then
     * the step summary. {@code failure} is what the run exits with (null: 0).
     */
    void print(PrintWriter human, PrintWriter out, boolean json, Failure failure) {
        SetupSettings s = t.s();
        int width = plan.items.stream().mapToInt(i -> i.resource.length()).max().orElse(10);
        for (SetupItem item : plan.items) {
            String verb = dryRun ? item.action.planned
                    : "done".equals(item.status) ? item.action.done
                    : "failed".equals(item.status) ? "FAILED to " + item.action.verb : "not done (" + item.action.verb + ")";
            human.printf("  %-14s %-" + width + "s  %s%s%n", verb, item.resource, item.name, item.note == null ? "" : "  (" + item.note + ")");
            if (item.action == SetupItem.Action.UPDATE) {
                human.print(indent(PolicyJson.diff(item.current, item.desired), "      "));
            } else if (item.action == SetupItem.Action.CREATE && dryRun) {
                human.print(indent(Json.write(item.desired) + "\n", "      "));
            }
        }
        long created = plan.planned(SetupItem.Action.CREATE), updated = plan.planned(SetupItem.Action.UPDATE), unchanged = plan.planned(SetupItem.Action.UNCHANGED);
        if (dryRun) human.printf("Plan (dry run, nothing changed): %d to create, %d to update, %d unchanged.%n", created, updated, unchanged);
        else human.printf("%s: %d created, %d updated, %d unchanged%s.%n", failure == null ? "Done" : "Stopped",
                plan.done(SetupItem.Action.CREATE), plan.done(SetupItem.Action.UPDATE), unchanged,
                failure == null ? "" : ", " + plan.items.stream().filter(i -> !"done".equals(i.status)).count() + " not done");
        for (String w : warnings) human.println("warning: " + w);

        Map<String, String> variables = t.githubVariables();
        if (failure == null) {
            human.println();
            String where = s.environment() == null ? "repository " + s.githubRepo() : "environment '" + s.environment() + "' of " + s.githubRepo();
            human.printf("%s in GitHub (%s → Settings → Secrets and variables → Actions%s):%n",
                    dryRun ? "After a real run, set these" : "Set these", s.githubRepo(), s.environment() == null ? "" : ", environment " + s.environment());
            human.println("  Variables:");
            variables.forEach((k, v) -> human.printf("    %-22s %s%n", k, v));
            human.println("  Secret:");
            // A pooler (Neon's -pooler host, PgBouncer in transaction mode) hands pg_dump's session settings to other
            // clients and can hide rows from the dump: the secret must be the direct connection string.
            human.printf("    %-22s %s%n", "DATABASE_URL", "your database's direct (unpooled) connection string, with ?sslmode=require");
            human.printf("    %-22s %s%n", "", "(Neon: the one without -pooler in its host name; through a pooler a dump can miss rows)");
            human.println("Or with the GitHub CLI, for the " + where + ":");
            String env = s.environment() == null ? "" : " --env " + shellQuote(s.environment());
            variables.forEach((k, v) -> human.printf("  gh variable set %s --repo %s%s --body %s%n", k, s.githubRepo(), env, shellQuote(v)));
            human.printf("  gh secret set DATABASE_URL --repo %s%s    # prompts for the value, so it stays out of your shell history%n", s.githubRepo(), env);
            human.println("The workflow needs `permissions: id-token: write` and aws-actions/configure-aws-credentials with role-to-assume: ${{ vars."
                    + (s.kinds().size() == 1 ? RoleKind.ALL.variable : "AWS_..._ROLE_ARN") + " }} (role-duration-seconds up to " + s.maxSessionSeconds() + ").");
        }
        human.flush();

        if (json) {
            Map<String, Long> summary = new LinkedHashMap<>();
            summary.put("create", created);
            summary.put("update", updated);
            summary.put("unchanged", unchanged);
            JsonDocument doc = JsonDocument.of(failure == null ? Exit.OK : failure.exitCode)
                    .put("dryRun", dryRun).put("account", t.account()).put("partition", t.partition()).put("region", s.region())
                    .put("bucket", s.bucket()).put("prefix", s.prefix()).put("subject", s.subject())
                    .put("items", plan.items.stream().map(i -> i.toJson(dryRun)).toList())
                    .put("summary", summary);
            List<Map<String, String>> roles = new ArrayList<>();
            for (RoleKind k : s.kinds()) {
                Map<String, String> role = new LinkedHashMap<>();
                role.put("kind", k.name().toLowerCase(Locale.ROOT));
                role.put("name", s.roleName(k));
                role.put("arn", t.roleArn(k));
                role.put("variable", k.variable);
                roles.add(role);
            }
            Map<String, Object> github = new LinkedHashMap<>();
            github.put("repository", s.githubRepo());
            github.put("environment", s.environment());
            github.put("variables", variables);
            github.put("secrets", List.of("DATABASE_URL"));
            doc.put("roles", roles).put("github", github).put("warnings", warnings);
            if (failure != null) doc.error(failure.getMessage());
            doc.print(out);
        }
        Markdown.Table table = new Markdown().heading("setup-aws" + (dryRun ? " (dry run)" : "")).table("lll", "resource", "name", "result");
        for (SetupItem i : plan.items) {
            table.row(i.resource, i.name, dryRun ? i.action.planned : i.status == null ? "" : "done".equals(i.status) ? i.action.done : i.status);
        }
        StepSummary.append(table.end().toString());
    }

    static String indent(String text, String pad) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n", -1)) if (!line.isEmpty()) sb.append(pad).append(line).append('\n');
        return sb.toString();
    }

    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./:@=+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
