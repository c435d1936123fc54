import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * restore of a parallel (directory-format) backup into a database it creates, and the drill: pipelined, each data file
 * restored as soon as its SHA-256 is proven while the next ones download (lib/PipelinedRestore). It round-trips exactly;
 * a changed data object fails it with 65, the database is dropped, and no row of that object's table was ever loaded;
 * into an existing database every object is still checked first; a killed restore's directory is swept by the next run.
 *
 * <p>How "never loaded" is seen: the table {@code watched} has a CHECK constraint calling a function that, in a
 * database named pipe_into*, writes one file per row it checks (COPY TO, as the superuser restoring) into
 * {@link #marks}. The good restore shows that the files appear; the bad one that none appears for its database.
 */
class PipelinedRestoreTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static String bucket;
    static Path marks;

    @BeforeAll
    static void backup() throws Exception {
        pg = PgServer.get();
        s3 = S3Server.get();
        marks = Files.createTempDirectory("pipe-marks");
        Files.setPosixFilePermissions(marks, PosixFilePermissions.fromString("rwxrwxrwx")); // the server (user postgres) writes here
        source = SampleDatabase.create(pg, "pipe_src");
        pg.sql(source, String.join("\n",
                "create table public.bulk as select g as id, md5(g::text) as payload from generate_series(1, 100000) g;",
                "create materialized view public.bulk_summary as select count(*) as n, max(id) as top from public.bulk;",
                // Built right after bulk's data (PipelinedRestore.ownPostData); their comments come in the last pass.
                "alter table public.bulk add primary key (id);",
                "create index bulk_payload on public.bulk (payload);",
                "comment on constraint bulk_pkey on public.bulk is 'the key';",
                "comment on index public.bulk_payload is 'by payload';",
                "create function public.pipe_mark(i int) returns boolean language plpgsql as $$ begin",
                "  if left(current_database(), 9) = 'pipe_into' then",
                "    execute format('copy (select %s) to %L', i, '" + marks + "/' || current_database() || '-' || i);",
                "  end if;",
                "  return true;",
                "end $$;",
                "create table public.watched (id int check (public.pipe_mark(id)));",
                "insert into public.watched select generate_series(1, 3);",
                "analyze;"));
        bucket = s3.createBucket("pipelined");
        Scripts.Run run = Scripts.run(new Backup(), "--database-url", pg.url(source), "--name", "big", "--bucket", bucket, "--endpoint-url", s3.endpoint,
                "--region", S3Server.REGION, "--parallel", "2", "--spool", Files.createTempDirectory("spool").toString());
        assertEquals(0, run.exit(), run.toString());
    }

    @AfterAll
    static void drop() {
        pg.dropDatabase(source);
        PgServer.deleteTree(marks);
    }

    static String[] args(String bucket, String... extra) {
        List<String> all = new ArrayList<>(List.of(extra));
        all.addAll(List.of("--name", "big", "--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION));
        return all.toArray(String[]::new);
    }

    static List<String> marksOf(String database) throws Exception {
        try (var files = Files.list(marks)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(database + "-")).sorted().toList();
        }
    }

    @Test
    void aNewDatabaseIsRestoredPipelinedAndExactly() throws Exception {
        String target = "pipe_into_ok_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(bucket, "--target-url", pg.url(target), "--create", "--jobs", "2"));
            assertEquals(0, restore.exit(), restore.toString());
            assertTrue(restore.err().contains("restore: pipelined"), restore.err());
            assertTrue(restore.err().contains("peak temp disk"), restore.err());
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
            assertEquals(SampleDatabase.schema(pg, source), SampleDatabase.schema(pg, target));
            assertTrue(restore.err().contains("indexes and constraints were built right after their table's data"), restore.err());
            assertEquals("the key|by payload", pg.sql(target, "select (select obj_description(oid, 'pg_constraint') from pg_constraint where conname = 'bulk_pkey') || '|'"
                    + " || obj_description('public.bulk_payload'::regclass, 'pg_class')").strip());
            // The passes after the table files: large objects and sequences (data section), the materialized view (post-data).
            String check = "select (select count(*) from pg_largeobject_metadata) || ' ' || (select last_value from sales.invoice_no)"
                    + " || ' ' || (select n || '/' || top from public.bulk_summary)";
            assertEquals(pg.sql(source, check).strip(), pg.sql(target, check).strip());
            // The positive control of the next test: restoring watched's rows leaves one mark per row.
            assertEquals(List.of(target + "-1", target + "-2", target + "-3"), marksOf(target));
        } finally {
            pg.dropDatabase(target);
        }
    }

    @Test
    void anEncryptedBackupIsDecryptedFileByFile() throws Exception {
        String encrypted = s3.createBucket("pipelined-age");
        Age.KeyPair keys = Age.generate();
        Scripts.Run backup = Scripts.run(new Backup(), "--database-url", pg.url(source), "--name", "big", "--bucket", encrypted, "--endpoint-url", s3.endpoint,
                "--region", S3Server.REGION, "--parallel", "2", "--spool", Files.createTempDirectory("spool").toString(), "--encrypt-to", keys.recipient());
        assertEquals(0, backup.exit(), backup.toString());
        Path identity = Files.createTempFile("id", ".txt");
        Files.writeString(identity, keys.identity() + "\n");
        String target = "pipe_into_age_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(encrypted, "--target-url", pg.url(target), "--create", "--jobs", "2", "--identity", identity.toString()));
            assertEquals(0, restore.exit(), restore.toString());
            assertTrue(restore.err().contains("restore: pipelined"), restore.err());
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
            Files.deleteIfExists(identity);
        }
    }

    @Test
    void theDrillOfADirectoryBackupIsPipelinedAndPasses() {
        Scripts.Run drill = Scripts.run(new Restore(), args(bucket, "drill", "--target-url", pg.url("postgres"), "--jobs", "2", "--no-record"));
        assertEquals(0, drill.exit(), drill.toString());
        assertTrue(drill.err().contains("drill: restored in three passes"), drill.err());
        assertTrue(drill.err().contains("peak temp disk"), drill.err());
    }

    @Test
    void aChangedDataObjectFailsTheRestoreBeforeItsTableIsLoaded() throws Exception {
        // A copy of the backup, with watched's data file changed: same size, one byte different.
        String bad = s3.createBucket("pipelined-bad");
        for (String key : s3.keys(bucket)) {
            s3.s3().copyObject(b -> b.sourceBucket(bucket).sourceKey(key).destinationBucket(bad).destinationKey(key));
        }
        String tocKey = s3.keys(bad).stream().filter(k -> k.endsWith(".dump.d/toc.dat")).findFirst().orElseThrow();
        ArchiveToc toc = ArchiveToc.read(s3.s3().getObjectAsBytes(b -> b.bucket(bad).key(tocKey)).asInputStream());
        ArchiveToc.Entry watched = toc.entries.stream().filter(e -> e.desc().equals("TABLE DATA") && e.tag().equals("watched")).findFirst().orElseThrow();
        String file = toc.dataFiles.get(watched.dumpId());
        String victim = s3.keys(bad).stream().filter(k -> k.startsWith(tocKey.substring(0, tocKey.length() - "toc.dat".length()) + file)).findFirst().orElseThrow();
        byte[] bytes = s3.s3().getObjectAsBytes(b -> b.bucket(bad).key(victim)).asByteArray();
        bytes[bytes.length / 2] ^= 1;
        s3.s3().putObject(b -> b.bucket(bad).key(victim), software.amazon.awssdk.core.sync.RequestBody.fromBytes(bytes));

        String target = "pipe_into_bad_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(bad, "--target-url", pg.url(target), "--create", "--jobs", "2"));
            assertEquals(65, restore.exit(), restore.toString());
            assertTrue(restore.err().contains("restore: pipelined"), restore.err());
            assertTrue(restore.err().contains(victim + " differs from its manifest"), restore.err());
            assertTrue(restore.err().contains("the database created for this restore was dropped"), restore.err());
            assertEquals("0", pg.sql("postgres", "select count(*) from pg_database where datname = '" + target + "'").strip());
            assertEquals(List.of(), marksOf(target), "rows of watched were loaded from an unproven file");
        } finally {
            pg.dropDatabase(target);
        }
    }

    @Test
    void intoAnExistingDatabaseOrForOneTableEveryObjectIsCheckedFirst() throws Exception {
        String target = pg.createDatabase("pipe_existing");
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(bucket, "--target-url", pg.url(target), "--jobs", "2"));
            assertEquals(0, restore.exit(), restore.toString());
            assertTrue(restore.err().contains("every object downloaded and checked before pg_restore starts: the target database exists"), restore.err());
            assertFalse(restore.err().contains("pipelined:"), restore.err());
            assertEquals(SampleDatabase.fingerprints(pg, source), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
        }
        String one = "pipe_one_" + System.nanoTime();
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(bucket, "--target-url", pg.url(one), "--create", "--table", "bulk"));
            assertEquals(0, restore.exit(), restore.toString());
            assertTrue(restore.err().contains("every object downloaded and checked before pg_restore starts: --table/--schema"), restore.err());
            assertEquals("100000", pg.sql(one, "select count(*) from public.bulk").strip());
        } finally {
            pg.dropDatabase(one);
        }
    }

    /**
     * SIGTERM while the largest data file downloads (S3 stalls it), after the pre-data pass and the other tables: the
     * database restore created is dropped, and the run says so.
     */
    @Test
    void sigtermMidwayDropsTheDatabaseItCreated() throws Exception {
        String target = "pipe_into_term_" + System.nanoTime();
        var objects = s3.s3().listObjectsV2(b -> b.bucket(bucket)).contents();
        String largest = objects.stream().filter(o -> o.key().contains(".dump.d/")).max(java.util.Comparator.comparingLong(o -> o.size())).orElseThrow().key();
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.stallInResponse("the largest data file stalls", r -> r.isGetObject() && r.key().equals(largest), -1, 1 << 10, java.time.Duration.ofMinutes(10));
            Map<String, String> env = new java.util.HashMap<>(s3.env());
            env.put("AWS_ENDPOINT_URL", proxy.endpoint());
            env.put("RESTORE_DATABASE_URL", pg.url(target));
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "Restore", "--create", "--jobs", "2", "--name", "big", "--bucket", bucket));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(env);
            Process child = pb.start();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            Thread reader = new Thread(() -> { try { child.getErrorStream().transferTo(err); } catch (java.io.IOException ignored) { } });
            reader.start();
            try {
                Waits.until("the tables are created", child.onExit(), () -> "1".equals(pg.sql("postgres",
                        "select count(*) from pg_database where datname = '" + target + "'").strip())
                        && "1".equals(pg.sql(target, "select count(*) from pg_tables where tablename = 'watched'").strip()));
                child.toHandle().destroy(); // SIGTERM
                assertTrue(child.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), err.toString());
            } finally {
                child.destroyForcibly();
            }
            reader.join(10_000);
            String out = err.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(child.exitValue() != 0, out);
            assertTrue(out.contains("restore: pipelined"), out);
            assertTrue(out.contains("created for this restore was dropped"), out);
            assertEquals("0", pg.sql("postgres", "select count(*) from pg_database where datname = '" + target + "'").strip());
        } finally {
            pg.dropDatabase(target);
        }
    }

    /** A restore killed with SIGKILL leaves its temp file's lock, free now, and its TEMPFILE.d: the next run deletes both; a live one's stay. */
    @Test
    void theDirectoryOfAKilledRestoreIsSwept() throws Exception {
        Path tmp = Files.createTempDirectory("pipe-stale");
        Path deadLock = tmp.resolve("pgdump-s3-999999-1.dump.lock");
        Path deadDir = tmp.resolve("pgdump-s3-999999-1.dump.d");
        Files.createFile(deadLock);
        Files.createFile(tmp.resolve("pgdump-s3-999999-1.dump"));
        Files.createDirectory(deadDir);
        Files.write(deadDir.resolve("3362.dat.gz"), new byte[4096]);
        Files.write(deadDir.resolve("toc.dat"), new byte[100]);
        Path liveLock = tmp.resolve("pgdump-s3-999998-1.dump.lock");
        Path liveDir = tmp.resolve("pgdump-s3-999998-1.dump.d");
        Files.createFile(liveLock);
        Files.createDirectory(liveDir);
        Files.write(liveDir.resolve("3363.dat.gz"), new byte[10]);
        try (FileChannel held = FileChannel.open(liveLock, StandardOpenOption.WRITE)) {
            held.lock(); // its restore is running
            StringWriter out = new StringWriter();
            try (TempDump dump = TempDump.create(tmp, 0, new PrintWriter(out, true))) {
                assertFalse(Files.exists(deadDir), "the killed restore's directory is left: " + out);
                assertFalse(Files.exists(deadLock), out.toString());
                assertTrue(out.toString().contains("removed " + tmp.resolve("pgdump-s3-999999-1.dump")), out.toString());
                assertTrue(Files.exists(liveDir.resolve("3363.dat.gz")), "a running restore's directory was deleted");
            }
        } finally {
            PgServer.deleteTree(tmp);
        }
    }
}
