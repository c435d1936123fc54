import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * S3 that stops moving while pg_dump streams (issue 15): a part whose body the server no longer reads (the socket
 * write blocks, where no read timeout applies), a part never answered, and S3 failing a part while pg_dump still
 * writes. Each must end within minutes with S3's error and exit 69, the multipart upload aborted, and pg_dump
 * stopped: no backend of it left on the server holding its transaction open.
 *
 * <p>The stall tests run the backup as a child JVM with the test knob PGDUMP_S3_TEST_TIMEOUT_SCALE, which shrinks
 * the timeouts of lib/AwsClients (minutes by default) to seconds; the test's own bound is generous.
 */
@ExtendWith(FaultLedger.class)
class FaultStallTest {
    static PgServer pg;
    static S3Server s3;
    static String source;
    static final List<String> databases = new ArrayList<>();
    /** Generous: with the knob a stalled 5 MiB part is given up after 30 s, a metadata call after 18 s; 5 minutes means "never ends". */
    static final Duration BOUND = Duration.ofMinutes(5);

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        // ~40 MB uncompressed: more than the 3 part buffers of 5 MiB and the pipe hold, so pg_dump is still streaming
        // (and holding its snapshot's transaction open) while the parts stall.
        source = pg.createDatabase("stall_src");
        databases.add(source);
        pg.sql(source, "create table big (id int primary key, payload text);"
                + " insert into big select g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) from generate_series(1, 400000) g; analyze;");
    }

    @AfterAll
    static void tearDown() {
        for (String db : databases) pg.dropDatabase(db);
    }

    /** A copy of the source per test, so each test can tell its own pg_dump's backend apart. */
    static synchronized String copyOfSource(String prefix) {
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        pg.sql("postgres", "create database \"" + name + "\" template \"" + source + "\"");
        databases.add(name);
        return name;
    }

    static long pgDumpBackends(String db) {
        return Long.parseLong(pg.sql("postgres", "select count(*) from pg_stat_activity where datname = '" + db + "' and application_name like 'pgdump-s3 backup %'"));
    }

    /** Polls until pg_dump's backends on {@code db} number {@code expected} (or the bound passes): the server notices a closed connection in its own time. */
    static long awaitPgDumpBackends(String db, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long n;
        while ((n = pgDumpBackends(db)) != expected && System.nanoTime() < deadline) Thread.sleep(200);
        return n;
    }

    /** A backup in a child JVM through the proxy, with shortened timeouts; the database URL through the environment, not argv. */
    record Child(Process process, ByteArrayOutputStream out, ByteArrayOutputStream err, Thread[] readers) {
        static Child start(String endpoint, String bucket, String db, String... more) throws IOException {
            Map<String, String> env = new HashMap<>(s3.env());
            env.put("AWS_ENDPOINT_URL", endpoint);
            env.put("DATABASE_URL", pg.url(db));
            env.put("PGDUMP_S3_TEST_TIMEOUT_SCALE", "0.1"); // a tenth: attempts of 10 s (a 5 MiB part) and 6 s, calls of 30 s and 18 s
            List<String> args = new ArrayList<>(List.of("--bucket", bucket, "--name", "app", "--compress", "0", "--part-size", "5MiB"));
            args.addAll(List.of(more));
            Process p = Scripts.start("Backup", env, args);
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            Thread t1 = new Thread(() -> { try { p.getInputStream().transferTo(out); } catch (IOException ignored) { } });
            Thread t2 = new Thread(() -> { try { p.getErrorStream().transferTo(err); } catch (IOException ignored) { } });
            t1.start();
            t2.start();
            return new Child(p, out, err, new Thread[] {t1, t2});
        }

        /** Waits for the end (at most {@link #BOUND}: a backup still running then is the failure under test). */
        Scripts.Run await() throws Exception {
            boolean ended = process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS);
            List<ProcessHandle> left = process.toHandle().descendants().toList();
            if (!ended) {
                left.forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            for (Thread t : readers) t.join(10_000);
            Output.record(out.toString(), err.toString());
            assertTrue(ended, "the backup was still running after " + BOUND + ": a stalled upload must fail within minutes\n" + err);
            return new Scripts.Run(process.exitValue(), out.toString(), err.toString());
        }
    }

    static void assertFailedWith69AndCleanedUp(Scripts.Run run, String bucket, BucketState before, String db) throws Exception {
        assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        List<String> errors = run.err().lines().filter(l -> l.startsWith("backup: error: ")).toList();
        assertEquals(1, errors.size(), run.err());
        assertTrue(errors.get(0).contains("upload to s3://" + bucket + "/pg-backups/app/app_") && errors.get(0).contains("did not complete the request in time"),
                errors.get(0));
        assertEquals(0, awaitPgDumpBackends(db, 0), "pg_dump's backend is gone: its transaction is closed");
        BucketState.of(bucket).assertUnchangedSince(before); // the multipart upload aborted, no object
    }

    /**
     * The server stops reading a part's body after 64 KiB and never answers: the part's socket write blocks. Before
     * the fix one attempt hung until the network gave up (~40 minutes, 8 attempts allowed) with pg_dump holding its
     * transaction; now the attempt is aborted at its timeout, retried, and the call given up: 69, pg_dump stopped.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aPartWhoseBodyIsNoLongerReadFailsWith69AndStopsPgDump() throws Exception {
        String db = copyOfSource("stall_write");
        String bucket = s3.createBucket("stall-write");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var stall = proxy.stopReadingRequestBody("part body no longer read", FaultProxy.Request::isUploadPart, -1, 64 << 10);
            Child child = Child.start(proxy.endpoint(), bucket, db);
            stall.awaitHit(Duration.ofSeconds(120));
            assertEquals(1, awaitPgDumpBackends(db, 1), "pg_dump is connected, its transaction open, while the part stalls");
            Scripts.Run run = child.await();
            assertFailedWith69AndCleanedUp(run, bucket, before, db);
            assertTrue(stall.applied() >= 2, "the stalled attempt was retried before the call gave up: " + proxy.log());
        }
    }

    /** S3 takes a part's body but never answers: the same bounded end (before: 120 s read timeout × 8 attempts per part). */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aPartNeverAnsweredFailsWith69AndStopsPgDump() throws Exception {
        String db = copyOfSource("stall_answer");
        String bucket = s3.createBucket("stall-answer");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var silent = proxy.neverAnswer("part never answered", FaultProxy.Request::isUploadPart, -1);
            Child child = Child.start(proxy.endpoint(), bucket, db);
            silent.awaitHit(Duration.ofSeconds(120));
            Scripts.Run run = child.await();
            assertFailedWith69AndCleanedUp(run, bucket, before, db);
        }
    }

    /**
     * The manifest's PutObject is never answered (a metadata call: before, 120 s read timeout × 8 attempts): 69 within
     * minutes, saying the dump is stored without a manifest, so not a backup.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aManifestNeverAnsweredFailsWith69() throws Exception {
        String db = copyOfSource("stall_manifest");
        String bucket = s3.createBucket("stall-manifest");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            var silent = proxy.neverAnswer("manifest never answered", FaultProxy.Request::isManifestPut, -1);
            Child child = Child.start(proxy.endpoint(), bucket, db);
            silent.awaitHit(Duration.ofSeconds(180));
            Scripts.Run run = child.await();
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            List<String> errors = run.err().lines().filter(l -> l.startsWith("backup: error: ")).toList();
            assertEquals(1, errors.size(), run.err());
            assertTrue(errors.get(0).contains("manifest could not be written") && errors.get(0).contains("did not complete the request in time"), errors.get(0));
        }
        assertTrue(s3.keys(bucket).stream().noneMatch(k -> k.endsWith(".manifest.json")), s3.keys(bucket).toString());
        assertEquals(0, awaitPgDumpBackends(db, 0));
    }

    /**
     * S3 fails the second part for good while pg_dump is still writing: the run stops pg_dump and must report S3's
     * error with its exit code (69), not what stopping pg_dump did to the stream ("Stream closed", exit 1).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anUploadFailureWhilePgDumpStreamsReportsTheS3Error() throws Exception {
        String db = copyOfSource("stall_500");
        String bucket = s3.createBucket("stall-500");
        BucketState before = BucketState.of(bucket);
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            proxy.internalError("part 2 fails", r -> r.isUploadPart() && List.of(r.query().split("&")).contains("partNumber=2"), -1);
            Scripts.Run run = Scripts.run(new Backup(), "--bucket", bucket, "--endpoint-url", proxy.endpoint(), "--region", S3Server.REGION,
                    "--database-url", pg.url(db), "--name", "app", "--compress", "0", "--part-size", "5MiB");
            assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
            assertFalse(run.err().contains("Stream closed"), run.err());
            List<String> errors = run.err().lines().filter(l -> l.startsWith("backup: error: ")).toList();
            assertEquals(1, errors.size(), run.err());
            assertTrue(errors.get(0).contains("upload to s3://" + bucket + "/pg-backups/app/app_") && errors.get(0).contains("InternalError"), errors.get(0));
        }
        assertEquals(0, awaitPgDumpBackends(db, 0), "pg_dump's backend is gone");
        BucketState.of(bucket).assertUnchangedSince(before);
    }
}
