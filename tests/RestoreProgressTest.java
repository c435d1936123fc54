import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** pg_restore's progress from its --verbose lines (a real restore of the sample database), and the annotations under GitHub Actions. */
class RestoreProgressTest {

    @Test
    void countsEveryObjectOfARealRestore() throws Exception {
        PgServer pg = PgServer.get();
        String src = SampleDatabase.create(pg, "progress_src");
        Path archive = Files.createTempFile("progress", ".dump");
        Files.write(archive, TestBackups.dump(pg, src));
        ArchiveToc toc = ArchiveToc.read(archive);
        int total = (int) toc.entries.stream().filter(e -> !List.of("ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE").contains(e.desc())).count();
        String db = pg.createDatabase("progress_dst");
        PgTools.Tool pgRestore = pg.tool("pg_restore");
        StringWriter out = new StringWriter();
        PrintWriter err = new PrintWriter(out, true);
        try (RestoreProgress progress = new RestoreProgress("restore: pg_restore", err, total, archive, false, 100);
             PgTools.Streaming p = PgTools.start(List.of(pgRestore.path().toString(), "--verbose", "--exit-on-error", "--single-transaction",
                     "-d", pg.conn(db).withoutPassword(), archive.toString()), pg.conn(db).childEnvironment(), progress::line)) {
            progress.watch(p.process());
            p.stdin().close();
            assertEquals(0, p.waitFor(), p.stderr());
            assertEquals(total, progress.done(), p.stderr()); // one verbose line per object: the count ends at the total
            assertTrue(progress.describe().startsWith("restore: pg_restore: " + total + " of " + total + " objects (100%)"), progress.describe());
            assertEquals("", RestoreProgress.problems(p.stderr()).strip(), "only progress lines on a good restore");
            progress.finished();
        }
        List<String> lines = out.toString().lines().toList();
        assertTrue(lines.size() >= 2, "periodic lines while it ran, and the last: " + lines);
        assertTrue(lines.stream().allMatch(l -> l.matches("restore: pg_restore: \\d+ of " + total + " objects \\(\\d+%\\), .* s.*")), lines.toString());
        assertTrue(lines.get(lines.size() - 1).startsWith("restore: pg_restore: " + total + " of " + total + " objects (100%)"), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains(" read, ")), "the archive's bytes read, from /proc: " + lines);
        assertEquals(SampleDatabase.fingerprints(pg, src), SampleDatabase.fingerprints(pg, db));
    }

    @Test
    void readsTheVerboseLinesAndKeepsTheProblems() {
        assertEquals("TABLE public.accounts", RestoreProgress.objectOf("pg_restore: creating TABLE \"public.accounts\""));
        assertEquals("data Zäh lung.Tä ble", RestoreProgress.objectOf("pg_restore: processing data for table \"Zäh lung.Tä ble\""));
        assertEquals("SEQUENCE SET accounts_id_seq", RestoreProgress.objectOf("pg_restore: executing SEQUENCE SET accounts_id_seq"));
        assertNull(RestoreProgress.objectOf("pg_restore: error: could not execute query: ERROR:  role \"x\" does not exist"));
        assertTrue(RestoreProgress.isVerboseLine("pg_restore: connecting to database for restore"));
        String stderr = "pg_restore: connecting to database for restore\npg_restore: creating TABLE \"public.t\"\n"
                + "pg_restore: error: could not execute query: ERROR:  role \"x\" does not exist\nCommand was: ALTER TABLE public.t OWNER TO x;";
        assertEquals("pg_restore: error: could not execute query: ERROR:  role \"x\" does not exist\nCommand was: ALTER TABLE public.t OWNER TO x;",
                RestoreProgress.problems(stderr));
        StringWriter out = new StringWriter();
        try (RestoreProgress p = new RestoreProgress("restore: pg_restore", new PrintWriter(out, true), 4, null, false)) {
            p.line("pg_restore: creating TABLE \"public.t\"");
            p.line("pg_restore: processing data for table \"public.t\"");
            p.line("pg_restore: something else");
            assertTrue(p.describe().startsWith("restore: pg_restore: 2 of 4 objects (50%), "), p.describe());
            assertTrue(p.describe().endsWith(", data public.t"), p.describe());
            assertFalse(p.describe().contains("read"), "no file, no bytes: " + p.describe());
        }
    }

    @Test
    void warningsAndErrorsBecomeAnnotationsOnce() {
        ActionsAnnotator a = new ActionsAnnotator();
        StringWriter out = new StringWriter();
        PrintWriter err = a.watch(new PrintWriter(out, true), true);
        err.println("restore: backup x");
        err.print("warning: could not look for stale temp dumps in /tmp: 50% gone\nsecond ");
        err.println("line");
        err.println("restore: warning: the drill record was not written");
        err.println("::warning title=ping failed::ping https://x failed");
        err.println("warning: ping https://x failed (the verdict stands)");
        err.println(a.error("restore: the target database \"x\" does not exist"));
        String text = out.toString();
        assertTrue(text.contains("warning: could not look for stale temp dumps in /tmp: 50% gone\n::warning::could not look for stale temp dumps in /tmp: 50%25 gone\nsecond line\n"), text);
        assertTrue(text.contains("::warning::the drill record was not written"), text);
        assertEquals(1, text.lines().filter(l -> l.contains("ping https://x failed") && l.startsWith("::")).count(), "annotated once: " + text);
        assertTrue(text.contains("::error::restore: the target database \"x\" does not exist"), text);
        assertFalse(text.contains("::warning::restore: backup"), text);
    }

    @Test
    void underGitHubActionsAFailureIsAnErrorAnnotation() throws Exception {
        Scripts.Run run = Scripts.runProcess("Restore", java.util.Map.of("GITHUB_ACTIONS", "true", "RESTORE_DATABASE_URL", "", "S3_BUCKET", "my-bucket", "AWS_REGION", "us-east-1"));
        assertEquals(Exit.USAGE, run.exit(), run.toString());
        assertTrue(run.err().contains("restore: error: no target database"), run.toString());
        assertTrue(run.err().contains("::error::restore: no target database: give --target-url URL"), run.toString());
        Scripts.Run plain = Scripts.runProcess("Restore", java.util.Map.of("GITHUB_ACTIONS", "false", "RESTORE_DATABASE_URL", "", "S3_BUCKET", "my-bucket", "AWS_REGION", "us-east-1"));
        assertFalse(plain.err().contains("::error::"), plain.toString());
    }
}
