import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

/**
 * workflows/pg-backup-watch.yml, the hourly watchdog template: checked statically like pg-backup.yml (actionlint,
 * the actions' inputs, shellcheck, pins, its shape, the settings reaching `restore check`), and run: its `run:` steps
 * with bash on this machine against the emulator, as WorkflowRunTest runs the backup template, green on a fresh
 * drilled backup and red, with an annotation and the summary, once the backups stop.
 */
class WatchWorkflowTest {
    static final Path TEMPLATE = Scripts.repoRoot().resolve("workflows/pg-backup-watch.yml");

    @SuppressWarnings("unchecked")
    static Map<String, Object> workflow() throws Exception {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return (Map<String, Object>) new Yaml(new SafeConstructor(options)).load(Files.readString(TEMPLATE));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> steps() throws Exception {
        Map<String, Object> jobs = (Map<String, Object>) workflow().get("jobs");
        assertEquals(Set.of("check"), jobs.keySet());
        return (List<Map<String, Object>>) ((Map<String, Object>) jobs.get("check")).get("steps");
    }

    @Test
    void actionlintAcceptsTheTemplateAndTheActionsTheirInputs(@TempDir Path dir) throws Exception {
        // As in WorkflowTemplateTest: actionlint knows the actions' inputs by tag only, so a copy pinned by tag too.
        String byTag = Files.readString(TEMPLATE).replaceAll(
                "(actions/setup-java|actions/cache(?:/restore|/save)?|aws-actions/configure-aws-credentials)@[0-9a-f]{40}", "$1@v4");
        Path good = dir.resolve("by-tag.yml"), bad = dir.resolve("broken.yml");
        Files.writeString(good, byTag);
        Files.writeString(bad, Files.readString(TEMPLATE).replace("\"41 * * * *\"", "\"41 * * * * *\"").replace("steps.check.outcome", "steps.chek.outcome"));
        Map<String, List<String>> errors = WorkflowTemplateTest.Actionlint.lint(List.of(TEMPLATE, good, bad));
        assertEquals(List.of(), errors.get(TEMPLATE.toString()), "actionlint errors in " + TEMPLATE);
        assertEquals(List.of(), errors.get(good.toString()), "inputs unknown to the actions");
        List<String> broken = errors.get(bad.toString());
        assertTrue(broken.stream().anyMatch(e -> e.contains("invalid CRON format")) && broken.stream().anyMatch(e -> e.contains("property \"chek\" is not defined")),
                "actionlint runs and rejects a broken copy: " + broken);
    }

    @Test
    void shellcheckAcceptsEveryRunScriptAndEachIsBash() throws Exception {
        Map<String, String> problems = new TreeMap<>();
        for (Map<String, Object> step : steps()) {
            if (step.get("run") == null) continue;
            assertEquals("bash", step.get("shell"), "shell: bash on " + step.get("name"));
            String out = WorkflowTemplateTest.Shellcheck.check((String) step.get("run"));
            if (!out.isEmpty()) problems.put(String.valueOf(step.get("name")), out);
        }
        assertEquals(Map.of(), problems);
    }

    @Test
    void everyActionIsPinnedByCommitShaAsInTheBackupTemplate() throws Exception {
        Pattern uses = Pattern.compile("^\\s*(?:-\\s+)?uses:\\s*(\\S+?)@([0-9a-f]{40}) # (v\\d+(\\.\\d+)*|main)\\b.*$");
        Map<String, String> pins = new TreeMap<>();
        for (String line : Files.readAllLines(WorkflowTemplateTest.TEMPLATE)) {
            Matcher m = uses.matcher(line);
            if (m.matches()) pins.put(m.group(1), m.group(2));
        }
        int count = 0;
        for (String line : Files.readAllLines(TEMPLATE)) {
            if (!line.strip().startsWith("uses:") && !line.strip().startsWith("- uses:")) continue;
            count++;
            Matcher m = uses.matcher(line);
            assertTrue(m.matches(), "not pinned by SHA with its tag in a comment: " + line);
            // The same commits as pg-backup.yml (actions/cache/restore and /save are actions/cache's).
            String action = m.group(1).replaceAll("^actions/cache/(restore|save)$", "actions/cache");
            assertEquals(pins.get(action), m.group(2), "pinned to another commit than in pg-backup.yml: " + line);
        }
        assertEquals(steps().stream().filter(s -> s.get("uses") != null).count(), count);
    }

    @Test
    @SuppressWarnings("unchecked")
    void hourlyOnItsOwnScheduleReadOnlyAndEverySettingReachesTheCheck() throws Exception {
        Map<String, Object> wf = workflow();
        Map<String, Object> on = (Map<String, Object>) (wf.containsKey("on") ? wf.get("on") : wf.get(true));
        assertTrue(on.containsKey("workflow_dispatch"));
        String cron = (String) ((Map<String, Object>) ((List<Object>) on.get("schedule")).get(0)).get("cron");
        assertTrue(cron.matches("[1-9]\\d? \\* \\* \\* \\*"), "hourly, not at minute 0: " + cron);
        Map<String, Object> backupOn = (Map<String, Object>) WorkflowTemplateTest.workflow().getOrDefault("on", WorkflowTemplateTest.workflow().get(true));
        String backupCron = (String) ((Map<String, Object>) ((List<Object>) backupOn.get("schedule")).get(0)).get("cron");
        assertNotEquals(backupCron.split(" ")[0], cron.split(" ")[0], "not at the backup's minute");
        assertEquals(Map.of("id-token", "write", "contents", "read"), wf.get("permissions"));

        // Every WATCH_* and storage setting is one `restore check` reads from the environment.
        CommandLine check = Cli.commandLine(new Restore()).getSubcommands().get("check");
        Set<String> read = WorkflowTemplateTest.envVarsRead(check.getCommandSpec());
        Set<String> given = new TreeSet<>(((Map<String, Object>) wf.get("env")).keySet());
        for (Map<String, Object> step : steps()) if (step.get("env") != null) given.addAll(((Map<String, Object>) step.get("env")).keySet());
        given.removeAll(Set.of("CATALOG_REF", "JBANG_VERSION"));
        assertTrue(read.containsAll(given), "settings restore check does not read: " + new TreeSet<>(given) + " vs " + read);
        // The URLs are keys: secrets, never variables.
        Map<String, Object> checkEnv = (Map<String, Object>) steps().stream().filter(s -> "check".equals(s.get("id"))).findFirst().orElseThrow().get("env");
        assertEquals("${{ secrets.WATCH_PING_URL }}", checkEnv.get("WATCH_PING_URL"));
        assertEquals("${{ secrets.WATCH_WEBHOOK_URL }}", checkEnv.get("WATCH_WEBHOOK_URL"));
    }

    /**
     * The run: steps, run with bash the way a runner runs them (uses: steps replaced by the environment they give:
     * credentials for the emulator, jbang on PATH; the state cache by a directory that survives from run to run),
     * with `jbang restore@CATALOG_REF` resolving to this checkout. A fresh drilled backup: green, the summary says
     * so, the ping is a success. The newest backup gone and the next 30 hours old: red, an ::error:: annotation
     * naming the stale backup, the summary, /fail.
     */
    @Test
    void aRunOfTheTemplateIsGreenThenRedWhenTheBackupsStop(@TempDir Path runner) throws Exception {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("watch-run");
        PgServer pg = PgServer.get();
        String db = pg.createDatabase("watch_src");
        try (HttpRecorder http = new HttpRecorder()) {
            pg.sql(db, "create table t (id int primary key); insert into t select generate_series(1, 100)");
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            TestBackups.Made older = TestBackups.create(pg, bucket, "pg-backups", "app", db, now.minus(Duration.ofHours(30)));
            TestBackups.putDrillRecord(bucket, older, VerifyRecord.PASSED);
            TestBackups.Made newest = TestBackups.copy(bucket, older, "app", now.minus(Duration.ofHours(2)));
            TestBackups.putDrillRecord(bucket, newest, VerifyRecord.PASSED);

            Map<String, String> expressions = new LinkedHashMap<>();
            expressions.put("vars.S3_BUCKET", bucket);
            expressions.put("vars.S3_PREFIX", "");
            expressions.put("vars.AWS_REGION", S3Server.REGION);
            expressions.put("vars.WATCH_EXPECT", "");
            expressions.put("runner.temp", runner.toString());
            expressions.put("secrets.WATCH_PING_URL", http.base() + "/ping");
            expressions.put("secrets.WATCH_WEBHOOK_URL", "");

            StringBuilder log = new StringBuilder();
            Map<String, String> green = runSteps(expressions, runner, log);
            assertEquals(Map.of("trust", "success", "check", "success"), green, log.toString());
            assertTrue(Files.readString(runner.resolve("step-summary.md")).contains("All backups fresh and proven: 1 name: 1 ok"), log.toString());
            assertTrue(Files.readString(runner.resolve("pgdump-s3-watch/state.json")).contains("\"app\""), "the state file, for the cache to keep");
            assertEquals(List.of("/ping"), http.paths());

            TestBackups.deleteObject(bucket, newest.dumpKey());
            TestBackups.deleteObject(bucket, newest.manifestKey());
            TestBackups.deleteObject(bucket, newest.key().verifyKey());
            Files.delete(runner.resolve("step-summary.md"));
            http.clear();
            log.setLength(0);
            Map<String, String> red = runSteps(expressions, runner, log);
            assertEquals("failure", red.get("check"), log.toString());
            assertTrue(log.toString().contains("::error title=backup stale::app: the newest complete backup is 1d 6h old"), log.toString());
            String summary = Files.readString(runner.resolve("step-summary.md"));
            assertTrue(summary.contains("PROBLEMS: 1 name: 1 stale") && summary.contains("| `app` | **stale** |"), summary);
            assertEquals(List.of("/ping/fail"), http.paths());
        } finally {
            pg.dropDatabase(db);
        }
    }

    /** The check job's run: steps in order, bash -e -o pipefail, stopping at the first failure; step id → outcome. */
    @SuppressWarnings("unchecked")
    static Map<String, String> runSteps(Map<String, String> expressions, Path runner, StringBuilder log) throws Exception {
        Map<String, Object> wf = workflow();
        Map<String, String> env = new LinkedHashMap<>(S3Server.get().env()); // configure-aws-credentials
        for (var e : ((Map<String, Object>) wf.get("env")).entrySet()) env.put(e.getKey(), WorkflowRunTest.substitute(String.valueOf(e.getValue()), expressions));
        env.put("CATALOG_REF", Scripts.repoRoot().toString()); // the catalog at this checkout instead of OWNER/REPO/TAG
        Path jbang = PgTools.which("jbang", System.getenv("PATH"));
        String jbangDir = jbang != null ? jbang.getParent().toString() : Scripts.repoRoot().resolve("tools").toString();
        env.put("PATH", jbangDir + ":" + System.getenv("PATH")); // setup-jbang
        env.put("GITHUB_ACTIONS", "true");
        env.put("RUNNER_TEMP", runner.toString());
        env.put("GITHUB_STEP_SUMMARY", runner.resolve("step-summary.md").toString());
        Map<String, String> outcomes = new LinkedHashMap<>();
        for (Map<String, Object> step : steps()) {
            if (step.containsKey("uses")) continue;
            String id = String.valueOf(step.get("id"));
            if (outcomes.containsValue("failure") && step.get("if") == null) {
                outcomes.put(id, "skipped");
                continue;
            }
            Map<String, String> stepEnv = new LinkedHashMap<>(env);
            if (step.get("env") != null) {
                for (var e : ((Map<String, Object>) step.get("env")).entrySet()) stepEnv.put(e.getKey(), WorkflowRunTest.substitute(String.valueOf(e.getValue()), expressions));
            }
            Path script = Files.createTempFile(runner, "step-", ".sh");
            Files.writeString(script, WorkflowRunTest.substitute(String.valueOf(step.get("run")), expressions), StandardCharsets.UTF_8);
            PgTools.Result r = Proc.exec(List.of("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", script.toString()), stepEnv, null, 600);
            Output.record(r.stdout(), r.stderr());
            log.append("== step ").append(id).append(" exit ").append(r.exitCode()).append('\n').append(r.stdout()).append(r.stderr());
            outcomes.put(id, r.exitCode() == 0 ? "success" : "failure");
        }
        if (outcomes.isEmpty()) fail("no run: steps in " + TEMPLATE);
        return outcomes;
    }
}
