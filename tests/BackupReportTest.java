import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The end of a backup run: its exit code, the stderr table, the job summary's Markdown and the --json envelope. */
class BackupReportTest {
    static BackupResult ok(String name) {
        return new BackupResult(name, name, "h", "ok", "pg-backups/" + name + "/x.dump", "pg-backups/" + name + "/x.manifest.json", 2048L, "ab",
                1.25, 1638L, 0.0, "zstd", 7, null, Exit.OK);
    }

    static BackupResult failed(String name, int exit, String error) {
        return new BackupResult(name, name, "h", "failed", null, null, null, null, 0.5, null, null, null, null, error, exit);
    }

    @Test
    void exitCodes() {
        assertEquals(Exit.OK, new BackupReport("b", "p", List.of(ok("a"), ok("b"))).exitCode());
        assertEquals(Exit.USAGE, new BackupReport("b", "p", List.of(failed("a", Exit.USAGE, "no such database"))).exitCode());
        assertEquals(Exit.FAILED, new BackupReport("b", "p", List.of(failed("a", Exit.USAGE, "x"), failed("b", Exit.UNAVAILABLE, "y"))).exitCode());
        assertEquals(Exit.PARTIAL, new BackupReport("b", "p", List.of(ok("a"), failed("b", Exit.UNAVAILABLE, "y"))).exitCode());
    }

    @Test
    void tableAndMarkdown() {
        BackupReport report = new BackupReport("bkt", "pg-backups", List.of(ok("alpha"), failed("broken", Exit.USAGE, "a | b\nc")));
        assertTrue(report.table().lines().findFirst().orElseThrow().matches("NAME +SIZE +TIME +SPEED +RESULT"), report.table());
        assertTrue(report.table().lines().anyMatch(l -> l.startsWith("alpha ") && l.endsWith("s3://bkt/pg-backups/alpha/x.dump")), report.table());
        assertTrue(report.table().lines().anyMatch(l -> l.startsWith("broken ") && l.contains("failed (exit 64): a | b")), report.table());
        String md = report.markdown();
        assertTrue(md.startsWith("### pgdump-s3 backup: 1 of 2 databases backed up\n\n| name | size | time | speed | result |\n|---|---:|---:|---:|---|\n"), md);
        assertTrue(md.contains("| `s3://bkt/pg-backups/alpha/x.dump` |"), md);
        assertTrue(md.contains("| ❌ failed (exit 64): a \\| b c |"), "an error cannot break the table: " + md);
    }

    @Test
    void jsonEnvelopeThenTheRunsFields() {
        var fields = new BackupReport("bkt", "pg-backups", List.of(ok("a"), failed("b", Exit.UNAVAILABLE, "y"))).json().fields();
        Iterator<String> names = fields.keySet().iterator();
        for (String expected : List.of("ok", "exitCode", "bucket", "prefix", "succeeded", "failed", "backups")) assertEquals(expected, names.next());
        assertEquals(false, fields.get("ok"));
        assertEquals(Exit.PARTIAL, fields.get("exitCode"));
        assertEquals(1, fields.get("succeeded"));
    }
}
