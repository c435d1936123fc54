import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which extra pg_dump arguments pass and which are refused, read the way pg_dump reads them. */
class PgDumpArgsTest {
    @Test
    void harmlessPgDumpArgumentsPass() {
        for (List<String> ok : List.of(List.of("--exclude-table-data=public.audit_log"), List.of("-t", "sales.*", "-n", "public"),
                List.of("--exclude-table-data", "audit"), List.of("-Fc"), List.of("--format=custom"), List.of("-F", "c"),
                List.of("--schema-only"), List.of("-v", "--no-owner", "--no-acl"), List.of("--filter=rules.txt"), List.of("-sv"),
                List.of("--table", "f"), List.of("-T", "-d"), List.of("--exclude-tab=x"), List.of("--serializable-deferrable"),
                List.of("--enable-row-security"))) {
            assertEquals(ok, PgDumpArgs.check(ok), ok.toString());
        }
    }

    /** Flags backup acts on (its row counts follow pg_dump's row security and isolation), found however they are spelled. */
    @Test
    void flagsBackupActsOnAreFoundAbbreviatedToo() {
        assertTrue(PgDumpArgs.has(List.of("-v", "--enable-row-sec"), "enable-row-security"));
        assertTrue(PgDumpArgs.has(List.of("--serializable-deferrable"), "serializable-deferrable"));
        assertTrue(!PgDumpArgs.has(List.of("--exclude-table=x", "-v"), "serializable-deferrable"));
        assertEquals(List.of("-v", "--schema=public"), PgDumpArgs.without(List.of("-v", "--serializable", "--schema=public"), "serializable-deferrable"));
    }

    @Test
    void contractBreakingPgDumpArgumentsAreRefused() {
        for (List<String> bad : List.of(List.of("-f", "x"), List.of("-fx"), List.of("--file=x"), List.of("--file", "x"), List.of("-vf", "x"),
                List.of("--fi=x"), List.of("-Fp"), List.of("-F", "d"), List.of("--format=tar"), List.of("--format", "directory"),
                List.of("-d", "db"), List.of("--dbname=db"), List.of("--db=x"), List.of("-h", "other"), List.of("--port=5433"),
                List.of("-U", "bob"), List.of("-j", "4"), List.of("--jobs=2"), List.of("-Z", "9"), List.of("--compress=zstd"),
                List.of("-W"), List.of("--password"), List.of("--version"), List.of("-V"), List.of("--help"), List.of("-?"),
                List.of("mydb"), List.of("-t", "x", "mydb"), List.of("--", "x"),
                // backup's own: its snapshot is shared with the exact row counts, its lock timeout bounds them too
                List.of("--snapshot=00000003-1"), List.of("--lock-wait-timeout=10s"), List.of("--lock-wait-timeout", "10s"))) {
            Failure f = assertThrows(Failure.class, () -> PgDumpArgs.check(bad), bad.toString());
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("is not allowed"), f.getMessage());
        }
    }

    /** pg_dump's command line: custom format, no password in argv, the exported snapshot imported in place of --serializable-deferrable. */
    @Test
    void commandLine() {
        PgTools.Tool pgDump = new PgTools.Tool(Path.of("/usr/lib/postgresql/17/bin/pg_dump"), 17, "17.2");
        ConnInfo conn = ConnInfo.parse("postgresql://u:s3cret@h/app?sslmode=require");
        DumpCompression zstd = new DumpCompression("--compress=zstd", "zstd");
        assertEquals(List.of("/usr/lib/postgresql/17/bin/pg_dump", "--format=custom", "--compress=zstd", "--no-password", "--snapshot=00000003-1",
                        "--lock-wait-timeout=300000", "-v", "--dbname", "postgresql://u@h/app?sslmode=require"),
                PgDumpArgs.command(pgDump, zstd, "00000003-1", 300_000, List.of("-v", "--serializable-deferrable"), conn));
        assertEquals(List.of("/usr/lib/postgresql/17/bin/pg_dump", "--format=custom", "--compress=zstd", "--no-password", "--serializable-deferrable",
                        "--dbname", "postgresql://u@h/app?sslmode=require"),
                PgDumpArgs.command(pgDump, zstd, null, 0, List.of("--serializable-deferrable"), conn));
    }
}
