import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A second, throwaway PostgreSQL server that lacks some extensions: the drill's scratch server as a stock image is
 * to a database using pgvector or PostGIS. The test server ({@link PgServer}) has PostgreSQL's contrib extensions;
 * this one runs the same local binaries from a copy of the installation whose share directory leaves out the
 * named extensions' files. PostgreSQL finds its share directory relative to where its binary is (a relocatable
 * installation), so copying postgres/initdb/pg_ctl next to a pruned copy of share/ is enough; the libraries stay
 * where they are (a symbolic link). Needs local server binaries (/usr/lib/postgresql/N, or PG_TEST_BIN).
 */
final class LimitedPgServer implements AutoCloseable {
    final PgServer server;
    private final Path base;
    private final Path bin;
    private final Path data;

    private LimitedPgServer(PgServer server, Path base, Path bin, Path data) {
        this.server = server;
        this.base = base;
        this.bin = bin;
        this.data = data;
    }

    /** Starts a server on 127.0.0.1 whose installation has no files of these extensions (same superuser and password as PgServer's). */
    static LimitedPgServer without(String... extensions) {
        Path realBin = PgServer.findBinDir();
        Map<String, Path> dirs = Map.of("bindir", realBin, "sharedir", pgConfig(realBin, "--sharedir"), "pkglibdir", pgConfig(realBin, "--pkglibdir"));
        try {
            Path base = Files.createTempDirectory("pgdump-s3-limited-pg-");
            Path common = commonParent(List.copyOf(dirs.values()));
            Path bin = base.resolve(common.relativize(dirs.get("bindir")));
            Path share = base.resolve(common.relativize(dirs.get("sharedir")));
            Path lib = base.resolve(common.relativize(dirs.get("pkglibdir")));
            Files.createDirectories(bin);
            for (String tool : List.of("postgres", "initdb", "pg_ctl")) Files.copy(realBin.resolve(tool), bin.resolve(tool), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            Files.createDirectories(lib.getParent());
            if (!Files.exists(lib)) Files.createSymbolicLink(lib, dirs.get("pkglibdir"));
            copyTree(dirs.get("sharedir"), share);
            try (Stream<Path> files = Files.list(share.resolve("extension"))) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    for (String e : extensions) if (name.equals(e + ".control") || name.startsWith(e + "--")) Files.delete(f);
                }
            }
            Path data = base.resolve("data");
            Path pwfile = base.resolve("pwfile");
            Files.writeString(pwfile, PgServer.PASSWORD + "\n", StandardCharsets.UTF_8);
            if (Proc.isRoot()) Proc.run(List.of("chown", "-R", "postgres:postgres", base.toString()), Map.of(), 30);
            Proc.run(PgServer.asPostgres(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                    "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync")), Map.of(), 120);
            Files.deleteIfExists(pwfile);
            int port = PgServer.freePort();
            Proc.run(PgServer.asPostgres(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
                    base.resolve("server.log").toString(), "-o", "-p " + port + " -k " + base + " -c listen_addresses=127.0.0.1 -c fsync=off", "start")),
                    Map.of(), 90);
            LimitedPgServer limited = new LimitedPgServer(PgServer.external("127.0.0.1", port, "postgres", PgServer.PASSWORD, "limited"), base, bin, data);
            Runtime.getRuntime().addShutdownHook(new Thread(limited::close));
            return limited;
        } catch (IOException e) {
            throw new IllegalStateException("cannot set up a PostgreSQL server without " + String.join(", ", extensions) + ": " + e.getMessage(), e);
        }
    }

    String url(String database) { return server.url(database); }

    @Override
    public synchronized void close() {
        if (!Files.exists(data.resolve("postmaster.pid"))) {
            PgServer.deleteTree(base);
            return;
        }
        try {
            Process p = new ProcessBuilder(PgServer.asPostgres(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60",
                    "stop", "-m", "fast"))).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (IOException | InterruptedException e) {
            // best effort: a temp cluster
        }
        PgServer.deleteTree(base);
    }

    private static Path pgConfig(Path bin, String what) {
        Path pgConfig = bin.resolve("pg_config");
        if (!Files.isExecutable(pgConfig)) throw new IllegalStateException("no pg_config in " + bin + ": cannot copy the PostgreSQL installation");
        return Path.of(Proc.run(List.of(pgConfig.toString(), what), Map.of(), 30).strip());
    }

    private static Path commonParent(List<Path> paths) {
        Path common = paths.get(0).toAbsolutePath().normalize();
        for (Path p : paths) while (!p.toAbsolutePath().normalize().startsWith(common)) common = common.getParent();
        return common;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }
}
