import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison the round-trip tests rely on: plain pg_dump/pg_restore gives equal fingerprints, and a change shows. */
class SampleDatabaseTest {
    @Test
    void plainDumpAndRestoreCompareEqualAndChangesShow() throws Exception {
        PgServer pg = PgServer.get();
        String source = SampleDatabase.create(pg, "sample_src");
        String target = pg.createDatabase("sample_dst");
        Path file = Files.createTempFile("sample", ".dump");
        try {
            ConnInfo conn = pg.conn(source);
            PgTools.Result r = PgTools.run(List.of(pg.tool("pg_dump").path().toString(), "-Fc", "-f", file.toString(), "-d", conn.withoutPassword()),
                    conn.childEnvironment(), null, 300);
            assertEquals(0, r.exitCode(), r.stderr());
            SampleDatabase.pgRestore(pg, file, target);
            Map<String, String> before = SampleDatabase.fingerprints(pg, source);
            assertTrue(before.size() >= 6, before.toString());
            assertEquals(before, SampleDatabase.fingerprints(pg, target));
            assertEquals(SampleDatabase.schema(pg, source), SampleDatabase.schema(pg, target));
            pg.sql(target, "update sales.orders set note = note || '!' where id = 7");
            assertNotEquals(before, SampleDatabase.fingerprints(pg, target));
        } finally {
            Files.deleteIfExists(file);
            pg.dropDatabase(source);
            pg.dropDatabase(target);
        }
    }
}
