import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * backup --parallel (issue 21): pg_dump -Fd -j N streamed file by file into S3. A backup restores exactly (pg_restore
 * -Fd -j 2 from its objects gives an equal database), its manifest lists every object with the size and SHA-256 S3
 * holds, and a failure at any stage (a data file, toc.dat, the manifest, pg_dump itself) leaves no manifest, none of
 * the run's objects and an empty spool.
 */
class ParallelBackupTest {
    static PgServer pg;
    static S3Server s3;
    static String source;

    @BeforeAll
    static void sample() {
        pg = PgServer.get();
        s3 = S3Server.get();
        source = SampleDatabase.create(pg, "parallel_src");
        // Enough rows that the big tables' files are written while others are already uploaded.
        pg.sql(source, "create table public.bulk as select g as id, md5(g::text) as payload from generate_series(1, 200000) g; analyze");
    }

    @AfterAll
    static void drop() { pg.dropDatabase(source); }

    static Scripts.Run backup(String endpoint, String bucket, Path spool, String... extra) {
        List<String> args = new ArrayList<>(List.of("--database-url", pg.url(source), "--name", "big", "--bucket", bucket, "--endpoint-url", endpoint,
                "--region", S3Server.REGION, "--parallel", "2", "--spool", spool.toString()));
        args.addAll(List.of(extra));
        return Scripts.run(new Backup(), args.toArray(String[]::new));
    }

    @Test
    void aParallelBackupRoundTripsExactly() throws Exception {
        String bucket = s3.createBucket("parallel-rt");
        Path spool = Files.createTempDirectory("spool");
        Scripts.Run run = backup(s3.endpoint, bucket, spool);
        assertEquals(0, run.exit(), run.toString());
        assertTrue(run.err().contains("-Fd -j 2"), run.err());
        assertSpoolEmpty(spool);

        JsonNode m = manifest(bucket);
        assertEquals(2, m.get("formatVersion").asInt());
        assertEquals("directory", m.get("format").asText());
        String dirKey = m.get("dumpKey").asText();
        assertTrue(dirKey.endsWith("/big/big_" + m.get("startedAt").asText().replace(":", "-").replace("Z", "") + "Z.dump.d/")
                || dirKey.endsWith(".dump.d/"), dirKey);
        Map<String, byte[]> objects = download(bucket, dirKey);
        assertTrue(objects.containsKey("toc.dat"), objects.keySet().toString());
        assertEquals(objects.size(), m.get("objects").size(), m.toString());
        long total = 0;
        List<Manifest.DumpObject> listed = new ArrayList<>();
        for (JsonNode o : m.get("objects")) {
            byte[] bytes = objects.get(o.get("name").asText());
            assertNotNull(bytes, o.toString());
            assertEquals(bytes.length, o.get("sizeBytes").asLong(), o.toString());
            assertEquals(Digests.sha256Hex(bytes), o.get("sha256").asText(), o.toString());
            total += bytes.length;
            listed.add(new Manifest.DumpObject(o.get("name").asText(), bytes.length, Digests.sha256Hex(bytes)));
        }
        assertEquals(total, m.get("sizeBytes").asLong());
        assertEquals(Digests.sha256Hex(Manifest.objectList(listed).getBytes(java.nio.charset.StandardCharsets.UTF_8)), m.get("sha256").asText());
        assertTrue(m.get("tocEntries").asInt() > 10, m.toString());
        assertEquals(200000, tableStat(m, "bulk").get("rowCount").asLong(), m.toString());

        String target = pg.createDatabase("parallel_dst");
        try {
            restore(objects, target, false);
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
            assertEquals(SampleDatabase.schema(pg, source), SampleDatabase.schema(pg, target));
        } finally {
            pg.dropDatabase(target);
        }
    }

    @Test
    void anEncryptedParallelBackupStoresEachFileAsAnAgeFile() throws Exception {
        String bucket = s3.createBucket("parallel-age");
        Path spool = Files.createTempDirectory("spool");
        Age.KeyPair keys = Age.generate();
        Scripts.Run run = backup(s3.endpoint, bucket, spool, "--encrypt-to", keys.recipient());
        assertEquals(0, run.exit(), run.toString());
        assertSpoolEmpty(spool);
        JsonNode m = manifest(bucket);
        assertEquals("age", m.get("encryption").get("scheme").asText());
        Map<String, byte[]> objects = download(bucket, m.get("dumpKey").asText());
        for (Map.Entry<String, byte[]> e : objects.entrySet()) {
            assertTrue(new String(e.getValue(), 0, 21, java.nio.charset.StandardCharsets.US_ASCII).startsWith("age-encryption.org/v1"), e.getKey());
        }
        Path identity = Files.createTempFile("id", ".txt");
        Files.writeString(identity, keys.identity() + "\n");
        Map<String, byte[]> plain = new HashMap<>();
        for (Map.Entry<String, byte[]> e : objects.entrySet()) {
            Process p = new ProcessBuilder("age", "-d", "-i", identity.toString()).start();
            Thread feed = new Thread(() -> {
                try (var in = p.getOutputStream()) { in.write(e.getValue()); } catch (java.io.IOException ignored) { }
            });
            feed.start();
            plain.put(e.getKey(), p.getInputStream().readAllBytes());
            feed.join();
            assertEquals(0, p.waitFor(), "age -d " + e.getKey());
        }
        String target = pg.createDatabase("parallel_age_dst");
        try {
            restore(plain, target, false);
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
        }
    }

    /**
     * Read back through DirectoryArchive (restore's side): every object downloaded and checked, pg_restore -Fd -j 2 gives
     * an equal database; an object changed in S3 (same size, other bytes) is refused (65) before any file is handed on.
     */
    @Test
    void theArchiveDownloadsCheckedAndRefusesAChangedObject() throws Exception {
        String bucket = s3.createBucket("parallel-read");
        Path spool = Files.createTempDirectory("spool");
        Scripts.Run run = backup(s3.endpoint, bucket, spool);
        assertEquals(0, run.exit(), run.toString());
        Manifest m = Manifest.parse(manifest(bucket).toString(), "test");
        assertTrue(m.directory());
        Path dir = Files.createTempDirectory("fetched");
        java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        DirectoryArchive.fetch(s3.s3(), bucket, m, null, dir, 2, bytes::addAndGet);
        assertEquals(m.sizeBytes(), bytes.get());
        Map<String, byte[]> files = new HashMap<>();
        try (var list = Files.list(dir)) { for (Path p : list.toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p)); }
        PgServer.deleteTree(dir);
        String target = pg.createDatabase("parallel_read_dst");
        try {
            restore(files, target, false);
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
        }

        // The largest data object rewritten with the same size: only its SHA-256 tells.
        Manifest.DumpObject largest = m.objects().stream().filter(o -> !o.name().equals("toc.dat"))
                .max(java.util.Comparator.comparingLong(Manifest.DumpObject::sizeBytes)).orElseThrow();
        byte[] changed = s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(m.dumpKey() + largest.name())).asByteArray();
        changed[changed.length / 2] ^= 1;
        s3.s3().putObject(b -> b.bucket(bucket).key(m.dumpKey() + largest.name()), software.amazon.awssdk.core.sync.RequestBody.fromBytes(changed));
        Failure f = assertThrows(Failure.class, () -> DirectoryArchive.fetch(s3.s3(), bucket, m, null, null, 2, n -> { }));
        assertEquals(Exit.DATA_INVALID, f.exitCode, f.getMessage());
        assertTrue(f.getMessage().contains(largest.name()), f.getMessage());

        // A manifest naming a path instead of a file is refused, never followed.
        Manifest evil = new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(), m.dumpKey(), m.startedAt(), m.finishedAt(),
                m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(), m.encryption(), m.tocEntries(), m.tables(),
                m.pgDumpArgs(), m.source(), List.of(new Manifest.DumpObject("toc.dat", 1, "00"), new Manifest.DumpObject("../escape", 1, "00")));
        assertEquals(Exit.DATA_INVALID, assertThrows(Failure.class, () -> DirectoryArchive.objects(evil)).exitCode);
    }

    /**
     * The listing sees a parallel backup as one complete backup (its objects as one dump); one object missing makes it
     * not complete; prune deletes the older backup's manifest and every one of its objects, and keeps the newest whole.
     */
    @Test
    void listingAndPruneTreatTheObjectsAsOneBackup() throws Exception {
        String bucket = s3.createBucket("parallel-prune");
        Path spool = Files.createTempDirectory("spool");
        assertEquals(0, backup(s3.endpoint, bucket, spool).exit());
        Thread.sleep(1100); // the next backup's key is in a later second
        assertEquals(0, backup(s3.endpoint, bucket, spool).exit());
        List<BackupListing.Entry> entries = BackupListing.list(s3.s3(), bucket, "pg-backups", "big");
        assertEquals(2, entries.size(), entries.toString());
        for (BackupListing.Entry e : entries) {
            assertTrue(e.complete(), e.status().describe());
            assertTrue(e.objects().size() > 3, e.toString());
            assertEquals(e.status().manifest().sizeBytes(), e.dump().size());
        }
        BackupListing.Entry older = entries.get(0), newer = entries.get(1);

        // One object gone: not complete, and said so.
        String victim = older.objects().get(0).key();
        byte[] kept = s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(victim)).asByteArray();
        s3.s3().deleteObject(b -> b.bucket(bucket).key(victim));
        BackupListing.Entry broken = BackupListing.list(s3.s3(), bucket, "pg-backups", "big").get(0);
        assertFalse(broken.complete());
        assertTrue(broken.status().describe().contains("size differs"), broken.status().describe());
        s3.s3().putObject(b -> b.bucket(bucket).key(victim), software.amazon.awssdk.core.sync.RequestBody.fromBytes(kept));

        Scripts.Run prune = Scripts.run(new Prune(), "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION, "--keep-last", "1");
        assertEquals(0, prune.exit(), prune.toString());
        List<String> left = s3.keys(bucket);
        String olderBase = older.key().base();
        assertTrue(left.stream().noneMatch(k -> k.startsWith(olderBase)), "older backup left behind: " + left);
        assertEquals(newer.objects().size() + 1, left.stream().filter(k -> k.startsWith(newer.key().base())).count(), left.toString());
    }

    /**
     * restore.java on a parallel backup: list shows the format, verify checks every object and reads every data file,
     * restore --jobs 2 gives an equal database, drill passes (and records it), --stream is refused; a changed object makes
     * verify and restore fail with 65 before pg_restore touches the target.
     */
    @Test
    void restoreVerifyDrillAndListReadAParallelBackup() throws Exception {
        String bucket = s3.createBucket("parallel-restore");
        Path spool = Files.createTempDirectory("spool");
        assertEquals(0, backup(s3.endpoint, bucket, spool).exit());
        List<String> storage = List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION);
        java.util.function.Function<List<String>, String[]> args = extra -> {
            List<String> all = new ArrayList<>(extra);
            all.addAll(storage);
            return all.toArray(String[]::new);
        };

        Scripts.Run list = Scripts.run(new Restore(), args.apply(List.of("list", "--json")));
        assertEquals(0, list.exit(), list.toString());
        JsonNode listed = Json.MAPPER.readTree(list.out()).get("backups").get(0);
        assertEquals("directory", listed.get("format").asText(), listed.toString());
        assertTrue(listed.get("complete").asBoolean(), listed.toString());
        Scripts.Run human = Scripts.run(new Restore(), args.apply(List.of("list")));
        assertTrue(human.out().contains("directory format"), human.out());

        Scripts.Run verify = Scripts.run(new Restore(), args.apply(List.of("verify", "--name", "big")));
        assertEquals(0, verify.exit(), verify.toString());

        String target = "parallel_restored_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args.apply(List.of("--target-url", pg.url(target), "--create", "--jobs", "2", "--name", "big")));
            assertEquals(0, restore.exit(), restore.toString());
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
            assertEquals(SampleDatabase.schema(pg, source), SampleDatabase.schema(pg, target));
        } finally {
            pg.dropDatabase(target);
        }
        Scripts.Run stream = Scripts.run(new Restore(), args.apply(List.of("--target-url", pg.url("nowhere_db"), "--create", "--stream", "--name", "big")));
        assertEquals(64, stream.exit(), stream.toString());

        Scripts.Run drill = Scripts.run(new Restore(), args.apply(List.of("drill", "--name", "big", "--target-url", pg.url("postgres"))));
        assertEquals(0, drill.exit(), drill.toString());
        assertTrue(s3.keys(bucket).stream().anyMatch(k -> k.endsWith(".verify.json")));

        // One data object changed, same size: verify and restore refuse it (65), the target untouched.
        JsonNode m = manifest(bucket);
        String victim = null;
        for (JsonNode o : m.get("objects")) if (!o.get("name").asText().equals("toc.dat")) victim = m.get("dumpKey").asText() + o.get("name").asText();
        String victimKey = victim;
        byte[] changed = s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(victimKey)).asByteArray();
        changed[changed.length / 2] ^= 1;
        s3.s3().putObject(b -> b.bucket(bucket).key(victimKey), software.amazon.awssdk.core.sync.RequestBody.fromBytes(changed));
        Scripts.Run bad = Scripts.run(new Restore(), args.apply(List.of("verify", "--name", "big")));
        assertEquals(65, bad.exit(), bad.toString());
        String target2 = pg.createDatabase("parallel_untouched");
        try {
            Scripts.Run refused = Scripts.run(new Restore(), args.apply(List.of("--target-url", pg.url(target2), "--jobs", "2", "--name", "big")));
            assertEquals(65, refused.exit(), refused.toString());
            assertEquals("0", pg.sql(target2, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind = 'r'").strip());
        } finally {
            pg.dropDatabase(target2);
        }
    }

    /** A failure at each stage: the run fails, and no manifest, no object of the run and nothing in the spool is left. */
    @Test
    void aFailureAtAnyStageLeavesNothing() throws Exception {
        Map<String, Predicate<FaultProxy.Request>> stages = new java.util.LinkedHashMap<>();
        stages.put("a table's data file", r -> r.isPutObject() && r.key().contains(".dump.d/") && r.key().matches(".*/\\d+\\.dat.*"));
        stages.put("toc.dat", r -> r.isPutObject() && r.key().endsWith(".dump.d/toc.dat"));
        stages.put("the manifest", FaultProxy.Request::isManifestPut);
        for (Map.Entry<String, Predicate<FaultProxy.Request>> stage : stages.entrySet()) {
            String bucket = s3.createBucket("parallel-fail");
            Path spool = Files.createTempDirectory("spool");
            try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
                var rule = proxy.error("access denied on " + stage.getKey(), stage.getValue(), 1000, 403, "AccessDenied", "Access Denied");
                Scripts.Run run = backup(proxy.endpoint(), bucket, spool);
                assertTrue(rule.applied() > 0, stage.getKey() + ": the fault was never hit: " + run);
                assertEquals(77, run.exit(), stage.getKey() + ": " + run);
            }
            assertEquals(List.of(), s3.keys(bucket), stage.getKey() + ": objects left behind");
            assertSpoolEmpty(spool);
        }
    }

    /** pg_dump writes every file and then exits 1: whatever was uploaded meanwhile is removed, and no manifest is written. */
    @Test
    void aPgDumpThatFailsLeavesNothing() throws Exception {
        String bucket = s3.createBucket("parallel-pgdump-fails");
        Path spool = Files.createTempDirectory("spool");
        Path wrapper = Files.createTempFile("pg_dump", ".sh");
        Files.writeString(wrapper, "#!/bin/sh\n\"" + pg.tool("pg_dump").path() + "\" \"$@\"\nstatus=$?\n"
                + "case \"$1\" in --version) exit $status;; esac\necho 'pg_dump: error: simulated failure after the data' >&2\nexit 1\n");
        wrapper.toFile().setExecutable(true);
        Scripts.Run run = backup(s3.endpoint, bucket, spool, "--pg-dump", wrapper.toString());
        assertEquals(1, run.exit(), run.toString());
        assertTrue(run.err().contains("simulated failure"), run.err());
        assertEquals(List.of(), s3.keys(bucket));
        assertSpoolEmpty(spool);
    }

    /** SIGTERM while the third data file is uploading: pg_dump and its workers stop, the stored objects are deleted, the spool is empty. */
    @Test
    void sigtermLeavesNothing() throws Exception {
        String bucket = s3.createBucket("parallel-term");
        Path spool = Files.createTempDirectory("spool");
        java.util.concurrent.atomic.AtomicInteger dataPuts = new java.util.concurrent.atomic.AtomicInteger();
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var hold = proxy.hold("third data file held", r -> r.isPutObject() && r.key().matches(".*\\.dump\\.d/\\d+\\.dat.*")
                    && dataPuts.incrementAndGet() == 3, 1);
            Map<String, String> env = new HashMap<>(s3.env());
            List<String> args = List.of("--database-url", pg.url(source), "--name", "big", "--bucket", bucket, "--endpoint-url", proxy.endpoint(),
                    "--region", S3Server.REGION, "--parallel", "2", "--spool", spool.toString());
            Process child = Scripts.start("Backup", env, args);
            var err = new java.io.ByteArrayOutputStream();
            Thread drain = new Thread(() -> { try { child.getErrorStream().transferTo(err); } catch (java.io.IOException ignored) { } });
            drain.start();
            child.getOutputStream().close();
            try {
                hold.awaitHit(java.time.Duration.ofSeconds(120));
            } catch (AssertionError e) {
                child.destroyForcibly();
                throw new AssertionError(e.getMessage() + "\n" + err, e);
            }
            assertTrue(s3.keys(bucket).stream().anyMatch(k -> k.contains(".dump.d/")), "an object was stored before the signal");
            List<ProcessHandle> children = child.toHandle().descendants().toList();
            child.toHandle().destroy(); // SIGTERM
            assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            drain.join();
            for (ProcessHandle c : children) c.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS); // pg_dump and its workers stopped
            Output.record("", err.toString());
            assertTrue(err.toString().contains("interrupted"), err.toString());
            // Checked while the held request is still held: a request already sent when the signal came may land later.
            assertEquals(List.of(), s3.keys(bucket), err.toString());
        }
        assertSpoolEmpty(spool);
    }

    @Test
    void parallelRefusesAPooler() {
        Scripts.Run run = Scripts.run(new Backup(), "--database-url", pg.url(source), "--bucket", "bkt-pooler", "--endpoint-url", s3.endpoint,
                "--parallel", "2", "--allow-pooler");
        assertEquals(64, run.exit(), run.toString());
        assertTrue(run.err().contains("direct connection"), run.err());
    }

    @Test
    void theSpoolMustHoldTheLargestTables() {
        List<UserTables.Table> tables = List.of(new UserTables.Table("s", "a", "r", 1, 300L << 20), new UserTables.Table("s", "b", "r", 1, 200L << 20),
                new UserTables.Table("s", "c", "r", 1, 100L << 20));
        Failure f = assertThrows(Failure.class, () -> ParallelBackup.checkSpace(Path.of("/spool"), 2, tables, 500L << 20));
        assertEquals(Exit.CONFIG, f.exitCode);
        assertTrue(f.getMessage().contains("564.0 MiB") || f.getMessage().contains("564"), f.getMessage()); // 300 + 200 + 64 headroom
        ParallelBackup.checkSpace(Path.of("/spool"), 2, tables, 600L << 20); // fits
        ParallelBackup.checkSpace(Path.of("/spool"), 1, tables, 400L << 20); // one worker: the largest only
    }

    @Test
    void workersAreCappedByTheConnectionsTheServerAllows() {
        List<String> notes = new ArrayList<>();
        assertEquals(3, ConnectionBudget.cap(8, new ConnectionBudget.Free(5, "the role's CONNECTION LIMIT 5"), notes::add));
        assertTrue(notes.get(0).contains("lowered to 3") && notes.get(0).contains("CONNECTION LIMIT 5"), notes.toString());
        assertEquals(4, ConnectionBudget.cap(4, new ConnectionBudget.Free(100, "max_connections"), notes::add));
        Failure f = assertThrows(Failure.class, () -> ConnectionBudget.cap(2, new ConnectionBudget.Free(2, "max_connections"), notes::add));
        assertEquals(Exit.CONFIG, f.exitCode);
    }

    @Test
    void aRoleConnectionLimitLowersTheWorkers() {
        String role = "par_limited_" + System.nanoTime() % 100000;
        pg.sql("postgres", "create role " + role + " login superuser connection limit 4 password 'pw-par'");
        try {
            ConnectionBudget.Free free = ConnectionBudget.measure(pg.psql(),
                    ConnInfo.parse("postgresql://" + role + ":pw-par@" + pg.url(source).substring(pg.url(source).lastIndexOf('@') + 1)));
            assertEquals(4, free.connections(), free.toString());
            assertTrue(free.limit().contains("CONNECTION LIMIT 4"), free.toString());
        } finally {
            pg.sql("postgres", "drop role " + role);
        }
    }

    static void restore(Map<String, byte[]> objects, String target, boolean unused) throws Exception {
        Path dir = Files.createTempDirectory("restore-dir");
        for (Map.Entry<String, byte[]> e : objects.entrySet()) Files.write(dir.resolve(e.getKey()), e.getValue());
        PgTools.Tool pgRestore = pg.tool("pg_restore");
        ConnInfo conn = pg.conn(target);
        PgTools.Result r = PgTools.run(List.of(pgRestore.path().toString(), "--no-owner", "--no-acl", "--exit-on-error", "-j", "2", "-d",
                conn.withoutPassword(), dir.toString()), conn.childEnvironment(), null, 600);
        assertEquals(0, r.exitCode(), r.stderr());
        PgServer.deleteTree(dir);
    }

    static JsonNode manifest(String bucket) throws Exception {
        List<String> keys = s3.keys(bucket);
        String key = keys.stream().filter(k -> k.endsWith(".manifest.json")).findFirst().orElseThrow(() -> new AssertionError(keys.toString()));
        return Json.MAPPER.readTree(s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String());
    }

    static Map<String, byte[]> download(String bucket, String dirKey) {
        Map<String, byte[]> out = new HashMap<>();
        for (String k : s3.keys(bucket)) {
            if (!k.startsWith(dirKey)) continue;
            out.put(k.substring(dirKey.length()), s3.s3().getObjectAsBytes(b -> b.bucket(bucket).key(k)).asByteArray());
        }
        return out;
    }

    static JsonNode tableStat(JsonNode m, String table) {
        for (JsonNode t : m.get("tables")) if (t.get("table").asText().equals(table)) return t;
        throw new AssertionError("no table " + table + " in " + m);
    }

    static void assertSpoolEmpty(Path spool) throws Exception {
        try (var files = Files.list(spool)) {
            assertFalse(files.findAny().isPresent(), "the spool " + spool + " is not empty");
        }
    }
}
