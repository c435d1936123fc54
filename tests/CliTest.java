import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every script answers --help and --version, lists the exit codes, rejects bad usage with 64, and prints the same
 * --json envelope (ok first, exitCode second) whether it succeeds or fails.
 */
class CliTest {
    /** name, a fresh command, and the arguments that make an otherwise valid invocation of it. */
    record Script(String name, Supplier<Object> command, List<String> validArgs) {
        @Override public String toString() { return name; }
    }

    static Stream<Script> scripts() {
        return Stream.of(new Script("backup", Backup::new, List.of("--database-url", "postgresql://u@h/db")),
                new Script("prune", Prune::new, List.of("--keep-days", "7")),
                new Script("restore", Restore::new, List.of("--target-url", "postgresql://u@h/db2")),
                new Script("setup-aws", SetupAws::new, List.of("--github-repo", "o/r")));
    }

    @ParameterizedTest(name = "{0} --help lists the exit codes")
    @MethodSource("scripts")
    void helpListsExitCodes(Script script) {
        Scripts.Run run = Scripts.run(script.command().get(), "--help");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().startsWith("Usage: " + script.name()), run.out());
        for (String code : List.of("64", "65", "69", "77", "78")) assertTrue(run.out().contains("\n  " + code + " "), "exit code " + code + " in help:\n" + run.out());
    }

    @ParameterizedTest(name = "{0} --version")
    @MethodSource("scripts")
    void version(Script script) {
        Scripts.Run run = Scripts.run(script.command().get(), "--version");
        assertEquals(0, run.exit());
        assertTrue(run.out().startsWith(Version.TOOL + " " + Version.VERSION), run.out());
    }

    @ParameterizedTest(name = "{0} rejects an unknown option with 64")
    @MethodSource("scripts")
    void unknownOption(Script script) {
        Scripts.Run run = Scripts.run(script.command().get(), "--no-such-option");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("--no-such-option"), run.err());
    }

    @ParameterizedTest(name = "{0} --json: a usage error still prints one JSON document on stdout")
    @MethodSource("scripts")
    void usageErrorWithJsonIsADocument(Script script) throws Exception {
        Scripts.Run run = Scripts.run(script.command().get(), "--json", "--no-such-option");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        var doc = Json.MAPPER.readTree(run.out());
        assertEquals(false, doc.get("ok").asBoolean(true), run.out());
        assertEquals(Exit.USAGE, doc.get("error").get("exitCode").asInt(), run.out());
        assertTrue(doc.get("error").get("message").asText().contains("--no-such-option"), run.out());
        assertTrue(run.err().contains("--no-such-option"), "the human line stays on stderr: " + run.err());
    }

    @ParameterizedTest(name = "{0} --json: an invalid bucket name is one error document, exit 64")
    @MethodSource("scripts")
    void invalidInputWithJsonIsADocument(Script script) throws Exception {
        List<String> args = new java.util.ArrayList<>(script.validArgs());
        args.addAll(List.of("--bucket", "Not_A_Bucket!", "--json"));
        Scripts.Run run = Scripts.run(script.command().get(), args.toArray(String[]::new));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        var doc = Json.MAPPER.readTree(run.out());
        assertEquals(Exit.USAGE, doc.get("error").get("exitCode").asInt(), run.out());
        assertTrue(doc.get("error").get("message").asText().contains("invalid bucket name"), run.out());
    }

    @ParameterizedTest(name = "{0} rejects an invalid bucket name with one line and 64")
    @MethodSource("scripts")
    void invalidBucket(Script script) {
        List<String> args = new java.util.ArrayList<>(script.validArgs());
        args.addAll(List.of("--bucket", "Not_A_Bucket!"));
        Scripts.Run run = Scripts.run(script.command().get(), args.toArray(String[]::new));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("invalid bucket name"), run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
    }

    /** The servers a real --json run needs, started only by the tests that use them. */
    static final class Fixture {
        static final List<String> DATABASES = new ArrayList<>();
        final PgServer pg = PgServer.get();
        final S3Server s3 = S3Server.get();

        /** A fresh bucket, as the storage options that point a script at it. */
        List<String> storage(String bucketPrefix) {
            return List.of("--bucket", s3.createBucket(bucketPrefix), "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
        }

        /** A fresh database with one small table, dropped after the class. */
        String database(String prefix) {
            String db = pg.createDatabase(prefix);
            DATABASES.add(db);
            pg.sql(db, "create table t as select g from generate_series(1, 100) g");
            return db;
        }
    }

    @AfterAll
    static void dropDatabases() {
        for (String db : Fixture.DATABASES) PgServer.get().dropDatabase(db);
    }

    /** A script's --json run that succeeds, and one that fails after its options were accepted: each script adds its row. */
    record JsonRuns(String name, Supplier<Object> command, Function<Fixture, List<String>> succeeding, Function<Fixture, List<String>> failing) {
        @Override public String toString() { return name; }
    }

    static Stream<JsonRuns> jsonRuns() {
        return Stream.of(new JsonRuns("backup", Backup::new,
                f -> with(f.storage("cli-backup"), "--json", "--database-url", f.pg.url(f.database("cli_backup"))),
                f -> with(f.storage("cli-backup-fails"), "--json", "--database-url", f.pg.url("cli_no_such_database"))),
                // prune: an empty bucket keeps everything; a --name with no complete backup under --max-age is reported, then exit 1.
                new JsonRuns("prune", Prune::new,
                        f -> with(f.storage("cli-prune"), "--json", "--keep-days", "7"),
                        f -> with(f.storage("cli-prune-fails"), "--json", "--keep-days", "7", "--max-age", "1d", "--name", "app")),
                // setup-aws: a dry run plans; --object-lock-days on a bucket made without Object Lock stops while planning (78).
                new JsonRuns("setup-aws", SetupAws::new,
                        f -> with(f.storage("cli-setup"), "--json", "--dry-run", "--github-repo", "octo-org/app"),
                        f -> with(f.storage("cli-setup-fails"), "--json", "--dry-run", "--github-repo", "octo-org/app", "--object-lock-days", "7")));
    }

    @ParameterizedTest(name = "{0} --json: ok first, exitCode second, on success and on failure")
    @MethodSource("jsonRuns")
    void jsonEnvelope(JsonRuns runs) throws Exception {
        Fixture fixture = new Fixture();
        Scripts.Run success = Scripts.run(runs.command().get(), runs.succeeding().apply(fixture).toArray(String[]::new));
        assertEquals(Exit.OK, success.exit(), success.toString());
        assertEnvelope(success, true);
        Scripts.Run failure = Scripts.run(runs.command().get(), runs.failing().apply(fixture).toArray(String[]::new));
        assertTrue(failure.exit() != Exit.OK, failure.toString());
        assertEnvelope(failure, false);
    }

    /** One JSON document on stdout whose first field is ok (true only for exit 0) and whose second is exitCode (the exit status). */
    static void assertEnvelope(Scripts.Run run, boolean ok) throws Exception {
        var doc = Json.MAPPER.readTree(run.out());
        Iterator<String> fields = doc.fieldNames();
        assertEquals("ok", fields.next(), run.out());
        assertEquals("exitCode", fields.next(), run.out());
        assertEquals(ok, doc.get("ok").asBoolean(!ok), run.out());
        assertEquals(run.exit(), doc.get("exitCode").asInt(), run.out());
    }

    static List<String> with(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void prefixWithDotDotIsRejected() {
        Scripts.Run run = Scripts.run(new Prune(), "--bucket", "my-bucket", "--prefix", "a/../b", "--keep-days", "3");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("'..'"), run.err());
    }

    @Test
    void badDatabaseUrlNeverEchoesThePassword() {
        Scripts.Run run = Scripts.run(new Backup(), "--bucket", "my-bucket", "--database-url", "mysql://bob:hunter2@db/x");
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("not a PostgreSQL URL"), run.err());
        assertTrue(!run.err().contains("hunter2"), run.err());
    }

    @Test
    void settingsComeFromTheEnvironment() throws Exception {
        // A child JVM, because environment variables cannot be set in-process.
        Scripts.Run run = Scripts.runProcess("Prune", java.util.Map.of("S3_BUCKET_NAME", "Bad_Bucket", "RETENTION", "7"));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("'Bad_Bucket'"), run.err());
    }
}
