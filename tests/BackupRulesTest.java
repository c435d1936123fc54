import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * backup.java's rules that need no server: part sizes, which extra pg_dump arguments are refused, the
 * compression default, the fleet file, and which pg_dump is chosen (with fake executables reporting versions).
 */
class BackupRulesTest {
    static final long MiB = 1L << 20;
    static final long GiB = 1L << 30;
    static final long TiB = 1L << 40;

    // ---- part sizes ----

    @Test
    void tenThousandPartsHoldMoreThanATebibyteForEveryFirstPartSize() {
        for (long first : List.of(5 * MiB, 8 * MiB, 16 * MiB, 100 * MiB, 512 * MiB, GiB)) {
            long total = 0;
            for (int part = 1; part <= Backup.PartSizes.MAX_PARTS; part++) {
                long size = Backup.PartSizes.size(part, first);
                assertTrue(size >= 5 * MiB && size <= 5 * GiB, "part " + part + " of first " + first + ": " + size);
                assertTrue(size <= Integer.MAX_VALUE, "a Java array holds it");
                total += size;
            }
            assertTrue(total >= TiB, "first " + first + ": 10,000 parts hold only " + total);
        }
    }

    @Test
    void defaultPartsStaySmallForDumpsUpToEightGigabytesThenDouble() {
        long first = Backup.PartSizes.parse("8MiB");
        assertEquals(8 * MiB, first);
        long total = 0;
        for (int part = 1; part <= 1000; part++) {
            assertEquals(8 * MiB, Backup.PartSizes.size(part, first));
            total += Backup.PartSizes.size(part, first);
        }
        assertTrue(total >= 8_000_000_000L, "" + total);
        assertEquals(16 * MiB, Backup.PartSizes.size(1001, first));
        assertEquals(32 * MiB, Backup.PartSizes.size(2001, first));
        assertEquals(256 * MiB, Backup.PartSizes.size(10_000, first)); // the ceiling: 3 buffers stay under 1 GiB
    }

    @Test
    void partSizeOption() {
        assertEquals(5 * MiB, Backup.PartSizes.parse("5MiB"));
        assertEquals(64 * MiB, Backup.PartSizes.parse("64M"));
        assertEquals(GiB, Backup.PartSizes.parse("1GiB"));
        assertEquals(6 * MiB, Backup.PartSizes.parse(String.valueOf(6 * MiB)));
        for (String bad : List.of("4MiB", "2GiB", "lots", "-8MiB", "99999999999999999999")) {
            Failure f = assertThrows(Failure.class, () -> Backup.PartSizes.parse(bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
        }
    }

    // ---- extra pg_dump arguments ----

    @Test
    void harmlessPgDumpArgumentsPass() {
        for (List<String> ok : List.of(List.of("--exclude-table-data=public.audit_log"), List.of("-t", "sales.*", "-n", "public"),
                List.of("--exclude-table-data", "audit"), List.of("-Fc"), List.of("--format=custom"), List.of("-F", "c"),
                List.of("--schema-only"), List.of("-v", "--no-owner", "--no-acl"), List.of("--filter=rules.txt"), List.of("-sv"),
                List.of("--table", "f"), List.of("-T", "-d"), List.of("--exclude-tab=x"), List.of("--serializable-deferrable"),
                List.of("--enable-row-security"))) {
            assertEquals(ok, Backup.DumpArgs.check(ok), ok.toString());
        }
    }

    /** Flags backup acts on (its row counts follow pg_dump's row security and isolation), found however they are spelled. */
    @Test
    void flagsBackupActsOnAreFoundAbbreviatedToo() {
        assertTrue(Backup.DumpArgs.has(List.of("-v", "--enable-row-sec"), "enable-row-security"));
        assertTrue(Backup.DumpArgs.has(List.of("--serializable-deferrable"), "serializable-deferrable"));
        assertTrue(!Backup.DumpArgs.has(List.of("--exclude-table=x", "-v"), "serializable-deferrable"));
        assertEquals(List.of("-v", "--schema=public"), Backup.DumpArgs.without(List.of("-v", "--serializable", "--schema=public"), "serializable-deferrable"));
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
            Failure f = assertThrows(Failure.class, () -> Backup.DumpArgs.check(bad), bad.toString());
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("is not allowed"), f.getMessage());
        }
    }

    // ---- compression ----

    @Test
    void compressionDefaultsToTheBestTheClientOffers() {
        assertEquals(new Backup.Compression("--compress=6", "gzip:6"), Backup.Compression.choose(null, 14));
        assertEquals(new Backup.Compression("--compress=6", "gzip:6"), Backup.Compression.choose(null, 15));
        assertEquals(new Backup.Compression("--compress=zstd", "zstd"), Backup.Compression.choose(null, 16));
        assertEquals(new Backup.Compression("--compress=zstd", "zstd"), Backup.Compression.choose(" ", 17));
        assertEquals(new Backup.Compression("--compress=lz4:3", "lz4:3"), Backup.Compression.choose("lz4:3", 17));
        assertEquals(new Backup.Compression("--compress=0", "none"), Backup.Compression.choose("0", 15));
        assertEquals(new Backup.Compression("--compress=9", "gzip:9"), Backup.Compression.choose("9", 15));
        assertEquals("none", Backup.Compression.label("none"));
        assertEquals(new Backup.Compression("--compress=gzip:9", "gzip:9"), Backup.Compression.choose("gzip:9", 16));
        for (String notFor15 : List.of("zstd", "gzip:9", "none", "10")) {
            Failure f = assertThrows(Failure.class, () -> Backup.Compression.choose(notFor15, 15), notFor15);
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(f.getMessage().contains("pg_dump 16"), f.getMessage());
        }
    }

    // ---- fleet file ----

    @Test
    void fleetFile() {
        List<Backup.Target> targets = Backup.Fleet.parse(List.of(
                "# production",
                "  app=postgresql://u:p@h1/app?sslmode=require  ",
                "",
                "postgresql://u@h2/Sales%20DB",
                "neon=${NEON_URL}"), "fleet.txt", Map.of("NEON_URL", "postgresql://u:pw@ep-x.aws.neon.tech/neondb?sslmode=require&channel_binding=require"));
        assertEquals(3, targets.size());
        assertEquals("app", targets.get(0).name());
        assertEquals("app", targets.get(0).conn().database());
        assertEquals(null, targets.get(1).name()); // named later, after its database
        assertEquals("Sales DB", targets.get(1).conn().database());
        assertEquals("neon", targets.get(2).name());
        assertEquals("postgresql://u@ep-x.aws.neon.tech/neondb?sslmode=require&channel_binding=require", targets.get(2).conn().withoutPassword());

        for (List<String> bad : List.of(List.of("just words"), List.of("Bad Name=postgresql://u@h/db"), List.of("x=${UNSET_VAR}"),
                List.of("x=mysql://u:secret@h/db"), List.of("# only a comment"))) {
            Failure f = assertThrows(Failure.class, () -> Backup.Fleet.parse(bad, "fleet.txt", Map.of()), bad.toString());
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(!f.getMessage().contains("secret"), f.getMessage());
        }
    }

    /** The forms a fleet line arrives in from editors and secret stores: a BOM, quotes, spaces around '='. */
    @Test
    void fleetFileForgivesBomAndQuotes() {
        List<Backup.Target> targets = Backup.Fleet.parse(List.of(
                "\uFEFFapp=postgresql://u:pw@h1/app",
                "\"postgresql://u:pw@h2/sales\"",
                "neon = 'postgresql://u:pw@ep-x.aws.neon.tech/neondb?sslmode=require'",
                "crm=\"${CRM_URL}\""), "fleet.txt", Map.of("CRM_URL", "postgresql://u:pw@h3/crm"));
        assertEquals(List.of("app", "-", "neon", "crm"), targets.stream().map(t -> t.name() == null ? "-" : t.name()).toList());
        assertEquals(List.of("postgresql://u@h1/app", "postgresql://u@h2/sales", "postgresql://u@ep-x.aws.neon.tech/neondb?sslmode=require", "postgresql://u@h3/crm"),
                targets.stream().map(t -> t.conn().withoutPassword()).toList());
    }

    /**
     * Lines that may hold a URL, in any form the parser does not take: never echoed, never made into a name
     * suggestion (the old "e.g." was the password lowercased), whatever the error.
     */
    @Test
    void fleetLinesThatMayHoldAUrlAreNeverEchoed() {
        String secret = "Zq9-Xylo%Vex";
        for (String line : List.of("jdbc:postgresql://app:" + secret + "@host/db?sslmode=require", "postgresql//app:" + secret + "@host/db?sslmode=require",
                "app:" + secret + "@host/db", "\"jdbc:postgresql://app:" + secret + "@host/db\"", secret + "@host/db?sslmode=require",
                "x=postgresql://app:" + secret + "@host/db?sslmdoe=require", "x=postgresql://app:" + secret + "@host:0/db",
                "app " + secret + " = postgresql://u@h/db")) {
            Failure f = assertThrows(Failure.class, () -> Backup.Fleet.parse(List.of(line), "fleet.txt", Map.of()), line);
            assertEquals(Exit.USAGE, f.exitCode, line);
            String m = f.getMessage().toLowerCase(java.util.Locale.ROOT);
            assertTrue(m.startsWith("fleet.txt line 1: "), m);
            assertTrue(!m.contains("xylo") && !m.contains("vex") && !m.contains("host/") && !m.contains("e.g."), "from the line in: " + f.getMessage());
        }
    }

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
