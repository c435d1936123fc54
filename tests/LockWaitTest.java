import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session holding ACCESS EXCLUSIVE on a table: pg_dump waits for it. The backup says so while it waits (what,
 * and who holds it), gives up after --lock-wait-timeout with one line naming the lock and its holder, and goes on
 * when the lock is released in time.
 */
class LockWaitTest {
    static PgServer pg;
    static S3Server s3;
    static String db;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        s3 = S3Server.get();
        db = pg.createDatabase("locks");
        pg.sql(db, "create table public.orders (id int primary key, note text); insert into public.orders select g, 'o' from generate_series(1, 100) g;"
                + " create table public.other (id int); insert into public.other values (1);");
    }

    @AfterAll
    static void tearDown() {
        pg.dropDatabase(db);
    }

    /** A session of ours holding ACCESS EXCLUSIVE on public.orders until closed; its backend pid. */
    static final class Holder implements AutoCloseable {
        final PsqlSession session = PsqlSession.open(pg.psql(), pg.conn(db));
        final int pid = Integer.parseInt(session.runOrThrow("select 'pid=' || pg_backend_pid();").value("pid"));

        Holder() {
            session.runOrThrow("begin; lock table public.orders in access exclusive mode;");
        }

        void release() { session.run("rollback;"); }

        @Override
        public void close() { session.close(); }
    }

    static List<String> args(String bucket, String... more) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", s3.endpoint, "--region", S3Server.REGION, "--database-url", pg.url(db)));
        all.addAll(List.of(more));
        return all;
    }

    /** The lock is held throughout: the backup fails after the timeout, naming the table, the holder's pid and its lock; nothing is left. */
    @Test
    void aLockHeldPastTheTimeoutFailsNamingItsHolder() {
        String bucket = s3.createBucket("lock-timeout");
        try (Holder holder = new Holder()) {
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--lock-wait-timeout", "2s").toArray(String[]::new));
            assertEquals(Exit.FAILED, run.exit(), run.toString());
            String line = run.err().lines().filter(l -> l.contains("error:")).findFirst().orElseThrow();
            assertTrue(line.contains("pg_dump gave up waiting 2 s (--lock-wait-timeout) for a lock on public.orders held by pid " + holder.pid
                    + " (user " + pg.user) && line.contains("AccessExclusiveLock") && line.contains("end that session"), line);
            assertEquals(List.of(), s3.keys(bucket));
            assertEquals(List.of(), BackupTest.uploadsInProgress(bucket));
        }
    }

    /** While pg_dump waits, the progress says for what and behind whom; released in time, the backup completes. */
    @Test
    void progressSaysWhatTheDumpWaitsForAndTheBackupGoesOnWhenReleased() throws Exception {
        String bucket = s3.createBucket("lock-progress");
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean released = new AtomicBoolean();
        try (Holder holder = new Holder()) {
            Process p = Scripts.start("Backup", s3.env(), args(bucket, "--lock-wait-timeout", "5m"));
            Thread out = Threads.start("drain-stdout", () -> {
                try {
                    p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (java.io.IOException ignored) {
                    // the process ended
                }
            });
            try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                    seen.add(line);
                    if (!released.get() && line.contains("pg_dump is waiting for a lock on public.orders held by pid " + holder.pid)) {
                        holder.release();
                        released.set(true);
                    }
                }
            }
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            out.join(10_000);
            assertTrue(released.get(), String.join("\n", seen));
            assertEquals(0, p.exitValue(), String.join("\n", seen));
            String waiting = seen.stream().filter(l -> l.contains("pg_dump is waiting")).findFirst().orElseThrow();
            assertTrue(waiting.contains("AccessExclusiveLock") && waiting.contains("(gives up after 5 min, --lock-wait-timeout)"), waiting);
            assertEquals(2, s3.keys(bucket).size(), s3.keys(bucket).toString());
        }
    }

    /**
     * A lock pg_dump's own --lock-wait-timeout does not bound (its initial LOCK TABLEs do not cover sequences): an
     * uncommitted DROP SEQUENCE holds pg_dump at the sequence's value; backup cancels the wait after the timeout.
     */
    @Test
    void aWaitPgDumpsOwnTimeoutMissesIsCancelled() {
        String bucket = s3.createBucket("lock-sequence");
        pg.sql(db, "create sequence if not exists public.invoice_no");
        try (PsqlSession holder = PsqlSession.open(pg.psql(), pg.conn(db))) {
            int pid = Integer.parseInt(holder.runOrThrow("select 'pid=' || pg_backend_pid();").value("pid"));
            holder.runOrThrow("begin; drop sequence public.invoice_no;");
            Scripts.Run run = Scripts.run(new Backup(), args(bucket, "--lock-wait-timeout", "2s").toArray(String[]::new));
            assertEquals(Exit.FAILED, run.exit(), run.toString());
            assertTrue(run.err().contains("pg_dump is waiting for a lock on public.invoice_no held by pid " + pid), run.err());
            String line = run.err().lines().filter(l -> l.contains("error:")).findFirst().orElseThrow();
            assertTrue(line.contains("for a lock on public.invoice_no held by pid " + pid) && line.contains("AccessExclusiveLock"), line);
            assertEquals(List.of(), s3.keys(bucket));
            holder.run("rollback;");
        }
    }
}
