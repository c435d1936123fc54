import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Only complete backups count (issue 15): real pg_dump backups, and beside them the objects that once made prune
 * delete them and restore pick the wrong thing: a phantom manifest (no dump) with a forged "passed" verify record, one
 * dated 2099, one that is not JSON, one that names another backup's dump, one whose dumpKey climbs out with '..', one
 * whose dump has another size, and keys with impossible dates. And copies: a backup copied to another prefix and to
 * another bucket is the same backup, restorable there (issue 14 item 5). Real PostgreSQL, the S3 emulator, the
 * scripts in-process; only the CLI and the bucket are looked at.
 */
class CompleteBackupsTest {
    static PgServer pg;
    static S3Server s3;
    static final List<String> databases = new ArrayList<>();
    static final String PREFIX = "pg-backups";
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    static final Instant OLDER = NOW.minus(Duration.ofDays(3));
    static final Instant NEWER = NOW.minus(Duration.ofDays(2));

    @BeforeAll
    static void start() {
        pg = PgServer.get();
        s3 = S3Server.get();
    }

    @AfterAll
    static void cleanUp() {
        for (String db : databases) pg.dropDatabase(db);
    }

    static String markedDatabase(int marker) {
        String db = pg.createDatabase("complete_marked");
        databases.add(db);
        pg.sql(db, "create table marker (v int); insert into marker values (" + marker + ");"
                + " create table items (id int primary key, label text); insert into items select g, 'item ' || g from generate_series(1, 200) g; analyze;");
        return db;
    }

    static String newDatabaseName() {
        String name = "complete_restored_" + Long.toHexString(System.nanoTime());
        databases.add(name);
        return name;
    }

    static List<String> storage(String bucket, String prefix) {
        return List.of("--bucket", bucket, "--prefix", prefix, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
    }

    static Scripts.Run prune(String bucket, String... more) {
        List<String> a = new ArrayList<>(storage(bucket, PREFIX));
        a.addAll(List.of(more));
        return Scripts.run(new Prune(), a.toArray(String[]::new));
    }

    static Scripts.Run restore(String sub, String bucket, String prefix, String... more) {
        List<String> a = new ArrayList<>();
        if (sub != null) a.add(sub);
        a.addAll(storage(bucket, prefix));
        a.addAll(List.of(more));
        return Scripts.run(new Restore(), a.toArray(String[]::new));
    }

    /** restore (latest, --create) into a new database; the marker it holds. */
    static String restoredMarker(String bucket, String prefix, String... more) {
        String target = newDatabaseName();
        List<String> a = new ArrayList<>(List.of("--target-url", pg.url(target), "--create"));
        a.addAll(List.of(more));
        Scripts.Run run = restore(null, bucket, prefix, a.toArray(String[]::new));
        assertEquals(0, run.exit(), run.toString());
        return pg.sql(target, "select v from marker");
    }

    static void put(String bucket, String key, byte[] bytes) { TestBackups.putObject(bucket, key, bytes); }

    static byte[] json(Manifest m) { return m.toJson().getBytes(StandardCharsets.UTF_8); }

    static Map<String, String> objects(String bucket) { return new TreeMap<>(BucketState.of(bucket).objects()); }

    /** The same manifest naming {@code dumpKey} and claiming {@code size} bytes. */
    static Manifest naming(Manifest m, String dumpKey, long size) {
        return new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(), dumpKey, m.startedAt(), m.finishedAt(),
                size, m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(), m.encryption(), m.tocEntries(), m.tables(),
                m.pgDumpArgs(), m.source());
    }

    /** Two real backups of 'app' (marker 1 three days ago, marker 2 two days ago) and the planted objects, all newer. */
    record Planted(String bucket, TestBackups.Made older, TestBackups.Made newer, List<String> plantedDumps, List<String> impossible,
                   Map<String, String> reasons) {}

    static Planted plant(String label) {
        String bucket = s3.createBucket(label);
        TestBackups.Made older = TestBackups.create(pg, bucket, PREFIX, "app", markedDatabase(1), OLDER);
        TestBackups.Made newer = TestBackups.create(pg, bucket, PREFIX, "app", markedDatabase(2), NEWER);
        Manifest real = newer.manifest();
        byte[] dump = newer.dump();
        Map<String, String> reasons = new TreeMap<>(); // stamp -> what restore list must say
        List<String> plantedDumps = new ArrayList<>();

        // A phantom: a valid manifest, no dump; and a forged drill record that "passed" for the phantom's sha256.
        BackupKey phantom = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(1)));
        put(bucket, phantom.manifestKey(), json(naming(real, phantom.dumpKey(), dump.length)));
        put(bucket, phantom.verifyKey(), ("{\"formatVersion\":1,\"kind\":\"drill\",\"outcome\":\"passed\",\"dumpKey\":\"" + phantom.dumpKey()
                + "\",\"dumpSha256\":\"" + real.sha256() + "\",\"reasons\":[],\"finishedAt\":\"" + NOW + "\"}").getBytes(StandardCharsets.UTF_8));
        reasons.put(phantom.stamp(), "no dump");
        // Dated in the future, with a dump.
        BackupKey future = new BackupKey(PREFIX, "app", Instant.parse("2099-01-01T00:00:00Z"));
        put(bucket, future.dumpKey(), dump);
        put(bucket, future.manifestKey(), json(naming(real, future.dumpKey(), dump.length)));
        plantedDumps.add(future.dumpKey());
        reasons.put(future.stamp(), "dated in the future");
        // Not JSON, over a dump.
        BackupKey invalid = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(2)));
        put(bucket, invalid.dumpKey(), dump);
        put(bucket, invalid.manifestKey(), "{\"formatVersion\": 1, \"dumpKey\": \"pg-bac".getBytes(StandardCharsets.UTF_8));
        plantedDumps.add(invalid.dumpKey());
        reasons.put(invalid.stamp(), "manifest invalid");
        // Naming the real backup's dump (no dump of its own).
        BackupKey other = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(3)));
        put(bucket, other.manifestKey(), json(real));
        reasons.put(other.stamp(), "manifest names another dump");
        // A dumpKey that climbs out with '..', over a dump of its own.
        BackupKey dotdot = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(4)));
        put(bucket, dotdot.dumpKey(), dump);
        put(bucket, dotdot.manifestKey(), json(naming(real, PREFIX + "/app/../app/" + dotdot.dumpKey().substring(PREFIX.length() + 5), dump.length)));
        plantedDumps.add(dotdot.dumpKey());
        reasons.put(dotdot.stamp(), "manifest names another dump");
        // A dump shorter than its manifest says.
        BackupKey shorter = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(5)));
        put(bucket, shorter.dumpKey(), Arrays.copyOf(dump, dump.length - 100));
        put(bucket, shorter.manifestKey(), json(naming(real, shorter.dumpKey(), dump.length)));
        plantedDumps.add(shorter.dumpKey());
        reasons.put(shorter.stamp(), "dump size differs");
        // Impossible dates: November 31st, hour 24. Not ours at all.
        List<String> impossible = new ArrayList<>();
        for (String stamp : List.of("2026-11-31T02-00-00Z", "2026-11-23T24-00-00Z")) {
            String base = PREFIX + "/app/app_" + stamp;
            put(bucket, base + ".dump", dump);
            put(bucket, base + ".manifest.json", json(naming(real, base + ".dump", dump.length)));
            impossible.addAll(List.of(base + ".dump", base + ".manifest.json"));
        }
        return new Planted(bucket, older, newer, plantedDumps, impossible, reasons);
    }

    static void assertIntact(Planted p, Map<String, String> before, List<String> keys) {
        Map<String, String> now = objects(p.bucket());
        for (String k : keys) assertEquals(before.get(k), now.get(k), "changed or deleted: " + k);
    }

    /** --keep-last 1: the newest complete backup is the real one two days old, not any of the newer planted objects. */
    @Test
    void plantedObjectsNeverCostARealBackupWithKeepLastOne() {
        Planted p = plant("complete-keeplast");
        Map<String, String> before = objects(p.bucket());
        Scripts.Run run = prune(p.bucket(), "--keep-last", "1", "--json");
        assertEquals(0, run.exit(), run.toString());
        assertIntact(p, before, List.of(p.newer().dumpKey(), p.newer().manifestKey()));
        assertIntact(p, before, p.plantedDumps());
        assertIntact(p, before, p.impossible());
        Map<String, String> after = objects(p.bucket());
        assertFalse(after.containsKey(p.older().dumpKey()), "the older real backup goes by --keep-last 1: " + after.keySet());
        assertEquals("2", restoredMarker(p.bucket(), PREFIX), "restore picks the real newest backup");
        Scripts.Run verify = restore("verify", p.bucket(), PREFIX);
        assertEquals(0, verify.exit(), verify.toString());
        assertTrue(verify.err().contains(p.newer().key().base()), verify.err());
    }

    /** --max-age: a backup dated 2099 does not make the name look fresh; the real newest is two days old: held, nothing deleted. */
    @Test
    void plantedObjectsDoNotSatisfyMaxAge() {
        Planted p = plant("complete-maxage");
        Map<String, String> before = objects(p.bucket());
        Scripts.Run run = prune(p.bucket(), "--keep-last", "1", "--max-age", "36h");
        assertEquals(Exit.FAILED, run.exit(), run.toString());
        assertTrue(run.err().contains("the newest complete backup (" + p.newer().key().stamp() + ")"), run.err());
        assertEquals(before, objects(p.bucket()));
    }

    /** --require-verified: the forged record next to the phantom vouches for nothing; no real backup is vouched for: nothing goes. */
    @Test
    void aForgedVerifyRecordNextToAPhantomDoesNotSatisfyRequireVerified() {
        Planted p = plant("complete-verified");
        Map<String, String> before = objects(p.bucket());
        Scripts.Run run = prune(p.bucket(), "--keep-days", "0", "--require-verified");
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.out().contains("too-few-verified"), run.out());
        assertEquals(before, objects(p.bucket()));
    }

    /** restore list shows every backup with a manifest, with the reason it is not complete and the source host; impossible dates are not listed. */
    @Test
    void listSaysWhyABackupIsNotComplete() throws Exception {
        Planted p = plant("complete-list");
        Scripts.Run run = restore("list", p.bucket(), PREFIX);
        assertEquals(0, run.exit(), run.toString());
        List<String> lines = run.out().lines().toList();
        assertTrue(lines.get(0).matches("STARTED \\(UTC\\)\\s+NAME\\s+HOST\\s+SIZE\\s+.*STATUS\\s+KEY"), lines.get(0));
        String host = p.newer().manifest().host();
        for (var e : p.reasons().entrySet()) {
            String iso = BackupKey.parseStamp(e.getKey()).toString();
            String line = lines.stream().filter(l -> l.startsWith(iso)).findFirst().orElseThrow(() -> new AssertionError(iso + " not listed:\n" + run.out()));
            assertTrue(line.contains("NOT COMPLETE: " + e.getValue()), line);
        }
        String realLine = lines.stream().filter(l -> l.startsWith(p.newer().key().startedAt().toString())).findFirst().orElseThrow();
        assertTrue(realLine.contains("  complete") && realLine.contains("  " + host + "  "), realLine);
        assertFalse(run.out().contains("2026-11-31") || run.out().contains("T24-00-00Z") || run.out().contains("2026-12-01T02"), run.out());
        assertTrue(run.err().contains("6 NOT COMPLETE"), run.err());

        JsonNode doc = Json.MAPPER.readTree(restore("list", p.bucket(), PREFIX, "--json").out());
        int complete = 0;
        for (JsonNode b : doc.get("backups")) {
            if (b.get("complete").asBoolean()) {
                complete++;
                assertEquals(host, b.get("host").asText());
            } else {
                assertFalse(b.get("reason").isNull(), b.toString());
                assertFalse(b.get("verified").asBoolean(), "a record next to a backup that is not complete vouches for nothing: " + b);
            }
        }
        assertEquals(2, complete, doc.toString());
    }

    /**
     * A newer backup whose manifest has a format this version cannot read is not damage: restore (latest) does not
     * silently fall back to an older backup but says to upgrade (78); --at chooses the older one explicitly.
     */
    @Test
    void aNewerManifestFormatIsNotSkippedSilently() {
        String bucket = s3.createBucket("complete-newer-format");
        TestBackups.Made older = TestBackups.create(pg, bucket, PREFIX, "app", markedDatabase(4), NEWER);
        BackupKey newer = new BackupKey(PREFIX, "app", NOW.minus(Duration.ofHours(1)));
        put(bucket, newer.dumpKey(), older.dump());
        put(bucket, newer.manifestKey(), older.manifest().toJson().replace("\"formatVersion\" : 1", "\"formatVersion\" : 3")
                .replace(older.dumpKey(), newer.dumpKey()).getBytes(StandardCharsets.UTF_8));
        Scripts.Run run = restore(null, bucket, PREFIX, "--target-url", pg.url(newDatabaseName()), "--create");
        assertEquals(Exit.CONFIG, run.exit(), run.toString());
        assertTrue(run.err().contains("upgrade") && run.err().contains("--at"), run.err());
        assertEquals("4", restoredMarker(bucket, PREFIX, "--at", NEWER.toString()));
        Scripts.Run prune = prune(bucket, "--keep-last", "1");
        assertEquals(0, prune.exit(), prune.toString());
        assertTrue(objects(bucket).containsKey(newer.dumpKey()) && objects(bucket).containsKey(older.dumpKey()), objects(bucket).keySet().toString());
    }

    /**
     * A backup written by backup.java, copied (as `aws s3 cp --recursive` would) to another prefix of the same bucket and
     * to another bucket under two prefixes, the originals then deleted: each copy lists as complete, verifies, restores,
     * and drills, reading the dump next to its manifest.
     */
    @Test
    void copiesToAnotherPrefixAndBucketStayRestorable() throws Exception {
        String bucket = s3.createBucket("complete-copy-src");
        String db = markedDatabase(7);
        Scripts.Run backup = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", pg.url(db), "--name", "app");
        assertEquals(0, backup.exit(), backup.toString());
        String otherBucket = s3.createBucket("complete-copy-dst");
        List<String[]> copies = List.of(new String[] {bucket, "archive/2026"}, new String[] {otherBucket, PREFIX}, new String[] {otherBucket, "elsewhere"});
        try (S3Client client = s3.s3()) {
            List<S3Object> originals = client.listObjectsV2(b -> b.bucket(bucket).prefix(PREFIX + "/")).contents();
            assertEquals(2, originals.size(), originals.toString());
            for (String[] to : copies) {
                for (S3Object o : originals) {
                    String key = to[1] + o.key().substring(PREFIX.length());
                    client.copyObject(b -> b.sourceBucket(bucket).sourceKey(o.key()).destinationBucket(to[0]).destinationKey(key));
                }
            }
            for (S3Object o : originals) client.deleteObject(b -> b.bucket(bucket).key(o.key()));
        }
        for (String[] to : copies) {
            String where = to[0] + "/" + to[1];
            Scripts.Run list = restore("list", to[0], to[1], "--json");
            assertEquals(0, list.exit(), list.toString());
            JsonNode b = Json.MAPPER.readTree(list.out()).get("backups").get(0);
            assertTrue(b.get("complete").asBoolean(), where + ": " + b);
            assertTrue(b.get("dumpKey").asText().startsWith(to[1] + "/app/"), b.toString());
            Scripts.Run verify = restore("verify", to[0], to[1]);
            assertEquals(0, verify.exit(), where + ": " + verify);
            assertEquals("7", restoredMarker(to[0], to[1]), where);
        }
        Scripts.Run drill = restore("drill", otherBucket, "elsewhere", "--scratch-url", pg.url("postgres"));
        assertEquals(0, drill.exit(), drill.toString());
        JsonNode drilled = Json.MAPPER.readTree(restore("list", otherBucket, "elsewhere", "--json").out()).get("backups").get(0);
        assertTrue(drilled.get("verified").asBoolean(), drilled.toString());
    }
}
