import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Static checks of workflows/pg-backup-fleet.yml, the fan-out template (plan → backup legs → prune → drill → report),
 * with the validators and the parser of {@link WorkflowTemplateTest}. The run of its steps is FleetWorkflowRunTest.
 */
class FleetWorkflowTemplateTest {
    static final Path TEMPLATE = Scripts.repoRoot().resolve("workflows/pg-backup-fleet.yml");

    static Map<String, Object> job(String name) { return WorkflowTemplateTest.map(WorkflowTemplateTest.jobs(TEMPLATE).get(name)); }

    static List<WorkflowTemplateTest.Step> steps() { return WorkflowTemplateTest.steps(TEMPLATE); }

    @Test
    void actionlintAcceptsTheTemplate() throws Exception {
        assertEquals(List.of(), WorkflowTemplateTest.Actionlint.lint(List.of(TEMPLATE)).get(TEMPLATE.toString()), "actionlint errors in " + TEMPLATE);
    }

    /** actionlint checks the inputs of actions it knows by tag only: a copy pinned by tag, and one with misspelt inputs. */
    @Test
    void actionInputsAreOnesTheActionsDefine(@TempDir Path dir) throws Exception {
        String byTag = Files.readString(TEMPLATE).replaceAll(
                "(actions/setup-java|actions/cache|aws-actions/configure-aws-credentials|actions/upload-artifact|actions/download-artifact)@[0-9a-f]{40}", "$1@v4");
        Path good = dir.resolve("by-tag.yml"), bad = dir.resolve("by-tag-misspelt.yml");
        Files.writeString(good, byTag);
        Files.writeString(bad, byTag.replace("if-no-files-found:", "if-no-file-found:").replace("pattern:", "patern:"));
        Map<String, List<String>> errors = WorkflowTemplateTest.Actionlint.lint(List.of(good, bad));
        assertEquals(List.of(), errors.get(good.toString()), "inputs unknown to the actions");
        for (String misspelt : List.of("if-no-file-found", "patern")) {
            assertTrue(errors.get(bad.toString()).stream().anyMatch(m -> m.contains("input \"" + misspelt + "\" is not defined")),
                    "actionlint should reject the input " + misspelt + ": " + errors.get(bad.toString()));
        }
    }

    @Test
    void shellcheckAcceptsEveryRunScript() {
        Map<String, String> problems = new TreeMap<>();
        for (var step : steps()) {
            if (step.run() == null) continue;
            String out = WorkflowTemplateTest.Shellcheck.check(step.run());
            if (!out.isEmpty()) problems.put(step.toString(), out);
        }
        assertEquals(Map.of(), problems, "shellcheck findings in the fleet template's run: scripts");
        assertTrue(steps().stream().filter(s -> s.run() != null).allMatch(s -> "bash".equals(s.raw().get("shell"))), "every run: step says shell: bash");
    }

    /** Pinned by SHA with the tag in a comment, and the actions both templates use pinned to the same commits. */
    @Test
    void everyActionIsPinnedAsInTheSingleTemplate() throws Exception {
        Map<String, Set<String>> fleet = pins(TEMPLATE), single = pins(WorkflowTemplateTest.TEMPLATE);
        for (var e : fleet.entrySet()) {
            assertEquals(1, e.getValue().size(), e.getKey() + " is pinned to different commits: " + e.getValue());
            if (single.containsKey(e.getKey())) assertEquals(single.get(e.getKey()), e.getValue(), e.getKey() + " pinned differently from pg-backup.yml");
        }
        assertEquals(Set.of("actions/setup-java", "jbangdev/setup-jbang", "actions/cache", "aws-actions/configure-aws-credentials",
                "actions/upload-artifact", "actions/download-artifact"), fleet.keySet());
    }

    static Map<String, Set<String>> pins(Path template) throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        List<String> lines = Files.readAllLines(template);
        int uses = 0;
        for (int n = 0; n < lines.size(); n++) {
            Matcher m = WorkflowTemplateTest.USES_LINE.matcher(lines.get(n));
            if (!m.matches()) continue;
            uses++;
            String where = template.getFileName() + " line " + (n + 1) + ": " + lines.get(n).strip();
            Matcher pin = WorkflowTemplateTest.PINNED.matcher(m.group(1));
            assertTrue(pin.matches(), "not pinned by a full 40-hex commit SHA: " + where);
            assertNotNull(m.group(2), "no '# tag' comment after the SHA: " + where);
            assertTrue(WorkflowTemplateTest.TAG_COMMENT.matcher(m.group(2).strip()).matches(), "the comment names no tag: " + where);
            out.computeIfAbsent(pin.group(1), k -> new TreeSet<>()).add(pin.group(2));
        }
        assertEquals(WorkflowTemplateTest.steps(template).stream().filter(s -> s.uses() != null).count(), uses, "every uses: on its own line");
        return out;
    }

    /** plan → backup (a matrix over the plan's shards) → prune and drill (whatever the legs did) → report. */
    @Test
    void theFanOutShape() {
        assertEquals(List.of("plan", "backup", "prune", "drill", "report"), new ArrayList<>(WorkflowTemplateTest.jobs(TEMPLATE).keySet()));
        Map<String, Object> plan = job("plan"), backup = job("backup");
        Map<String, Object> outputs = WorkflowTemplateTest.map(plan.get("outputs"));
        assertEquals("${{ steps.plan.outputs.matrix }}", outputs.get("matrix"));
        assertEquals("${{ steps.plan.outputs.drill }}", outputs.get("drill"));

        assertEquals("plan", backup.get("needs"));
        Map<String, Object> strategy = WorkflowTemplateTest.map(backup.get("strategy"));
        assertEquals(false, strategy.get("fail-fast"), "one leg failing must not cancel the others");
        assertEquals("${{ fromJSON(vars.FLEET_MAX_PARALLEL || '20') }}", strategy.get("max-parallel"));
        assertEquals("${{ fromJSON(needs.plan.outputs.matrix) }}", strategy.get("matrix"));
        int timeout = (Integer) backup.get("timeout-minutes");
        assertTrue(timeout < 360, "under GitHub's 6-hour limit, so a stuck leg ends with time to report: " + timeout);

        // Issue point 4: prune and the drill do not depend on every leg having succeeded.
        for (String name : List.of("prune", "drill", "report")) {
            Map<String, Object> j = job(name);
            String condition = String.valueOf(j.get("if"));
            assertTrue(condition.startsWith("${{ !cancelled() && needs.plan.result == 'success'"), name + ": " + condition);
            assertFalse(condition.contains("needs.backup"), name + " must not wait for every leg's success: " + condition);
            assertTrue(String.valueOf(j.get("needs")).contains("backup"), name + " runs after the legs");
        }
        assertEquals(List.of("plan", "backup", "prune", "drill"), job("report").get("needs"));

        // Each leg keeps its result whatever its exit code, under a name the report finds its shard by.
        var upload = steps().stream().filter(s -> s.job().equals("backup") && s.uses() != null && s.uses().startsWith("actions/upload-artifact@")).findFirst().orElseThrow();
        assertEquals("${{ !cancelled() }}", upload.raw().get("if"));
        assertEquals("backup-shard-${{ matrix.shard }}", upload.with().get("name"));
        assertTrue(String.valueOf(upload.with().get("path")).endsWith("/backup-shard-${{ matrix.shard }}.json"), upload.with().toString());
        var download = steps().stream().filter(s -> s.job().equals("report") && s.uses() != null && "backup-shard-*".equals(s.with().get("pattern"))).findFirst();
        assertTrue(download.isPresent(), "the report downloads every leg's result");
        var leg = steps().stream().filter(s -> "backup".equals(s.id())).findFirst().orElseThrow();
        assertTrue(leg.run().contains("> \"$RUNNER_TEMP/result/backup-shard-${SHARD}.json\""), leg.run());
        assertTrue(leg.run().contains("--json"), leg.run());
    }

    /**
     * The secrets reach only the steps that need them (the plan and the legs), as step env; never a job's env, an
     * output, a matrix, an action's input, or an argument.
     */
    @Test
    void secretsOnlyInTheStepsThatNeedThem() throws Exception {
        Set<String> where = new TreeSet<>();
        for (var step : steps()) {
            for (var e : step.env().entrySet()) if (e.getValue().contains("secrets.")) where.add(step.id() + ":" + e.getKey());
            assertFalse(String.valueOf(step.with()).contains("secrets.") || String.valueOf(step.run()).contains("secrets."), step + " uses a secret outside env");
        }
        assertEquals(Set.of("plan:NEON_API_KEY", "plan:DATABASES", "backup:NEON_API_KEY", "backup:DATABASES", "drill:BACKUP_AGE_IDENTITY"), where);
        for (var j : WorkflowTemplateTest.jobs(TEMPLATE).entrySet()) {
            Map<String, Object> job = WorkflowTemplateTest.map(j.getValue());
            for (String key : List.of("env", "outputs", "strategy", "name")) {
                assertFalse(String.valueOf(job.get(key)).contains("secrets."), j.getKey() + "." + key + " holds a secret");
            }
        }
        // The plan job's outputs come from the plan step only (what the command writes: names, never a URL).
        for (Object v : WorkflowTemplateTest.map(job("plan").get("outputs")).values()) {
            assertTrue(String.valueOf(v).matches("\\$\\{\\{ (steps\\.plan\\.outputs\\.[a-z-]+|env\\.PG_MAJOR) }}"), String.valueOf(v));
        }
    }

    /** The header explains each variable and secret the template reads. */
    @Test
    void everyVariableAndSecretIsExplainedInTheHeader() throws Exception {
        StringBuilder header = new StringBuilder();
        for (String line : Files.readAllLines(TEMPLATE)) {
            if (!line.startsWith("#")) break;
            header.append(line).append('\n');
        }
        Matcher m = Pattern.compile("\\b(vars|secrets)\\.([A-Z0-9_]+)").matcher(Files.readString(TEMPLATE));
        Set<String> missing = new TreeSet<>();
        while (m.find()) if (!header.toString().contains(m.group(2))) missing.add(m.group(0));
        assertEquals(Set.of(), missing, "explain these in the header:\n" + header);
    }

    /** alias + subcommand → the options the fleet template passes. */
    static final Map<String, Set<String>> FLAGS_USED = Map.of(
            "backup plan", Set.of("--neon", "--neon-org", "--neon-project", "--neon-branch", "--neon-database", "--databases-file", "--shards", "--jobs",
                    "--leg-target", "--drills-per-night", "--drill-every-days", "--plan-file"),
            "backup", Set.of("--fleet-plan", "--shard", "--jobs", "--json", "--databases-file"),
            "prune", Set.of(),
            "restore drill", Set.of("--name"),
            "backup report", Set.of("--plan-file"));

    /** Each call of the template against the picocli spec of the script the catalog names: subcommands, options, storage from env. */
    @Test
    void theInvocationsExistInTheScripts() throws Exception {
        List<WorkflowTemplateTest.Invocation> invocations = WorkflowTemplateTest.invocations(TEMPLATE);
        Map<String, Set<String>> found = new TreeMap<>();
        for (var inv : invocations) found.computeIfAbsent(inv.command(), k -> new TreeSet<>()).addAll(inv.options());
        assertEquals(new TreeMap<>(FLAGS_USED), found, "update FLAGS_USED");
        List<String> problems = new ArrayList<>();
        for (var inv : invocations) {
            picocli.CommandLine cl = Cli.commandLine(WorkflowTemplateTest.newCommand(inv.alias()));
            for (String word : inv.words()) {
                picocli.CommandLine sub = cl.getSubcommands().get(word);
                if (sub == null) {
                    problems.add(inv + ": no subcommand " + word);
                    cl = null;
                    break;
                }
                cl = sub;
            }
            if (cl == null) continue;
            for (String option : inv.options()) if (cl.getCommandSpec().findOption(option) == null) problems.add(inv + ": no option " + option);
            if (inv.command().equals("backup report")) continue; // reads files only, no bucket
            Set<String> env = WorkflowTemplateTest.envVarsRead(cl.getCommandSpec());
            for (String setting : WorkflowTemplateTest.STORAGE_SETTINGS) if (!env.contains(setting)) problems.add(inv + ": does not read " + setting);
        }
        assertEquals(List.of(), problems);
    }
}
