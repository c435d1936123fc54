import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * lib/FleetReport: the legs' backup --json documents merged against the plan into one red/green fleet summary. The
 * documents are written in the shape docs/json.md gives for backup --json (the fan-out's end-to-end test feeds it
 * real ones).
 */
class FleetReportTest {
    /** A plan document of {@link FleetPlan.Plan#documentJson}'s shape, made by FleetPlan itself. */
    static JsonNode plan(List<List<String>> shards) throws Exception {
        List<String> all = shards.stream().flatMap(List::stream).toList();
        FleetPlan.Plan p = FleetPlan.plan(all, Map.of(), shards.size(), 1, java.time.Duration.ofHours(2));
        // FleetPlan balances by itself; rebuild the shards as the test wants them, keeping its document's shape.
        var doc = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(p.documentJson(Map.of()));
        var array = doc.putArray("shards");
        for (int i = 0; i < shards.size(); i++) {
            var s = array.addObject();
            s.put("shard", i + 1);
            var names = s.putArray("databases");
            shards.get(i).forEach(names::add);
        }
        return doc;
    }

    static Map<String, Object> ok(String name, long size, double seconds) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("name", name);
        b.put("status", "ok");
        b.put("dumpKey", "pg-backups/" + name + "/" + name + "_2026-11-30T03-17-00Z.dump");
        b.put("sizeBytes", size);
        b.put("durationSeconds", seconds);
        b.put("error", null);
        b.put("exitCode", 0);
        return b;
    }

    static Map<String, Object> failed(String name, int exit, String error) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("name", name);
        b.put("status", "failed");
        b.put("dumpKey", null);
        b.put("sizeBytes", null);
        b.put("durationSeconds", 1.5);
        b.put("error", error);
        b.put("exitCode", exit);
        return b;
    }

    /** A leg's document: the envelope, then backup's own fields. */
    @SafeVarargs
    static byte[] leg(Map<String, Object>... backups) {
        long failed = java.util.Arrays.stream(backups).filter(b -> !"ok".equals(b.get("status"))).count();
        int exit = failed == 0 ? 0 : failed == backups.length ? 1 : 3;
        return JsonDocument.of(exit).put("bucket", "b").put("prefix", "pg-backups").put("succeeded", backups.length - failed)
                .put("failed", failed).put("backups", List.of(backups)).toJson().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aGreenNightCountsEveryDatabaseAndItsBytes() throws Exception {
        JsonNode plan = plan(List.of(List.of("a", "b"), List.of("c")));
        Map<String, byte[]> legs = new LinkedHashMap<>();
        legs.put("backup-shard-1/backup-shard-1.json", leg(ok("a", 1000, 2.0), ok("b", 3000, 9.0)));
        legs.put("backup-shard-2/backup-shard-2.json", leg(ok("c", 500, 4.0)));
        FleetReport.Report r = FleetReport.merge(plan, legs);
        assertEquals(0, r.exitCode(), r.text());
        assertEquals(3, r.count(FleetReport.OK));
        assertEquals(4500, r.bytes());
        assertEquals(List.of("b", "c", "a"), r.slowest(5).stream().map(FleetReport.Row::name).toList(), "slowest first");
        assertEquals(2, r.rows().stream().filter(x -> x.name().equals("c")).findFirst().orElseThrow().shard());
        assertTrue(r.markdown().contains("all 3 databases backed up"), r.markdown());
        JsonNode json = Json.MAPPER.readTree(r.json().toJson());
        assertTrue(json.path("ok").asBoolean());
        assertEquals(3, json.path("backedUp").asInt());
    }

    /** A failed database and a leg that left nothing (cancelled, timed out): red, both named, the rest counted good. */
    @Test
    void aFailureAndALostLegAreBothRedAndNamed() throws Exception {
        JsonNode plan = plan(List.of(List.of("a", "broken"), List.of("c", "d"), List.of("e")));
        Map<String, byte[]> legs = new LinkedHashMap<>();
        legs.put("backup-shard-1.json", leg(ok("a", 10, 1), failed("broken", 77, "password authentication failed for user \"owner\"")));
        legs.put("backup-shard-3.json", leg(ok("e", 10, 1)));
        FleetReport.Report r = FleetReport.merge(plan, legs);
        assertEquals(Exit.PARTIAL, r.exitCode());
        assertEquals(List.of(2L, 1L, 2L), List.of(r.count(FleetReport.OK), r.count(FleetReport.FAILED), r.count(FleetReport.SKIPPED)));
        assertEquals(List.of("broken", "c", "d"), r.failures().stream().map(FleetReport.Row::name).toList(), "failures first, by name");
        String md = r.markdown(), text = r.text();
        for (String s : List.of(md, text)) {
            assertTrue(s.contains("broken") && s.contains("password authentication failed"), s);
            assertTrue(s.contains("no result from the leg of shard 2"), s);
            assertTrue(s.contains("2 of 5 databases backed up, 1 failed, 2 skipped"), s);
        }
        FleetReport.Row broken = r.failures().get(0);
        assertEquals(77, broken.exitCode());
        assertEquals(1, broken.shard());
    }

    /** A leg whose backup failed before dumping (only the error envelope): each database of its shard failed with that error. */
    @Test
    void aLegThatFailedAsAWholeFailsItsShard() throws Exception {
        JsonNode plan = plan(List.of(List.of("a", "b"), List.of("c")));
        Map<String, byte[]> legs = new LinkedHashMap<>();
        legs.put("backup-shard-1.json", JsonDocument.failure(69, "S3/AWS endpoint unreachable: connect timed out").toJson().getBytes(StandardCharsets.UTF_8));
        legs.put("backup-shard-2.json", leg(ok("c", 10, 1)));
        FleetReport.Report r = FleetReport.merge(plan, legs);
        assertEquals(Exit.PARTIAL, r.exitCode());
        for (String n : List.of("a", "b")) {
            FleetReport.Row row = r.rows().stream().filter(x -> x.name().equals(n)).findFirst().orElseThrow();
            assertEquals(FleetReport.FAILED, row.status());
            assertEquals(69, row.exitCode());
            assertTrue(row.error().contains("S3/AWS endpoint unreachable"), row.error());
        }
    }

    /** A truncated document (a leg killed while writing) is no result: its shard's databases are skipped, and it says why. */
    @Test
    void anUnreadableDocumentLeavesItsShardSkippedWithTheReason() throws Exception {
        JsonNode plan = plan(List.of(List.of("a"), List.of("b")));
        Map<String, byte[]> legs = new LinkedHashMap<>();
        legs.put("backup-shard-1.json", "{\"ok\": true, \"exitCode\": 0, \"backu".getBytes(StandardCharsets.UTF_8));
        legs.put("backup-shard-2.json", leg(ok("b", 10, 1)));
        FleetReport.Report r = FleetReport.merge(plan, legs);
        FleetReport.Row a = r.failures().get(0);
        assertEquals(List.of("a", FleetReport.SKIPPED), List.of(a.name(), a.status()));
        assertTrue(a.error().contains("backup-shard-1.json is not a backup --json document"), a.error());
        assertEquals(Exit.PARTIAL, r.exitCode());
    }

    /** A Neon project the discovery could not read is a failure of the night, though no leg ever saw it. */
    @Test
    void theDiscoverysProblemsAreFailures() throws Exception {
        var plan = (com.fasterxml.jackson.databind.node.ObjectNode) plan(List.of(List.of("a")));
        var p = plan.putArray("problems").addObject();
        p.put("what", "project lucky-cat-123456 (billing)");
        p.put("reason", "GET /projects/lucky-cat-123456/branches: 500 Internal Server Error after 8 attempts");
        p.put("exitCode", 69);
        FleetReport.Report r = FleetReport.merge(plan, Map.of("backup-shard-1.json", leg(ok("a", 10, 1))));
        assertEquals(Exit.PARTIAL, r.exitCode());
        assertTrue(r.markdown().contains("lucky-cat-123456") && r.markdown().contains("500 Internal Server Error"), r.markdown());
    }

    @Test
    void nothingBackedUpIsAFailure() throws Exception {
        JsonNode plan = plan(List.of(List.of("a"), List.of("b")));
        assertEquals(Exit.FAILED, FleetReport.merge(plan, Map.of()).exitCode());
        assertEquals(Exit.FAILED, FleetReport.merge(null, Map.of()).exitCode(), "no documents and no plan: nothing is known to be backed up");
        assertEquals(Exit.FAILED, FleetReport.merge(plan, Map.of("backup-shard-1.json", leg(failed("a", 69, "x")))).exitCode());
    }

    /** Reasons are one line, cannot break the table, and a password that slipped into one is redacted. */
    @Test
    void reasonsAreOneEscapedRedactedLine() throws Exception {
        JsonNode plan = plan(List.of(List.of("a", "b")));
        String error = "could not connect to postgresql://owner:S3cr%3Et@db.example/x | `rm -rf` <b>\nsecond line";
        FleetReport.Report r = FleetReport.merge(plan, Map.of("backup-shard-1.json", leg(ok("a", 10, 1), failed("b", 69, error))));
        String md = r.markdown();
        assertFalse(md.contains("S3cr") || r.text().contains("S3cr") || r.json().toJson().contains("S3cr"), md);
        String row = md.lines().filter(l -> l.contains("could not connect")).findFirst().orElseThrow();
        assertTrue(row.contains("\\| \\`rm -rf\\` \\<b\\> second line"), row);
    }

    /** A thousand failures do not make a summary of a thousand rows: 100 listed, the rest counted. */
    @Test
    void aLongListOfFailuresIsCutInTheSummaryButNotInTheJson() throws Exception {
        List<String> names = new ArrayList<>();
        List<Map<String, Object>> results = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            names.add(String.format("db%03d", i));
            results.add(failed(names.get(i), 69, "unreachable"));
        }
        JsonNode plan = plan(List.of(names));
        @SuppressWarnings("unchecked")
        byte[] doc = leg(results.toArray(new Map[0]));
        FleetReport.Report r = FleetReport.merge(plan, Map.of("backup-shard-1.json", doc));
        String md = r.markdown();
        assertTrue(md.contains("db099") && !md.contains("db100"), "the first 100 by name");
        assertTrue(md.contains("... and 50 more"), md);
        assertEquals(150, Json.MAPPER.readTree(r.json().toJson()).path("results").size());
    }

    /** The artifacts as download-artifact leaves them (a directory each), with the plan file among them. */
    @Test
    void readsTheDownloadedArtifacts(@TempDir Path dir) throws Exception {
        JsonNode plan = plan(List.of(List.of("a"), List.of("b")));
        Path planFile = dir.resolve("fleet-plan").resolve("fleet-plan.json");
        Files.createDirectories(planFile.getParent());
        Files.write(planFile, Json.MAPPER.writeValueAsBytes(plan));
        for (int shard = 1; shard <= 2; shard++) {
            Path f = dir.resolve("backup-shard-" + shard).resolve("backup-shard-" + shard + ".json");
            Files.createDirectories(f.getParent());
            Files.write(f, leg(ok(shard == 1 ? "a" : "b", 10, 1)));
        }
        Files.writeString(dir.resolve("notes.txt"), "not json, not ours");
        FleetReport.Report r = FleetReport.read(dir, planFile);
        assertEquals(0, r.exitCode(), r.text());
        assertEquals(2, r.rows().size());
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetReport.read(dir.resolve("missing"), planFile)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetReport.read(dir, dir.resolve("notes.txt"))).exitCode);
    }

    /** backup report: the summary on stderr, the document on stdout, and the exit code is the fleet's. */
    @Test
    void theReportCommandIsRedWhenADatabaseIsMissing(@TempDir Path dir) throws Exception {
        JsonNode plan = plan(List.of(List.of("a"), List.of("b")));
        Path planFile = dir.resolve("fleet-plan.json");
        Files.write(planFile, Json.MAPPER.writeValueAsBytes(plan));
        Path results = Files.createDirectories(dir.resolve("results"));
        Files.write(results.resolve("backup-shard-1.json"), leg(ok("a", 2048, 3)));
        Scripts.Run run = Scripts.run(new FleetReportCommand(), "--plan-file", planFile.toString(), "--json", results.toString());
        assertEquals(Exit.PARTIAL, run.exit(), run.toString());
        JsonNode doc = Json.MAPPER.readTree(run.out());
        assertEquals(List.of(false, 3, 1, 1), List.of(doc.path("ok").asBoolean(), doc.path("exitCode").asInt(), doc.path("backedUp").asInt(), doc.path("skipped").asInt()));
        assertTrue(run.err().contains("1 of 2 databases backed up, 0 failed, 1 skipped"), run.err());
        assertTrue(run.err().contains("no result from the leg of shard 2"), run.err());

        Files.write(results.resolve("backup-shard-2.json"), leg(ok("b", 10, 1)));
        Scripts.Run green = Scripts.run(new FleetReportCommand(), "--plan-file", planFile.toString(), results.toString());
        assertEquals(0, green.exit(), green.toString());
        assertEquals("", green.out(), "without --json nothing on stdout");
    }
}
