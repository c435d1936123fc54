import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * lib/FleetPlan.java (pure: shards, the 256-leg cap, balance by past size and time, the average for new databases, the
 * matrix and the plan file) and lib/FleetHistory.java (the past read from the newest complete backup in the bucket).
 */
class FleetPlanTest {
    static List<String> names(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(String.format("tenant-%04d.main.neondb", i));
        return out;
    }

    /** A skewed fleet: most databases small, some a hundred times larger (log-normal sizes), durations roughly by size. */
    static Map<String, FleetHistory.Past> skewedPast(List<String> names, long seed) { return skewedPast(names, seed, 0.6); }

    static Map<String, FleetHistory.Past> skewedPast(List<String> names, long seed, double sigma) {
        Random r = new Random(seed);
        Map<String, FleetHistory.Past> past = new HashMap<>();
        Instant t = Instant.parse("2026-11-29T02:00:00Z");
        for (String n : names) {
            long bytes = (long) (5e6 * Math.exp(r.nextGaussian() * sigma));
            double seconds = 2 + bytes / 15e6 * (0.8 + 0.4 * r.nextDouble());
            past.put(n, new FleetHistory.Past(n, t, bytes, seconds, t.minus(Duration.ofDays(30))));
        }
        return past;
    }

    static Set<String> allNames(FleetPlan.Plan p) {
        Set<String> seen = new HashSet<>();
        for (FleetPlan.Shard s : p.shards()) for (String n : s.databases()) assertTrue(seen.add(n), n + " in two shards");
        return seen;
    }

    @Test
    void neverMoreThan256LegsAndEveryDatabaseOnce() {
        List<String> fleet = names(3000);
        FleetPlan.Plan auto = FleetPlan.plan(fleet, skewedPast(fleet, 1), 0, 1, Duration.ofSeconds(1));
        assertEquals(256, auto.shards().size(), "automatic shard count capped at GitHub's 256 jobs per matrix");
        assertEquals(new HashSet<>(fleet), allNames(auto));

        Failure tooMany = assertThrows(Failure.class, () -> FleetPlan.plan(fleet, Map.of(), 257, 1, Duration.ofHours(1)));
        assertEquals(Exit.USAGE, tooMany.exitCode);
        assertTrue(tooMany.getMessage().contains("256"), tooMany.getMessage());

        assertEquals(5, FleetPlan.plan(names(5), Map.of(), 10, 1, Duration.ofHours(1)).shards().size(), "no empty leg");
        assertEquals(40, FleetPlan.plan(fleet, Map.of(), 40, 4, Duration.ofHours(1)).shards().size(), "the shard count asked for");
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetPlan.plan(List.of(), Map.of(), 1, 1, Duration.ofHours(1))).exitCode);
    }

    @Test
    void automaticShardsKeepEachLegUnderTheTarget() {
        List<String> fleet = names(600);
        Map<String, FleetHistory.Past> past = skewedPast(fleet, 2);
        double total = past.values().stream().mapToDouble(FleetHistory.Past::durationSeconds).sum();
        FleetPlan.Plan p = FleetPlan.plan(fleet, past, 0, 4, Duration.ofMinutes(10));
        assertEquals((int) Math.ceil(total / 4 / 600), p.shards().size());
        assertTrue(p.shards().stream().allMatch(s -> s.estimatedSeconds() / 4 <= 600 * 1.25), "legs near the target");
    }

    @Test
    void shardsAreBalancedByPastSizeAndTime() {
        List<String> fleet = names(3000);
        FleetPlan.Plan p = FleetPlan.plan(fleet, skewedPast(fleet, 3), 256, 4, Duration.ofHours(1));
        assertTrue(p.bySize().floor() <= 1.25, "this fleet can be balanced: " + p.bySize());
        assertTrue(p.bySize().ratio() <= 1.25, "max shard within 1.25x the mean by past size: " + p.bySize());
        assertTrue(p.byTime().ratio() <= 1.25, "and by past time: " + p.byTime());
        assertEquals(3000, p.measured());

        // Against a plan that ignores the past (names dealt in turn), the balance is what the past bought.
        long[] dealt = new long[256];
        Map<String, FleetHistory.Past> past = skewedPast(fleet, 3);
        for (int i = 0; i < fleet.size(); i++) dealt[i % 256] += past.get(fleet.get(i)).sizeBytes();
        double mean = java.util.Arrays.stream(dealt).average().orElseThrow(), max = java.util.Arrays.stream(dealt).max().orElseThrow();
        assertTrue(max / mean > p.bySize().ratio(), "round robin " + max / mean + " vs planned " + p.bySize().ratio());
    }

    @Test
    void aDatabaseHeavierThanAMeanShardHasItsOwnShardAndAWarning() {
        List<String> fleet = names(100);
        Map<String, FleetHistory.Past> past = new HashMap<>(skewedPast(fleet, 4));
        Instant t = Instant.parse("2026-11-29T02:00:00Z");
        String giant = fleet.get(17);
        past.put(giant, new FleetHistory.Past(giant, t, 200_000_000_000L, 20_000.0, t));
        FleetPlan.Plan p = FleetPlan.plan(fleet, past, 10, 1, Duration.ofHours(1));
        FleetPlan.Shard own = p.shards().stream().filter(s -> s.databases().contains(giant)).findFirst().orElseThrow();
        assertEquals(List.of(giant), own.databases(), "nothing else waits behind it");
        assertTrue(p.warnings().stream().anyMatch(w -> w.contains(giant)), p.warnings().toString());
        assertTrue(p.bySize().ratio() <= p.bySize().floor() + 1e-9, "as good as any plan can be: " + p.bySize());
        assertTrue(p.warnings().stream().anyMatch(w -> w.contains("6 h")), "a 5.6 h leg is near GitHub's job limit: " + p.warnings());
    }

    @Test
    void aNewDatabaseCountsAsTheAverage() {
        Instant t = Instant.parse("2026-11-29T02:00:00Z");
        Map<String, FleetHistory.Past> past = Map.of(
                "a", new FleetHistory.Past("a", t, 1000, 10.0, t),
                "b", new FleetHistory.Past("b", t, 3000, 30.0, t),
                "c", new FleetHistory.Past("c", t, 2000, null, t)); // no duration: by the fleet's rate (100 B/s)
        List<FleetPlan.Estimate> e = FleetPlan.estimate(List.of("a", "b", "c", "new"), past);
        FleetPlan.Estimate c = e.get(2), fresh = e.get(3);
        assertEquals(20.0, c.seconds(), 1e-9);
        assertEquals("new", fresh.name());
        assertFalse(fresh.measured());
        assertEquals(2000, fresh.bytes(), "the average size");
        assertEquals(20.0, fresh.seconds(), 1e-9, "the average time");
        assertEquals(3, FleetPlan.plan(List.of("a", "b", "c", "new"), past, 2, 1, Duration.ofHours(1)).measured());
    }

    @Test
    void theSamePastGivesTheSamePlan() {
        List<String> fleet = names(500);
        String one = FleetPlan.plan(fleet, skewedPast(fleet, 5), 20, 2, Duration.ofHours(1)).matrixJson();
        List<String> shuffled = new ArrayList<>(fleet);
        java.util.Collections.shuffle(shuffled, new Random(9));
        assertEquals(one, FleetPlan.plan(shuffled, skewedPast(fleet, 5), 20, 2, Duration.ofHours(1)).matrixJson(), "a rerun makes the same legs");
    }

    @Test
    void theMatrixHoldsNamesOnlyAndThePlanFileIdsOnly() throws Exception {
        List<String> fleet = names(300);
        FleetPlan.Plan p = FleetPlan.plan(fleet, skewedPast(fleet, 6), 7, 2, Duration.ofHours(1));
        JsonNode matrix = Json.MAPPER.readTree(p.matrixJson());
        assertEquals(List.of("include"), iterable(matrix.fieldNames()));
        assertEquals(7, matrix.get("include").size());
        Set<String> seen = new HashSet<>();
        for (JsonNode leg : matrix.get("include")) {
            assertEquals(List.of("shard", "of", "databases"), iterable(leg.fieldNames()), "nothing but the shard and its names");
            assertEquals(7, leg.get("of").asInt());
            for (JsonNode n : leg.get("databases")) seen.add(n.asText());
        }
        assertEquals(new HashSet<>(fleet), seen);
        assertFalse(p.matrixJson().contains("\n"), "one line, for $GITHUB_OUTPUT");

        Map<String, Map<String, String>> sources = new HashMap<>();
        for (String n : fleet) {
            sources.put(n, Map.of("project", n.substring(0, n.indexOf('.')), "branch", "br-x", "branchName", "main", "database", "neondb", "role", "neondb_owner"));
        }
        byte[] doc = p.documentJson(sources).getBytes(StandardCharsets.UTF_8);
        for (int shard = 1; shard <= 7; shard++) {
            FleetPlan.Leg leg = FleetPlan.readLeg(doc, shard);
            assertEquals(p.shard(shard), leg.databases());
            assertEquals(7, leg.of());
            for (String n : leg.databases()) assertEquals(sources.get(n), leg.sources().get(n));
        }
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetPlan.readLeg(doc, 8)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetPlan.readLeg("{\"shards\": 1}".getBytes(StandardCharsets.UTF_8), 1)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> FleetPlan.readLeg("not json".getBytes(StandardCharsets.UTF_8), 1)).exitCode);
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> p.shard(0)).exitCode);
    }

    static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    // ---- the past, from the bucket ----

    /** A backup of {@code size} bytes (random: no pg_dump needed to be judged complete) that took {@code seconds}. */
    static void backup(String bucket, String name, Instant at, int size, long seconds, boolean manifest) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        BackupKey key = new BackupKey("pg-backups", name, at);
        TestBackups.putObject(bucket, key.dumpKey(), bytes);
        if (!manifest) return;
        TestBackups.putManifest(bucket, key, new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, name, "db", "db.example", key.dumpKey(),
                at.toString(), at.plusSeconds(seconds).toString(), size, TestBackups.sha256(bytes), "17.2", "17.2", "custom", "gzip", null, 1, List.of(), List.of()));
    }

    @Test
    void thePastIsTheNewestCompleteBackupOfEachName() {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("fleet-history");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        backup(bucket, "alpha", now.minus(Duration.ofDays(3)), 1000, 40, true);
        backup(bucket, "alpha", now.minus(Duration.ofDays(2)), 4000, 90, true); // the newest complete one
        backup(bucket, "alpha", now.minus(Duration.ofDays(1)), 9000, 0, false); // a failed night: no manifest
        backup(bucket, "beta", now.minus(Duration.ofDays(2)), 7000, 70, true);
        BackupKey damaged = new BackupKey("pg-backups", "beta", now.minus(Duration.ofDays(1)));
        backup(bucket, "beta", damaged.startedAt(), 500, 5, true);
        TestBackups.putObject(bucket, damaged.dumpKey(), new byte[400]); // shorter than its manifest says: not complete
        backup(bucket, "gamma", now.minus(Duration.ofDays(1)), 300, 0, false); // never a complete backup
        backup(bucket, "other", now.minus(Duration.ofDays(1)), 100, 1, true); // not in the fleet asked about

        FleetHistory.History h;
        try (S3Client c = s3.s3()) {
            h = FleetHistory.read(c, bucket, "pg-backups", List.of("alpha", "beta", "gamma", "delta"), 4);
        }
        assertEquals(Set.of("alpha", "beta"), h.backups().keySet());
        FleetHistory.Past alpha = h.backups().get("alpha");
        assertEquals(4000, alpha.sizeBytes());
        assertEquals(90.0, alpha.durationSeconds(), 1e-9);
        assertEquals(now.minus(Duration.ofDays(3)), alpha.firstBackup());
        assertEquals(7000, h.backups().get("beta").sizeBytes(), "the damaged newer backup does not count");
        assertNull(h.backups().get("gamma"));

        FleetPlan.Plan p = FleetPlan.plan(List.of("alpha", "beta", "gamma", "delta"), h.backups(), 2, 1, Duration.ofHours(1));
        assertEquals(2, p.measured());
        assertEquals(Set.of("alpha", "beta", "gamma", "delta"), allNames(p));
        assertEquals(4000 + 7000 + 2 * 5500, p.shards().stream().mapToLong(FleetPlan.Shard::estimatedBytes).sum(), "the new ones count as the average");
    }

    /**
     * A directory-format backup (backup --parallel, manifest format 2) of {@code files} objects of {@code size} bytes
     * each; returns its manifest's sha256 (of the object list).
     */
    static String directoryBackup(String bucket, String name, Instant at, int files, int size, long seconds) {
        BackupKey key = new BackupKey("pg-backups", name, at);
        List<Manifest.DumpObject> objects = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            byte[] bytes = new byte[size];
            new Random(i).nextBytes(bytes);
            String file = i == 0 ? "toc.dat" : (3000 + i) + ".dat.gz";
            TestBackups.putObject(bucket, key.objectsPrefix() + file, bytes);
            objects.add(new Manifest.DumpObject(file, size, TestBackups.sha256(bytes)));
        }
        String listSha = TestBackups.sha256(Manifest.objectList(objects).getBytes(StandardCharsets.UTF_8));
        TestBackups.putManifest(bucket, key, new Manifest(Manifest.DIRECTORY_FORMAT, Version.TOOL, Version.VERSION, name, "db", "db.example", key.objectsPrefix(),
                at.toString(), at.plusSeconds(seconds).toString(), (long) files * size, listSha, "17.2", "17.2", "directory", "gzip", null, 1, List.of(), List.of(),
                null, objects));
        return listSha;
    }

    /** A directory-format backup's objects are one backup to the fleet's history, as they are to the listing. */
    @Test
    void aParallelBackupIsPastLikeAnyOther() {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("fleet-directory");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant d2 = now.minus(Duration.ofDays(2)), d1 = now.minus(Duration.ofDays(1));
        backup(bucket, "wide", d2, 1000, 10, true);
        String sha256 = directoryBackup(bucket, "wide", d1, 3, 700, 25); // the newest: parallel
        drill(bucket, "wide", d1, sha256, "passed");
        directoryBackup(bucket, "broken", d1, 3, 500, 5);
        TestBackups.deleteObject(bucket, new BackupKey("pg-backups", "broken", d1).objectsPrefix() + "3001.dat.gz"); // one object gone: not complete

        FleetHistory.History h;
        try (S3Client c = s3.s3()) {
            h = FleetHistory.read(c, bucket, "pg-backups", null, 4);
        }
        FleetHistory.Past wide = h.backups().get("wide");
        assertEquals(d1, wide.startedAt(), "the parallel backup is the newest complete one: " + wide);
        assertEquals(2100, wide.sizeBytes());
        assertEquals(25.0, wide.durationSeconds(), 1e-9);
        assertEquals(d2, wide.firstBackup());
        assertTrue(h.drills().get("wide").passed(), "a drill of the parallel backup counts: " + h.drills());
        assertNull(h.backups().get("broken"), "a parallel backup with an object missing is not complete");
    }

    /** A drill record beside {@code name}'s backup at {@code at}, saying {@code outcome} for the dump of that sha256. */
    static void drill(String bucket, String name, Instant at, String sha256, String outcome) {
        BackupKey key = new BackupKey("pg-backups", name, at);
        VerifyRecord r = new VerifyRecord(VerifyRecord.CURRENT_FORMAT, Version.TOOL, Version.VERSION, "drill", key.dumpKey(), sha256, outcome, List.of(),
                at.plusSeconds(3600).toString(), at.plusSeconds(3700).toString(), Map.of(), "17.2", "17.2", 1, 1, null, List.of());
        TestBackups.putObject(bucket, key.verifyKey(), r.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static String sha256Of(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return TestBackups.sha256(bytes);
    }

    /**
     * The last drill of a name, as the drill rotation sees it, follows the complete-backup rule: a record beside a
     * damaged backup is no drill, and a "passed" that is not of this very dump does not count as passed.
     */
    @Test
    void aDrillCountsOnlyBesideACompleteBackupAndOnlyForItsOwnDump() {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("fleet-drills");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant d3 = now.minus(Duration.ofDays(3)), d1 = now.minus(Duration.ofDays(1));
        backup(bucket, "proved", d3, 1000, 10, true);
        drill(bucket, "proved", d3, sha256Of(1000), "passed");
        backup(bucket, "damaged", d3, 1100, 10, true);
        drill(bucket, "damaged", d3, sha256Of(1100), "failed");
        backup(bucket, "damaged", d1, 1200, 10, true);
        drill(bucket, "damaged", d1, sha256Of(1200), "passed");
        TestBackups.putObject(bucket, new BackupKey("pg-backups", "damaged", d1).dumpKey(), new byte[10]); // shorter than its manifest says
        backup(bucket, "other-dump", d1, 1300, 10, true);
        drill(bucket, "other-dump", d1, sha256Of(999), "passed"); // a record of some other dump under this key

        FleetHistory.History h;
        try (S3Client c = s3.s3()) {
            h = FleetHistory.read(c, bucket, "pg-backups", null, 4);
        }
        assertTrue(h.drills().get("proved").passed());
        assertEquals(d3.plusSeconds(3700), h.drills().get("proved").at());
        FleetHistory.LastDrill damaged = h.drills().get("damaged");
        assertEquals(d3.plusSeconds(3700), damaged.at(), "the record beside the damaged backup is not its last drill: " + damaged);
        assertFalse(damaged.passed());
        assertFalse(h.drills().get("other-dump").passed(), "a passed record of another dump vouches for nothing");
    }
}
