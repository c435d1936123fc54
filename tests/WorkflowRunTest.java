import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Runs the template's `run:` steps, in order, with bash, on this machine, the way a GitHub runner would:
 * against the test PostgreSQL and a private moto, with the credentials of the role setup-aws.java created
 * (obtained with AssumeRoleWithWebIdentity, as configure-aws-credentials does) and `jbang` resolving the
 * catalog alias to this checkout. The `uses:` steps are replaced by the environment they would produce, and the
 * apt step (pg-client) by the local PostgreSQL client tools. Then asserts what a night should leave: a backup
 * with its manifest, prune applied, and a passed drill record.
 *
 * What this cannot check: GitHub's expression engine (we substitute the few expressions the template uses and
 * fail on any other), the OIDC trust conditions (moto accepts any token), the service container (the drill
 * runs against the test server instead).
 */
class WorkflowRunTest {
    static final Path TEMPLATE = Scripts.repoRoot().resolve("workflows/pg-backup.yml");
    static final String BUCKET = "workflow-run-backups";
    static PrivateMoto moto;
    static PgServer pg;
    static String database, secondDatabase;
    static Path runner;

    @BeforeAll
    static void setUp() throws Exception {
        pg = PgServer.get();
        S3Server.get(); // default test credentials for in-process runs
        moto = PrivateMoto.start();
        Scripts.Run setup = Scripts.run(new SetupAws(), "--endpoint-url", moto.endpoint, "--region", S3Server.REGION,
                "--bucket", BUCKET, "--github-repo", "octo-org/app");
        assertEquals(0, setup.exit(), setup.toString());
        database = SampleDatabase.create(pg, "workflow_src");
        secondDatabase = SampleDatabase.create(pg, "workflow_src");
        runner = Files.createTempDirectory("runner-");
    }

    @AfterAll
    static void tearDown() {
        if (moto != null) moto.close();
        if (database != null) pg.dropDatabase(database);
        if (secondDatabase != null) pg.dropDatabase(secondDatabase);
        PgServer.deleteTree(runner);
    }

    /** What the repository's variables and secrets would provide, with every optional one unset. */
    static Map<String, String> expressions() {
        Map<String, String> expressions = new LinkedHashMap<>();
        expressions.put("vars.S3_BUCKET", BUCKET);
        expressions.put("vars.S3_PREFIX", "");
        expressions.put("vars.AWS_REGION", S3Server.REGION);
        expressions.put("secrets.DATABASE_URL", pg.url(database));
        expressions.put("secrets.DATABASES", "");
        expressions.put("job.services.postgres.ports['5432']", String.valueOf(pg.port));
        for (String optional : List.of("vars.BACKUP_AGE_RECIPIENTS", "secrets.BACKUP_AGE_IDENTITY", "vars.BACKUP_NAME", "vars.DRILL_NAME")) expressions.put(optional, "");
        return expressions;
    }

    /** Each night starts from an empty bucket, so what it leaves is all there is. */
    static void emptyBucket() {
        try (var s3 = moto.s3()) {
            for (var o : s3.listObjectsV2(b -> b.bucket(BUCKET)).contents()) s3.deleteObject(b -> b.bucket(BUCKET).key(o.key()));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNightOfTheTemplateLeavesAVerifiedBackup() throws Exception {
        emptyBucket();
        Map<String, Object> workflow = new Yaml().load(Files.readString(TEMPLATE));
        Map<String, Object> jobs = (Map<String, Object>) workflow.get("jobs");
        Map<String, String> expressions = expressions();
        Map<String, String> env = runnerEnv(workflow, expressions);

        StringBuilder log = new StringBuilder();
        // The backup step runs under IAM enforcement, with the role's permissions only. Prune and the drill list
        // PREFIX/, and moto under enforcement rejects every listing with an encoded '/' in the prefix (it checks
        // the signature against a decoded URL; real S3 does not): those steps run with enforcement off, and
        // setup-aws's least-privilege test covers what the role may list and delete.
        moto.enforceIam();
        Map<String, String> backupOutcomes = runJob((Map<String, Object>) jobs.get("backup"), env, expressions, log);
        assertEquals("success", backupOutcomes.get("backup"), log.toString());
        assertEquals("success", backupOutcomes.get("prune"), log.toString());
        // The drill job's condition: !cancelled() && needs.backup.outputs.backup-outcome == 'success'
        String drillIf = String.valueOf(((Map<String, Object>) jobs.get("drill")).get("if"));
        assertTrue(drillIf.contains("needs.backup.outputs.backup-outcome == 'success'"), drillIf);
        Map<String, String> drillOutcomes = runJob((Map<String, Object>) jobs.get("drill"), env, expressions, log);
        assertEquals("success", drillOutcomes.get("drill"), log.toString());

        // What the night left in the bucket: one complete backup, drilled and passed.
        List<String> keys;
        try (var s3 = moto.s3()) {
            keys = s3.listObjectsV2(b -> b.bucket(BUCKET)).contents().stream().map(o -> o.key()).sorted().toList();
            String verifyKey = keys.stream().filter(k -> k.endsWith(".verify.json")).findFirst().orElseThrow(() -> new AssertionError(keys.toString()));
            String record = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(verifyKey)).asUtf8String();
            assertEquals("passed", Json.MAPPER.readTree(record).get("outcome").asText(), record);
        }
        String name = BackupKey.sanitizeName(database);
        assertEquals(3, keys.size(), keys.toString());
        assertTrue(keys.stream().anyMatch(k -> k.startsWith("pg-backups/" + name + "/") && k.endsWith(".manifest.json")), keys.toString());
        assertTrue(log.toString().contains("prune s3://" + BUCKET + "/pg-backups/"), log.toString());
        String summaryText = Files.readString(runner.resolve("step-summary.md"));
        assertTrue(summaryText.contains(name), summaryText);
        assertTrue(!summaryText.contains(pg.password) && !log.toString().contains(pg.password), "the password leaked into the run's output");
    }

    /**
     * Issue 17, point 4: a fleet with one broken URL (a wrong password) is backed up, pruned and drilled for every
     * other database, and the run is red. Before, exit 3 skipped prune and the drill: one broken database stopped
     * every other database's prune and drill, every night.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aPartialNightStillPrunesAndDrillsTheOthersAndIsRed() throws Exception {
        emptyBucket();
        Map<String, Object> workflow = new Yaml().load(Files.readString(TEMPLATE));
        Map<String, Object> jobs = (Map<String, Object>) workflow.get("jobs");
        Map<String, String> expressions = expressions();
        String wrongPassword = "postgresql://" + ConnInfo.encode(pg.user) + ":not-the-password@" + pg.host + ":" + pg.port + "/" + database;
        expressions.put("secrets.DATABASE_URL", "");
        expressions.put("secrets.DATABASES", "good=" + pg.url(database) + "\nbroken=" + wrongPassword + "\n");
        expressions.put("vars.DRILL_NAME", "good");
        Map<String, String> env = runnerEnv(workflow, expressions);
        StringBuilder log = new StringBuilder();
        Map<String, String> backupOutcomes = runJob((Map<String, Object>) jobs.get("backup"), env, expressions, log);
        assertEquals("success", backupOutcomes.get("backup"), "partial is not the step's failure: " + log);
        assertEquals("3", expressions.get("steps.backup.outputs.exit-code"), log.toString());
        assertEquals("success", backupOutcomes.get("prune"), "prune runs on a partial night: " + log);
        assertEquals("failure", backupOutcomes.get("partial"), "and the job is red at its end: " + log);
        assertTrue(log.toString().contains("Some databases were not backed up (exit 3, partial)"), log.toString());
        Map<String, String> drillOutcomes = runJob((Map<String, Object>) jobs.get("drill"), env, expressions, log);
        assertEquals("success", drillOutcomes.get("drill"), "the drill runs on a partial night: " + log);
        try (var s3 = moto.s3()) {
            List<String> keys = s3.listObjectsV2(b -> b.bucket(BUCKET)).contents().stream().map(o -> o.key()).sorted().toList();
            assertTrue(keys.stream().anyMatch(k -> k.startsWith("pg-backups/good/") && k.endsWith(".verify.json")), keys.toString());
            assertTrue(keys.stream().noneMatch(k -> k.startsWith("pg-backups/broken/")), keys.toString());
        }
    }

    /**
     * The header's matrix recipe, applied (WorkflowTemplateTest.withMatrixRecipe), one leg after the other: each
     * source's backups land under the leg's own name (BACKUP_NAME → --name), and the last leg's drill proves its own
     * name's backup (DRILL_NAME → --name) though two names share the prefix. (Prune, and the first leg's drill, are
     * left out: they add minutes and nothing the matrix changes.)
     */
    @Test
    @SuppressWarnings("unchecked")
    void aMatrixNightKeepsOneHistoryPerSourceAndDrillsEach() throws Exception {
        emptyBucket();
        Map<String, Object> workflow = WorkflowTemplateTest.withMatrixRecipe();
        Map<String, Object> jobs = (Map<String, Object>) workflow.get("jobs");
        List<Map<String, Object>> legs = (List<Map<String, Object>>) ((Map<String, Object>) WorkflowTemplateTest.matrixStrategy().get("matrix")).get("include");
        assertEquals(2, legs.size(), legs.toString());
        List<String> sources = List.of(database, secondDatabase);
        StringBuilder log = new StringBuilder();
        Map<String, String> expressions = null;
        Map<String, String> env = null;
        for (int i = 0; i < legs.size(); i++) {
            expressions = expressions();
            expressions.put("matrix.name", String.valueOf(legs.get(i).get("name")));
            expressions.put("secrets[matrix.secret]", pg.url(sources.get(i)));
            env = runnerEnv(workflow, expressions);
            moto.enforceIam();
            Map<String, String> backupOutcomes = runJob((Map<String, Object>) jobs.get("backup"), env, expressions, log, Set.of("trust", "backup"));
            assertEquals("success", backupOutcomes.get("backup"), log.toString());
        }
        Map<String, String> drillOutcomes = runJob((Map<String, Object>) jobs.get("drill"), env, expressions, log, Set.of("trust", "drill"));
        assertEquals("success", drillOutcomes.get("drill"), log.toString());
        String drilled = String.valueOf(legs.get(legs.size() - 1).get("name"));
        try (var s3 = moto.s3()) {
            List<String> keys = s3.listObjectsV2(b -> b.bucket(BUCKET)).contents().stream().map(o -> o.key()).sorted().toList();
            for (Map<String, Object> leg : legs) {
                String name = String.valueOf(leg.get("name"));
                List<String> own = keys.stream().filter(k -> k.startsWith("pg-backups/" + name + "/" + name + "_")).toList();
                assertEquals(name.equals(drilled) ? 3 : 2, own.size(), name + ": a dump, its manifest (and the drilled one its record) in " + keys);
                if (!name.equals(drilled)) continue;
                String verifyKey = own.stream().filter(k -> k.endsWith(".verify.json")).findFirst().orElseThrow();
                String record = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(verifyKey)).asUtf8String();
                assertEquals("passed", Json.MAPPER.readTree(record).get("outcome").asText(), record);
            }
            assertEquals(5, keys.size(), "nothing under the database names: " + keys);
        }
    }

    /** The runner's environment: the workflow's env, configure-aws-credentials, setup-jbang, the GITHUB_* files. */
    @SuppressWarnings("unchecked")
    static Map<String, String> runnerEnv(Map<String, Object> workflow, Map<String, String> expressions) {
        String roleArn = "arn:aws:iam::123456789012:role/pgdump-s3-" + BUCKET;
        Map<String, String> env = new LinkedHashMap<>();
        for (var e : ((Map<String, Object>) workflow.get("env")).entrySet()) env.put(e.getKey(), substitute(String.valueOf(e.getValue()), expressions));
        env.put("CATALOG_REF", Scripts.repoRoot().toString()); // the catalog at this checkout instead of OWNER/REPO/TAG
        env.putAll(moto.env(moto.assumeRoleWithWebIdentity(roleArn)));  // configure-aws-credentials

        Path jbang = PgTools.which("jbang", System.getenv("PATH"));
        String jbangDir = jbang != null ? jbang.getParent().toString() : Scripts.repoRoot().resolve("tools").toString();
        env.put("PATH", PgServer.findBinDir() + ":" + jbangDir + ":" + System.getenv("PATH")); // setup-jbang, the pg-client step
        env.put("PGPASSWORD", pg.password); // the drill's service container trusts; our test server wants the password
        env.put("RUNNER_TEMP", runner.toString());
        Path summary = runner.resolve("step-summary.md");
        env.put("GITHUB_STEP_SUMMARY", summary.toString());
        env.put("GITHUB_PATH", runner.resolve("github-path").toString());
        env.put("GITHUB_OUTPUT", runner.resolve("github-output").toString());
        return env;
    }

    /** Runs a job's steps like the runner: `run:` steps with bash -e -o pipefail, stopping at the first failure. */
    @SuppressWarnings("unchecked")
    static Map<String, String> runJob(Map<String, Object> job, Map<String, String> env, Map<String, String> expressions, StringBuilder log) throws Exception {
        return runJob(job, env, expressions, log, null);
    }

    /** The same, for the steps whose ids are in {@code only} (all when null). */
    @SuppressWarnings("unchecked")
    static Map<String, String> runJob(Map<String, Object> job, Map<String, String> env, Map<String, String> expressions, StringBuilder log,
            Set<String> only) throws Exception {
        Map<String, String> outcomes = new LinkedHashMap<>();
        boolean failed = false;
        for (Map<String, Object> step : (List<Map<String, Object>>) job.get("steps")) {
            String id = String.valueOf(step.getOrDefault("id", step.get("name")));
            if (step.containsKey("uses") || "pg-client".equals(id)) continue; // replaced by the environment above
            if (only != null && !only.contains(id)) continue;
            if (failed && step.get("if") == null) { outcomes.put(id, "skipped"); continue; }
            assertEquals("bash", step.get("shell"), "step " + id + " must say shell: bash");
            Map<String, String> stepEnv = new LinkedHashMap<>(env);
            if (step.get("env") != null) {
                for (var e : ((Map<String, Object>) step.get("env")).entrySet()) stepEnv.put(e.getKey(), substitute(String.valueOf(e.getValue()), expressions));
            }
            Path script = Files.createTempFile(runner, "step-", ".sh");
            Files.writeString(script, substitute(String.valueOf(step.get("run")), expressions), StandardCharsets.UTF_8);
            Path output = Files.createTempFile(runner, "output-", ".txt"); // the runner gives each step a fresh one
            stepEnv.put("GITHUB_OUTPUT", output.toString());
            PgTools.Result r = Proc.exec(List.of("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", script.toString()), stepEnv, null, 900);
            Output.record(r.stdout(), r.stderr());
            stepOutputs(id, output, expressions);
            log.append("== step ").append(id).append(" exit ").append(r.exitCode()).append('\n').append(r.stdout()).append(r.stderr());
            outcomes.put(id, r.exitCode() == 0 ? "success" : "failure");
            if (id.equals("backup")) moto.relaxIam();
            failed |= r.exitCode() != 0;
        }
        return outcomes;
    }

    /** What a step wrote to $GITHUB_OUTPUT (NAME=VALUE lines) becomes ${{ steps.ID.outputs.NAME }} for the steps after it. */
    static void stepOutputs(String id, Path output, Map<String, String> expressions) throws java.io.IOException {
        for (String line : Files.readAllLines(output, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) expressions.put("steps." + id + ".outputs." + line.substring(0, eq), line.substring(eq + 1));
        }
    }

    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{\\{\\s*(.*?)\\s*}}");

    /**
     * Replaces the template's ${{ ... }} expressions by their values here; an unknown one fails the test. `a || b`
     * is GitHub's: the first operand that is not empty ('...' a literal).
     */
    static String substitute(String text, Map<String, String> expressions) {
        Matcher m = EXPRESSION.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = expressions.get(m.group(1));
            if (value == null && m.group(1).contains("||")) {
                value = "";
                for (String operand : m.group(1).split("\\|\\|")) {
                    String o = operand.strip();
                    String v = o.matches("'[^']*'") ? o.substring(1, o.length() - 1) : expressions.get(o);
                    if (v == null) fail("the template uses an expression this test does not provide: ${{ " + o + " }} in ${{ " + m.group(1) + " }}");
                    if (!v.isEmpty()) { value = v; break; }
                }
            }
            if (value == null) fail("the template uses an expression this test does not provide: ${{ " + m.group(1) + " }}");
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
