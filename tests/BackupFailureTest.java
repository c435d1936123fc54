import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * What happens when things go wrong in the middle of a dump: pg_dump killed, the server stopped, pg_dump
 * failing, an upload failing, SIGTERM. Each time: a non-zero exit, no dump object, no manifest, no multipart
 * upload left in progress. And, while a dump is running, the password is in no child's argv.
 *
 * <p>How a dump is held mid-stream, deterministically: a non-superuser role dumps with
 * {@code --enable-row-security}; pg_dump writes table a_big (12 MB, uncompressed, so several 5 MiB parts go
 * up) and then reads b_gate, whose row-level security policy calls a function that waits for an advisory lock
 * the test holds. While the test holds the lock, pg_dump is stuck between the two tables; releasing it lets the
 * dump finish.
 */
class BackupFailureTest {
    static final int GATE_LOCK = 4242;
    static PgServer pg;
    static S3Server s3;
    static String db;
    static LoginRole role;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("gate");
        role = LoginRole.create(pg, "gate");
        pg.sql(db, String.join("\n",
                "create table a_big (id int, payload text);",
                "insert into a_big select g, repeat(md5(g::text), 32) from generate_series(1, 12000) g;",
                "create table b_gate (id int);",
                "insert into b_gate values (1);",
                "create table c_secret (id int);",
                AdvisoryGate.function(GATE_LOCK),
                "alter table b_gate enable row level security;",
                "create policy gate on b_gate for select using (gate_wait());",
                "grant select on a_big, b_gate to " + role.name() + ";",
                "analyze;"));
    }

    @AfterAll
    static void tearDown() {
        pg.dropDatabase(db);
        if (role != null) role.close();
    }

    static String roleUrl() {
        return role.url(db);
    }

    /** Arguments of a run that the gate can hold: small parts, no compression, row security on, c_secret left out. */
    static List<String> gatedArgs(String bucket) {
        return new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION,
                "--database-url", roleUrl(), "--part-size", "5MiB", "--compress", "0", "--",
                "--enable-row-security", "--exclude-table=c_secret"));
    }

    /** Kept for tests on other branches that call it: new code calls {@link Waits#until}. */
    static void waitUntil(String what, CompletableFuture<?> run, BooleanSupplier condition) { Waits.until(what, run, condition); }

    static CompletableFuture<Scripts.Run> runAsync(List<String> args) {
        return CompletableFuture.supplyAsync(() -> Scripts.run(new Backup(), args.toArray(String[]::new)));
    }

    static List<MultipartUpload> uploads(String bucket) {
        try (S3Client c = s3.s3()) {
            return c.listMultipartUploads(b -> b.bucket(bucket)).uploads();
        }
    }

    /** Parts already stored for the one upload in progress: proves the dump is mid-stream. */
    static void awaitPartsUploaded(String bucket, CompletableFuture<?> run) {
        Waits.until("a part is uploaded", run, () -> {
            List<MultipartUpload> ups = uploads(bucket);
            if (ups.size() != 1) return false;
            try (S3Client c = s3.s3()) {
                return !c.listParts(b -> b.bucket(bucket).key(ups.get(0).key()).uploadId(ups.get(0).uploadId())).parts().isEmpty();
            }
        });
    }

    /** pg_dump processes below {@code parent}. */
    static List<ProcessHandle> pgDumps(ProcessHandle parent) {
        return parent.descendants().filter(p -> p.info().command().map(c -> c.endsWith("/pg_dump")).orElse(false)).toList();
    }

    static String cmdline(ProcessHandle p) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    static void assertNothingLeft(String bucket) {
        assertEquals(List.of(), s3.keys(bucket), "no dump object, no manifest");
        assertEquals(List.of(), uploads(bucket).stream().map(MultipartUpload::key).toList(), "no multipart upload in progress");
    }

    /** The error is one line (the other lines are the run's progress log). */
    static long errorLines(Scripts.Run run) {
        return run.err().lines().filter(l -> l.contains("error")).count();
    }

    static Scripts.Run join(CompletableFuture<Scripts.Run> run) throws Exception {
        return run.get(120, TimeUnit.SECONDS);
    }

    /**
     * A successful run held at the gate: the password is in no child's argv (read from /proc while pg_dump
     * runs), nothing is visible in the bucket until the dump completes, and the manifest comes after the dump.
     */
    @Test
    void passwordNeverInArgvAndNothingVisibleBeforeTheEnd() throws Exception {
        String bucket = s3.createBucket("gated-ok");
        List<String> args = gatedArgs(bucket);
        args.add(0, "--json");
        CompletableFuture<Scripts.Run> run;
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, db, GATE_LOCK)) {
            run = runAsync(args);
            gate.awaitWaiter("pg_dump", run);
            awaitPartsUploaded(bucket, run);

            List<ProcessHandle> dumps = pgDumps(ProcessHandle.current());
            assertEquals(1, dumps.size(), "one pg_dump running");
            String argv = cmdline(dumps.get(0));
            assertTrue(argv.contains("--dbname postgresql://" + role.name() + "@"), argv); // it is the right process, and its URL has no password
            for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
                String c = Files.exists(Path.of("/proc/" + child.pid())) ? cmdline(child) : "";
                assertFalse(c.contains(role.password()) || c.contains(ConnInfo.encode(role.password())), "password in argv: " + c);
            }
            // Mid-dump, S3 shows an upload in progress and no object: nothing a restore could mistake for a backup.
            assertEquals(List.of(), s3.keys(bucket));
            assertEquals(1, uploads(bucket).size());
        }
        Scripts.Run done = join(run);
        assertEquals(0, done.exit(), done.toString());
        List<String> keys = s3.keys(bucket);
        assertEquals(2, keys.size(), keys.toString());
        String dumpKey = keys.get(0).endsWith(".dump") ? keys.get(0) : keys.get(1);
        String manifestKey = dumpKey.replace(".dump", ".manifest.json");
        assertFalse(BackupTest.object(bucket, manifestKey).lastModified().isBefore(BackupTest.object(bucket, dumpKey).lastModified()));
        String manifest = new String(BackupTest.download(bucket, manifestKey), StandardCharsets.UTF_8);
        Manifest m = Manifest.parse(manifest, manifestKey);
        assertTrue(m.sizeBytes() > 12_000_000, "several parts: " + m.sizeBytes());
        assertEquals(BackupTest.sha256(BackupTest.download(bucket, dumpKey)), m.sha256());
        assertEquals("none", m.compression());
        assertEquals(List.of("--enable-row-security", "--exclude-table=c_secret"), m.pgDumpArgs());
        for (String text : List.of(manifest, done.out(), done.err())) {
            assertFalse(text.contains(role.password()) || text.contains(ConnInfo.encode(role.password())), "password leaked: " + text);
        }
        assertEquals(List.of(), uploads(bucket));
    }

    @Test
    @ExtendWith(FaultLedger.class)
    void pgDumpKilledMidStream() throws Exception {
        String bucket = s3.createBucket("killed");
        CompletableFuture<Scripts.Run> run;
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, db, GATE_LOCK)) {
            run = runAsync(gatedArgs(bucket));
            gate.awaitWaiter("pg_dump", run);
            awaitPartsUploaded(bucket, run);
            List<ProcessHandle> dumps = pgDumps(ProcessHandle.current());
            assertEquals(1, dumps.size());
            dumps.get(0).destroyForcibly(); // SIGKILL
        }
        Scripts.Run done = join(run);
        assertNotEquals(0, done.exit(), done.toString());
        assertTrue(done.err().contains("pg_dump was killed by signal 9"), done.err());
        assertNothingLeft(bucket);
    }

    /** The server goes away mid-dump (a local test cluster; started again in finally for the rest of the suite). */
    @Test
    @ExtendWith(FaultLedger.class)
    void serverStoppedMidDump() throws Exception {
        String bucket = s3.createBucket("stopped");
        CompletableFuture<Scripts.Run> run;
        Scripts.Run done;
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, db, GATE_LOCK)) {
            run = runAsync(gatedArgs(bucket));
            gate.awaitWaiter("pg_dump", run);
            awaitPartsUploaded(bucket, run);
            pg.stopNow();
            done = join(run);
        } finally {
            pg.startAgain();
        }
        assertEquals(Exit.UNAVAILABLE, done.exit(), done.toString());
        assertTrue(done.err().contains("backup: error: pg_dump failed") && done.err().contains("server closed the connection"), done.err());
        assertEquals(1, errorLines(done), done.err());
        assertNothingLeft(bucket);
        assertEquals("1", pg.sql(db, "select 1")); // back for the other tests
    }

    /** pg_dump itself fails (a table the role may not read): its exit status stops the upload from completing. */
    @Test
    @ExtendWith(FaultLedger.class)
    void pgDumpNonZeroExit() throws Exception {
        String bucket = s3.createBucket("denied-table");
        List<String> args = gatedArgs(bucket);
        args.remove("--exclude-table=c_secret");
        Scripts.Run done = Scripts.run(new Backup(), args.toArray(String[]::new));
        assertEquals(Exit.NO_PERMISSION, done.exit(), done.toString());
        assertTrue(done.err().contains("permission denied for table c_secret"), done.err());
        assertEquals(1, errorLines(done), done.err());
        assertNothingLeft(bucket);
    }

    /**
     * A part upload fails mid-run: here because the upload was aborted behind our back (as a lifecycle rule or
     * an operator would), so the next UploadPart gets NoSuchUpload. The run fails and completes nothing.
     */
    @Test
    @ExtendWith(FaultLedger.class)
    void uploadFailsMidRun() throws Exception {
        String bucket = s3.createBucket("upload-fails");
        CompletableFuture<Scripts.Run> run;
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, db, GATE_LOCK)) {
            run = runAsync(gatedArgs(bucket));
            gate.awaitWaiter("pg_dump", run);
            awaitPartsUploaded(bucket, run);
            MultipartUpload upload = uploads(bucket).get(0);
            try (S3Client c = s3.s3()) {
                c.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
            }
        }
        Scripts.Run done = join(run);
        assertNotEquals(0, done.exit(), done.toString());
        // Real S3 answers NoSuchUpload (404); moto answers HTTP 500, which the SDK retries first.
        assertTrue(done.err().contains("backup: error: upload to s3://" + bucket + "/"), done.err());
        assertNothingLeft(bucket);
        assertEquals(List.of(), pgDumps(ProcessHandle.current()), "pg_dump is not left running");
    }

    /** SIGTERM (GitHub cancelling the job) to a backup in its own JVM: pg_dump stopped, upload aborted, nothing left. */
    @Test
    @ExtendWith(FaultLedger.class)
    void sigtermAbortsCleanly() throws Exception {
        String bucket = s3.createBucket("sigterm");
        Process child;
        ProcessHandle pgDump;
        Path out = Files.createTempFile("sigterm", ".out");
        Path err = Files.createTempFile("sigterm", ".err");
        try (AdvisoryGate gate = AdvisoryGate.hold(pg, db, GATE_LOCK)) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "Backup"));
            cmd.addAll(gatedArgs(bucket));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(s3.env());
            child = pb.start();
            CompletableFuture<Void> alive = child.onExit().thenAccept(p -> { });
            gate.awaitWaiter("pg_dump", alive);
            awaitPartsUploaded(bucket, alive);
            List<ProcessHandle> dumps = pgDumps(child.toHandle());
            assertEquals(1, dumps.size());
            pgDump = dumps.get(0);

            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the backup JVM ends");
            pgDump.onExit().get(30, TimeUnit.SECONDS); // and its pg_dump with it
        }
        String stderr = Files.readString(err);
        Output.record(Files.readString(out), stderr);
        try {
            assertNotEquals(0, child.exitValue(), stderr);
            assertFalse(pgDump.isAlive());
            assertTrue(stderr.contains("interrupted: aborted the upload"), stderr);
            assertNothingLeft(bucket);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
