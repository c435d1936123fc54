import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * backup plan and backup --fleet-plan --shard with a databases file: the plan holds names only, a leg backs up its
 * shard's databases (found in the file by name) and no other, and a database the file no longer has fails alone.
 * (The Neon API path runs end to end in FleetWorkflowRunTest.)
 */
class FleetLegTest {
    static PgServer pg;
    static S3Server s3;
    static final List<String> databases = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        for (int i = 0; i < 3; i++) databases.add(SampleDatabase.create(pg, "fleet_leg"));
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    static List<String> storage(String bucket) { return List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION); }

    static String[] args(String bucket, String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.addAll(storage(bucket));
        return a.toArray(new String[0]);
    }

    @Test
    void aFilePlanHoldsNamesOnlyAndEachLegBacksUpItsOwnShard(@TempDir Path dir) throws Exception {
        String bucket = s3.createBucket("fleet-leg");
        Path fleet = dir.resolve("fleet.txt");
        Files.writeString(fleet, "one=" + pg.url(databases.get(0)) + "\ntwo=" + pg.url(databases.get(1)) + "\nthree=" + pg.url(databases.get(2)) + "\n");
        Path planFile = dir.resolve("plan/fleet-plan.json");
        Scripts.Run plan = Scripts.run(new Backup(), args(bucket, "plan", "--databases-file", fleet.toString(), "--shards", "2",
                "--plan-file", planFile.toString(), "--json"));
        assertEquals(0, plan.exit(), plan.toString());
        String doc = Files.readString(planFile);
        assertFalse(doc.contains("postgresql") || doc.contains(pg.password) || plan.out().contains(pg.password), "names only:\n" + doc);
        JsonNode json = Json.MAPPER.readTree(plan.out());
        assertEquals(3, json.path("databases").asInt());
        assertEquals(2, json.path("shards").size());
        assertEquals(List.of(), List.copyOf(iterate(json.path("drill"))), "nothing to drill before the first backup");

        Set<String> backedUp = new TreeSet<>();
        for (int shard = 1; shard <= 2; shard++) {
            List<String> names = iterate(json.path("shards").get(shard - 1).path("databases"));
            Scripts.Run leg = Scripts.run(new Backup(), args(bucket, "--fleet-plan", planFile.toString(), "--shard", String.valueOf(shard),
                    "--databases-file", fleet.toString(), "--jobs", "2", "--json"));
            assertEquals(0, leg.exit(), leg.toString());
            List<String> done = iterate(Json.MAPPER.readTree(leg.out()).path("backups"), "name");
            assertEquals(new TreeSet<>(names), new TreeSet<>(done), "shard " + shard + " backs up its own databases, no other");
            backedUp.addAll(done);
        }
        assertEquals(Set.of("one", "two", "three"), backedUp);

        // The next night's plan has backups to drill; and a database dropped from the file since the plan fails alone.
        Scripts.Run again = Scripts.run(new Backup(), args(bucket, "plan", "--databases-file", fleet.toString(), "--shards", "1",
                "--plan-file", planFile.toString(), "--json"));
        assertEquals(0, again.exit(), again.toString());
        JsonNode second = Json.MAPPER.readTree(again.out());
        assertEquals(3, second.path("measured").asInt(), "each weighed by its backup");
        assertEquals(1, second.path("drill").size(), "--drills-per-night 1 (a 7th of 3 is 1): " + second.path("drill"));
        Files.writeString(fleet, "one=" + pg.url(databases.get(0)) + "\ntwo=" + pg.url(databases.get(1)) + "\n");
        Scripts.Run leg = Scripts.run(new Backup(), args(bucket, "--fleet-plan", planFile.toString(), "--shard", "1",
                "--databases-file", fleet.toString(), "--json"));
        assertEquals(Exit.PARTIAL, leg.exit(), leg.toString());
        JsonNode three = null;
        for (JsonNode b : Json.MAPPER.readTree(leg.out()).path("backups")) if (b.path("name").asText().equals("three")) three = b;
        assertEquals(Exit.USAGE, three.path("exitCode").asInt(), three.toString());
        assertTrue(three.path("error").asText().contains("not in the databases file"), three.toString());
    }

    @Test
    void usageErrorsOfALeg(@TempDir Path dir) throws Exception {
        String bucket = s3.createBucket("fleet-leg-usage");
        Path fleet = dir.resolve("fleet.txt");
        Files.writeString(fleet, "one=" + pg.url(databases.get(0)) + "\n");
        Path planFile = dir.resolve("fleet-plan.json");
        assertEquals(0, Scripts.run(new Backup(), args(bucket, "plan", "--databases-file", fleet.toString(), "--plan-file", planFile.toString())).exit());
        record Case(String why, String[] args, String message) {}
        for (Case c : List.of(
                new Case("--shard alone", args(bucket, "--shard", "1", "--databases-file", fleet.toString()), "--shard goes with --fleet-plan"),
                new Case("no --shard", args(bucket, "--fleet-plan", planFile.toString(), "--databases-file", fleet.toString()), "needs --shard"),
                new Case("a shard the plan has not", args(bucket, "--fleet-plan", planFile.toString(), "--shard", "2", "--databases-file", fleet.toString()),
                        "shard 2 does not exist"),
                new Case("a file plan without the file", args(bucket, "--fleet-plan", planFile.toString(), "--shard", "1"), "give the same --databases-file"),
                new Case("plan: neither source", args(bucket, "plan", "--plan-file", planFile.toString()), "--neon"),
                new Case("plan: Neon selectors without --neon", args(bucket, "plan", "--databases-file", fleet.toString(), "--neon-project", "x"),
                        "go with --neon"))) {
            Scripts.Run run = Scripts.run(new Backup(), c.args());
            assertEquals(Exit.USAGE, run.exit(), c.why() + ": " + run);
            assertTrue(run.err().contains(c.message()), c.why() + ": " + run.err());
        }
    }

    static List<String> iterate(JsonNode array) { return iterate(array, null); }

    static List<String> iterate(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : array) out.add(field == null ? n.asText() : n.path(field).asText());
        return out;
    }
}
