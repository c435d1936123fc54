import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * backup.java's rules that need no server: which pg_dump is chosen (with fake executables reporting versions).
 * Part sizes, pg_dump arguments, compression and the fleet file have their own tests, named after their classes.
 */
class BackupRulesTest {
    // ---- which pg_dump (fake executables in temp dirs) ----

    Path root;
    Path pathDir;

    @BeforeEach
    void dirs() throws Exception {
        root = Files.createTempDirectory("pg-root");
        pathDir = Files.createTempDirectory("pg-path");
    }

    @AfterEach
    void cleanUp() {
        PgServer.deleteTree(root);
        PgServer.deleteTree(pathDir);
    }

    /** A shell script answering --version like pg_dump of {@code version} does. */
    static Path fakeTool(Path dir, String tool, String version) throws Exception {
        Files.createDirectories(dir);
        Path p = dir.resolve(tool);
        Files.writeString(p, "#!/bin/sh\necho \"" + tool + " (PostgreSQL) " + version + " (fake)\"\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    Path inRoot(int major, String version) throws Exception { return fakeTool(root.resolve(major + "/bin"), "pg_dump", version); }

    PgTools.Tool select(String explicit, int serverMajor) {
        return PgTools.select("pg_dump", explicit, serverMajor, root, pathDir.toString() + File.pathSeparator + "/nonexistent");
    }

    @Test
    void theServersMajorOrTheNearestNewerUnderTheRoot() throws Exception {
        inRoot(14, "14.9");
        Path v16 = inRoot(16, "16.4");
        Path v17 = inRoot(17, "17.2");
        fakeTool(pathDir, "pg_dump", "18.0");
        assertEquals(v16, select(null, 15).path());
        assertEquals(v16, select(null, 16).path());
        assertEquals(v17, select(null, 17).path());
        assertEquals("16.4", select(null, 16).version());
    }

    @Test
    void pathWhenTheRootHasNothingNewEnough() throws Exception {
        inRoot(14, "14.9");
        Path onPath = fakeTool(pathDir, "pg_dump", "17.1");
        assertEquals(onPath, select(null, 16).path());
        assertEquals(17, select(null, 16).major());
    }

    @Test
    void tooOldOnPathStopsWithThePackageToInstall() throws Exception {
        inRoot(14, "14.9");
        fakeTool(pathDir, "pg_dump", "15.3");
        Failure f = assertThrows(Failure.class, () -> select(null, 16));
        assertEquals(Exit.CONFIG, f.exitCode);
        assertTrue(f.getMessage().contains("older than the server") && f.getMessage().contains("postgresql-client-16"), f.getMessage());
    }

    @Test
    void noneAtAllStopsWithThePackageToInstall() {
        Failure f = assertThrows(Failure.class, () -> select(null, 17));
        assertEquals(Exit.CONFIG, f.exitCode);
        assertTrue(f.getMessage().contains("postgresql-client-17"), f.getMessage());
    }

    @Test
    void anExplicitPathWinsUnlessItIsTooOldOrMissing() throws Exception {
        inRoot(17, "17.2");
        Path mine = fakeTool(pathDir.resolve("mine"), "pg_dump", "16.1");
        assertEquals(mine, select(mine.toString(), 16).path());
        Failure old = assertThrows(Failure.class, () -> select(mine.toString(), 17));
        assertEquals(Exit.CONFIG, old.exitCode);
        assertTrue(old.getMessage().contains("older than the server"), old.getMessage());
        Failure missing = assertThrows(Failure.class, () -> select(pathDir.resolve("nothing").toString(), 15));
        assertEquals(Exit.CONFIG, missing.exitCode);
    }
}
