import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue 17, point 6: a night of workflows/pg-backup-fleet.yml, run here the way GitHub would run it. The fleet is 34
 * Neon databases in 14 projects of the Neon API emulator: 32 real databases on the test cluster (each with its own
 * owner role and password), one whose host does not resolve (unreachable) and one whose password the cluster no longer
 * takes. The plan job discovers them and cuts 4 shards; the 4 legs run as separate processes, two at a time, each with
 * its own runner directory, fetching their URIs from the emulator; artifacts pass between jobs through a directory as
 * upload-artifact and download-artifact would; then prune, and the report. The run is red, the report names both broken
 * databases with their reasons, and every other database has a complete backup. A second night's plan chooses a drill
 * sample (the first night had no backups to choose from), and the drill job proves each.
 *
 * <p>As in {@link WorkflowRunTest}: the `uses:` steps other than the artifact ones are replaced by the environment they
 * would make (AWS credentials: the test S3 server's; the drill's service container: the test cluster).
 */
class FleetWorkflowRunTest {
    static final Path TEMPLATE = FleetWorkflowTemplateTest.TEMPLATE;
    static PgServer pg;
    static S3Server s3;
    static NeonApiEmulator neon;
    static String bucket, key, unreachable, wrongPassword;
    static final List<String> good = new ArrayList<>();
    static final List<String> databases = new ArrayList<>();
    static Path work;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PgServer.get();
        s3 = S3Server.get();
        bucket = s3.createBucket("fleet-run");
        neon = NeonApiEmulator.start(31);
        NeonApiEmulator.Org org = neon.org("acme");
        key = neon.orgKey(org);
        String run = UUID.randomUUID().toString().substring(0, 6);
        for (int p = 0; p < 12; p++) {
            NeonApiEmulator.Project project = neon.project(org, String.format("tenant-%02d", p));
            for (int d = 0; d < (p < 8 ? 3 : 2); d++) {
                String db = "fleet_" + run + "_" + p + "_" + d;
                int rows = 5 + p * 3 + d;
                project.defaultBranch().realDatabase(pg, db, "create table t (id int primary key, note text);"
                        + " insert into t select g, 'tenant " + p + "' from generate_series(1, " + rows + ") g;");
                databases.add(db);
                good.add(NeonFleet.backupName(project.id, "main", db));
            }
        }
        // One database whose endpoint does not resolve (a deleted compute, a DNS outage)...
        NeonApiEmulator.Project lost = neon.project(org, "tenant-lost");
        lost.defaultBranch().database("neondb", "neondb_owner");
        unreachable = NeonFleet.backupName(lost.id, "main", "neondb");
        // ... and one whose password was reset behind Neon's back (the URI's password no longer works).
        NeonApiEmulator.Project reset = neon.project(org, "tenant-reset");
        String db = reset.defaultBranch().realDatabase(pg, "fleet_" + run + "_reset", "create table t (id int);");
        databases.add(db);
        String owner = reset.defaultBranch().databases.get(0).owner();
        pg.sql("postgres", "alter role \"" + owner + "\" password '" + UUID.randomUUID() + "'");
        wrongPassword = NeonFleet.backupName(reset.id, "main", db);
        assertEquals(32, good.size());
        work = Files.createTempDirectory("fleet-run-");
    }

    @AfterAll
    static void tearDown() {
        if (neon != null) neon.close();
        for (String db : databases) pg.dropDatabase(db);
        PgServer.deleteTree(work);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNightOfTheFleetIsRedForTheTwoBrokenDatabasesAndBacksUpEveryOther() throws Exception {
        Map<String, Object> workflow = new Yaml().load(Files.readString(TEMPLATE));
        Map<String, Object> jobs = (Map<String, Object>) workflow.get("jobs");
        Path artifacts = Files.createDirectories(work.resolve("artifacts-night-1"));
        StringBuilder log = new StringBuilder();
        // The user's edit: 4 legs (automatic sharding puts a fleet this small in one), 2 dumps at a time per leg.
        Map<String, String> settings = Map.of("SHARDS", "4", "JOBS_PER_LEG", "2");

        // plan
        Runner plan = new Runner("plan", workflow, settings, artifacts);
        Map<String, String> planOutcomes = plan.run((Map<String, Object>) jobs.get("plan"), log);
        assertEquals("success", planOutcomes.get("plan"), log.toString());
        String matrix = plan.expressions.get("steps.plan.outputs.matrix");
        String drill = plan.expressions.get("steps.plan.outputs.drill");
        assertEquals("[]", drill, "the first night has no backup to drill yet");
        JsonNode include = Json.MAPPER.readTree(matrix).path("include");
        assertEquals(4, include.size(), matrix);
        Set<String> planned = new TreeSet<>();
        for (JsonNode leg : include) for (JsonNode n : leg.path("databases")) planned.add(n.asText());
        Set<String> all = new TreeSet<>(good);
        all.add(unreachable);
        all.add(wrongPassword);
        assertEquals(all, planned, "every database of the fleet planned, the broken ones too");
        String planFile = Files.readString(artifacts.resolve("fleet-plan/fleet-plan.json"));
        for (String secret : Secrets.all()) {
            assertFalse(matrix.contains(secret) || planFile.contains(secret), "a secret in the matrix or the plan");
        }
        assertFalse(matrix.contains("postgresql:") || planFile.contains("postgresql:"), "no URL in the matrix or the plan");

        // backup: the legs, two at a time, each its own processes and runner directory
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Map<String, String>>> legs = new ArrayList<>();
        List<StringBuilder> legLogs = Collections.synchronizedList(new ArrayList<>());
        for (JsonNode leg : include) {
            StringBuilder legLog = new StringBuilder();
            legLogs.add(legLog);
            legs.add(pool.submit(() -> {
                Runner r = new Runner("leg-" + leg.path("shard").asInt(), workflow, settings, artifacts);
                r.expressions.put("matrix.shard", leg.path("shard").asText());
                r.expressions.put("matrix.of", leg.path("of").asText());
                return r.run((Map<String, Object>) jobs.get("backup"), legLog);
            }));
        }
        Map<String, String> legOutcome = new LinkedHashMap<>();
        for (int i = 0; i < legs.size(); i++) legOutcome.put("shard " + (i + 1), legs.get(i).get().get("backup"));
        pool.shutdown();
        legLogs.forEach(log::append);
        assertTrue(legOutcome.containsValue("success"), "the legs without a broken database are green: " + legOutcome + "\n" + log);
        assertTrue(legOutcome.containsValue("failure"), "a leg with a broken database is red: " + legOutcome + "\n" + log);
        for (int shard = 1; shard <= 4; shard++) {
            assertTrue(Files.isRegularFile(artifacts.resolve("backup-shard-" + shard + "/backup-shard-" + shard + ".json")), "every leg kept its result, red or green");
        }

        // prune, then the report
        Map<String, String> pruneOutcomes = new Runner("prune", workflow, settings, artifacts).run((Map<String, Object>) jobs.get("prune"), log);
        assertEquals("success", pruneOutcomes.get("prune"), "prune runs though a leg failed: " + log);
        Runner report = new Runner("report", workflow, settings, artifacts);
        Map<String, String> reportOutcomes = report.run((Map<String, Object>) jobs.get("report"), log);
        assertEquals("failure", reportOutcomes.get("report"), "the night is red: " + log);
        String summary = Files.readString(report.summary);
        assertTrue(summary.contains("32 of 34 databases backed up, 2 failed, 0 skipped"), summary);
        String unreachableRow = row(summary, unreachable), wrongPasswordRow = row(summary, wrongPassword);
        assertTrue(unreachableRow.contains("| 69 |"), "unreachable: exit 69: " + unreachableRow);
        assertTrue(wrongPasswordRow.contains("| 77 |") && wrongPasswordRow.contains("password"), "the wrong password: exit 77: " + wrongPasswordRow);

        // What the night left: a complete backup of every other database, nothing of the two broken ones.
        FleetHistory.History history;
        try (var client = s3.s3()) {
            history = FleetHistory.read(client, bucket, "pg-backups", null, 4);
        }
        assertEquals(new TreeSet<>(good), new TreeSet<>(history.backups().keySet()), "a complete backup of each good database, and only of those");
        for (String secret : Secrets.all()) assertFalse(log.toString().contains(secret) || summary.contains(secret), "a secret in the run's output");

        // The next night's plan has backups to choose from: it drills a sample, and the drill job proves each one.
        Path artifacts2 = Files.createDirectories(work.resolve("artifacts-night-2"));
        Runner plan2 = new Runner("plan-2", workflow, settings, artifacts2);
        assertEquals("success", plan2.run((Map<String, Object>) jobs.get("plan"), log).get("plan"), log.toString());
        List<String> sample = new ArrayList<>();
        for (JsonNode n : Json.MAPPER.readTree(plan2.expressions.get("steps.plan.outputs.drill"))) sample.add(n.asText());
        assertEquals(5, sample.size(), "DRILLS_PER_NIGHT 5 (a 7th of 34 is 5 too): " + sample);
        assertTrue(good.containsAll(sample), "only databases with a complete backup are drilled: " + sample);
        Runner drillJob = new Runner("drill", workflow, settings, artifacts2);
        drillJob.expressions.put("needs.plan.outputs.drill", plan2.expressions.get("steps.plan.outputs.drill"));
        drillJob.expressions.put("join(fromJSON(needs.plan.outputs.drill), ' ')", String.join(" ", sample));
        drillJob.expressions.put("needs.plan.outputs.pg-major", "17");
        assertEquals("success", drillJob.run((Map<String, Object>) jobs.get("drill"), log).get("drill"), log.toString());
        try (var client = s3.s3()) {
            FleetHistory.History after = FleetHistory.read(client, bucket, "pg-backups", null, 4);
            for (String name : sample) {
                assertTrue(after.drills().containsKey(name) && after.drills().get(name).passed(), name + " drilled and passed: " + after.drills());
            }
            assertEquals(5, after.drills().size(), "the sample, no more: " + after.drills().keySet());
        }
    }

    static String row(String markdown, String name) {
        return markdown.lines().filter(l -> l.contains(name)).findFirst().orElseThrow(() -> new AssertionError(name + " not in the summary:\n" + markdown));
    }

    /**
     * One job on one runner: its own RUNNER_TEMP and step summary, the workflow's env with the test's settings, the
     * expressions the steps may use, and the artifact store of the run.
     */
    static final class Runner {
        final Path temp, summary, artifacts;
        final Map<String, String> env = new LinkedHashMap<>();
        final Map<String, String> expressions = new LinkedHashMap<>();

        @SuppressWarnings("unchecked")
        Runner(String name, Map<String, Object> workflow, Map<String, String> settings, Path artifacts) throws Exception {
            this.temp = Files.createDirectories(work.resolve("runner-" + name + "-" + UUID.randomUUID().toString().substring(0, 4)));
            this.summary = temp.resolve("step-summary.md");
            this.artifacts = artifacts;
            expressions.put("vars.S3_BUCKET", bucket);
            expressions.put("vars.S3_PREFIX", "");
            expressions.put("vars.AWS_REGION", S3Server.REGION);
            expressions.put("secrets.NEON_API_KEY", key);
            expressions.put("runner.temp", temp.toString());
            expressions.put("job.services.postgres.ports['5432']", String.valueOf(pg.port));
            for (String optional : List.of("secrets.DATABASES", "vars.NEON_ORG", "vars.NEON_PROJECTS", "vars.NEON_BRANCHES", "vars.NEON_DATABASES",
                    "vars.BACKUP_AGE_RECIPIENTS", "secrets.BACKUP_AGE_IDENTITY")) {
                expressions.put(optional, "");
            }
            for (var e : ((Map<String, Object>) workflow.get("env")).entrySet()) {
                env.put(e.getKey(), WorkflowRunTest.substitute(String.valueOf(e.getValue()), expressions));
            }
            env.putAll(settings);
            env.put("CATALOG_REF", Scripts.repoRoot().toString());
            env.putAll(s3.env()); // configure-aws-credentials
            env.put("NEON_API_HOST", neon.baseUrl); // the emulator instead of console.neon.tech
            Path jbang = PgTools.which("jbang", System.getenv("PATH"));
            String jbangDir = jbang != null ? jbang.getParent().toString() : Scripts.repoRoot().resolve("tools").toString();
            env.put("PATH", PgServer.findBinDir() + ":" + jbangDir + ":" + System.getenv("PATH"));
            env.put("PGPASSWORD", pg.password); // the drill's container trusts; the test cluster wants the password
            env.put("RUNNER_TEMP", temp.toString());
            env.put("GITHUB_STEP_SUMMARY", summary.toString());
            env.put("GITHUB_PATH", temp.resolve("github-path").toString());
        }

        /** The job's steps in order, as the runner would: a failed step skips the later ones that have no if:. */
        @SuppressWarnings("unchecked")
        Map<String, String> run(Map<String, Object> job, StringBuilder log) throws Exception {
            Map<String, String> outcomes = new LinkedHashMap<>();
            boolean failed = false;
            for (Map<String, Object> step : (List<Map<String, Object>>) job.get("steps")) {
                String id = String.valueOf(step.getOrDefault("id", step.get("name")));
                if (failed && step.get("if") == null) {
                    outcomes.put(id, "skipped");
                    continue;
                }
                String uses = (String) step.get("uses");
                if (uses != null) {
                    boolean artifacts = uses.startsWith("actions/upload-artifact@") || uses.startsWith("actions/download-artifact@");
                    if (!artifacts) continue; // the others: their environment is above
                    Map<String, String> with = new LinkedHashMap<>();
                    if (step.get("with") != null) {
                        for (var e : ((Map<String, Object>) step.get("with")).entrySet()) with.put(e.getKey(), WorkflowRunTest.substitute(String.valueOf(e.getValue()), expressions));
                    }
                    if (uses.startsWith("actions/upload-artifact@")) upload(with);
                    else download(with);
                    continue;
                }
                if ("pg-client".equals(id)) continue;
                Map<String, String> stepEnv = new LinkedHashMap<>(env);
                if (step.get("env") != null) {
                    for (var e : ((Map<String, Object>) step.get("env")).entrySet()) stepEnv.put(e.getKey(), WorkflowRunTest.substitute(String.valueOf(e.getValue()), expressions));
                }
                Path script = Files.createTempFile(temp, "step-", ".sh");
                Files.writeString(script, WorkflowRunTest.substitute(String.valueOf(step.get("run")), expressions), StandardCharsets.UTF_8);
                Path output = Files.createTempFile(temp, "output-", ".txt");
                stepEnv.put("GITHUB_OUTPUT", output.toString());
                PgTools.Result r = Proc.exec(List.of("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", script.toString()), stepEnv, null, 900);
                Output.record(r.stdout(), r.stderr());
                synchronized (log) {
                    log.append("== ").append(temp.getFileName()).append(" step ").append(id).append(" exit ").append(r.exitCode()).append('\n')
                            .append(r.stdout()).append(r.stderr());
                }
                WorkflowRunTest.stepOutputs(id, output, expressions);
                outcomes.put(id, r.exitCode() == 0 ? "success" : "failure");
                failed |= r.exitCode() != 0;
            }
            return outcomes;
        }

        private void upload(Map<String, String> with) throws Exception {
            Path file = Path.of(with.get("path"));
            if (!Files.isRegularFile(file)) {
                if ("error".equals(with.get("if-no-files-found"))) fail("upload-artifact: no file " + file);
                return;
            }
            Path dir = Files.createDirectories(artifacts.resolve(with.get("name")));
            Files.copy(file, dir.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        /** By name: the artifact's files into path; by pattern: each matching artifact into path/NAME/ (download-artifact's layout). */
        private void download(Map<String, String> with) throws Exception {
            Path into = Files.createDirectories(Path.of(with.get("path")));
            if (with.containsKey("name")) {
                try (var files = Files.list(artifacts.resolve(with.get("name")))) {
                    for (Path f : files.toList()) Files.copy(f, into.resolve(f.getFileName()));
                }
                return;
            }
            PathMatcher pattern = FileSystems.getDefault().getPathMatcher("glob:" + with.get("pattern"));
            try (var dirs = Files.list(artifacts)) {
                for (Path d : dirs.filter(p -> pattern.matches(p.getFileName())).toList()) {
                    Path target = Files.createDirectories(into.resolve(d.getFileName()));
                    try (var files = Files.list(d)) {
                        for (Path f : files.toList()) Files.copy(f, target.resolve(f.getFileName()));
                    }
                }
            }
        }
    }
}
