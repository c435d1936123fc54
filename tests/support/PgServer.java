import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The PostgreSQL server the tests use, started once per suite (design.md section 5):
 * PG_TEST_URL if set (a superuser URL); else Testcontainers PostgreSQL when Docker is available; else a
 * throwaway cluster from local binaries (PG_TEST_BIN, or the newest /usr/lib/postgresql/N/bin), initdb'd
 * into a temp dir, listening on a free 127.0.0.1 port, run as the `postgres` user when we are root, and
 * stopped and deleted when the suite's JVM exits.
 *
 * The superuser password deliberately contains URL-special characters, so every test exercises password
 * encoding and the "never in argv" rule; {@link #PASSWORD} is what the secret-scanning tests look for.
 */
final class PgServer {
    static final String PASSWORD = Secrets.register("Pg p@ss:/?#&%'w0rd-" + UUID.randomUUID().toString().substring(0, 8));
    private static PgServer instance;

    final String host;
    final int port;
    final String user;
    final String password;
    final String kind;          // "external", "testcontainers", "local"
    final Path binDir;          // local cluster only: initdb/pg_ctl live here
    private final Path dataDir;
    private final Path socketDir;

    private PgServer(String kind, String host, int port, String user, String password, Path binDir, Path dataDir, Path socketDir) {
        this.kind = kind;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.binDir = binDir;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
    }

    /** A server someone else runs (PG_TEST_URL, a container). */
    static PgServer external(String host, int port, String user, String password, String kind) {
        return new PgServer(kind, host, port, user, password, null, null, null);
    }

    static synchronized PgServer get() {
        if (instance == null) instance = start();
        return instance;
    }

    /** postgresql://user:password@host:port/db with the password percent-encoded. */
    String url(String database) {
        return "postgresql://" + ConnInfo.encode(user) + ":" + ConnInfo.encode(password) + "@" + host + ":" + port + "/" + ConnInfo.encode(database);
    }

    ConnInfo conn(String database) { return ConnInfo.parse(url(database)); }

    /** Runs SQL as the superuser in {@code database}; returns unaligned tuples-only output. */
    String sql(String database, String sql) { return PgTools.query(psql(), conn(database), sql); }

    /** Creates an empty database with a unique name (prefix + random suffix) and returns its name. */
    String createDatabase(String prefix) {
        String name = prefix + "_" + UUID.randomUUID().toString().substring(0, 8);
        sql("postgres", "create database \"" + name + "\"");
        return name;
    }

    void dropDatabase(String name) { sql("postgres", "drop database if exists \"" + name + "\" with (force)"); }

    /** A client tool (pg_dump, pg_restore, psql) at least as new as the server. */
    PgTools.Tool tool(String name) {
        return PgTools.select(name, null, serverMajor());
    }

    PgTools.Tool psql() { return PgTools.anyPsql(); }

    int serverMajor() { return PgTools.serverVersion(PgTools.anyPsql(), conn("postgres")).major(); }

    /** Stops the local cluster immediately (fault tests: the server going away mid-dump). */
    void stopNow() { requireLocal(); pgCtl("stop", "-m", "immediate"); }

    void startAgain() { requireLocal(); pgCtl("start"); }

    private void requireLocal() {
        if (!kind.equals("local")) throw new IllegalStateException("only a local test cluster can be stopped and started");
    }

    private static PgServer start() {
        String external = System.getenv("PG_TEST_URL");
        if (external != null && !external.isBlank()) {
            ConnInfo c = ConnInfo.parse(external);
            String hostPort = c.host();
            int colon = hostPort.lastIndexOf(':');
            String host = colon > 0 ? hostPort.substring(0, colon) : hostPort;
            int port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : 5432;
            return external(host, port, c.user(), c.password(), "external");
        }
        if (Docker.available()) return Docker.startPostgres(PASSWORD);
        return startLocal();
    }

    private static PgServer startLocal() {
        return startLocal(findBinDir(), Map.of());
    }

    /**
     * A throwaway cluster from the server binaries in {@code bin} (initdb, pg_ctl, postgres), run with {@code env} added
     * (e.g. LD_LIBRARY_PATH for the npm builds, tests/support/PgVersions); stopped and deleted by {@link #stop()} or when
     * the JVM exits.
     */
    static PgServer startLocal(Path bin, Map<String, String> env) {
        try {
            Path base = Files.createTempDirectory("pgdump-s3-pg-");
            Path data = base.resolve("data");
            Path sockets = base.resolve("sockets");
            Files.createDirectories(sockets);
            Path pwfile = base.resolve("pwfile");
            Files.writeString(pwfile, PASSWORD + "\n", StandardCharsets.UTF_8);
            if (Proc.isRoot()) Proc.run(List.of("chown", "-R", "postgres:postgres", base.toString()), Map.of(), 30);
            int port = freePort();
            Proc.run(asPostgres(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                    "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync")), env, 120);
            Files.deleteIfExists(pwfile);
            String opts = "-p " + port + " -k " + sockets + " -c listen_addresses=127.0.0.1 -c fsync=off"
                    + " -c synchronous_commit=off -c full_page_writes=off -c max_connections=60";
            PgServer server = new PgServer("local", "127.0.0.1", port, "postgres", PASSWORD, bin, data, sockets);
            server.pgCtlOptions = opts;
            server.env = env;
            server.pgCtl("start");
            Thread stop = new Thread(() -> {
                server.stopAtShutdown();
                deleteTree(base);
            });
            server.stopHook = stop;
            Runtime.getRuntime().addShutdownHook(stop);
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a test PostgreSQL cluster: " + e.getMessage(), e);
        }
    }

    private String pgCtlOptions;
    private Map<String, String> env = Map.of();
    private Thread stopHook;

    /** Stops a cluster of {@link #startLocal(Path, Map)} now and deletes it (not the suite's shared one). */
    void stop() {
        if (stopHook == null || this == instance) throw new IllegalStateException("only a cluster started with startLocal(bin, env) is stopped by its test");
        Runtime.getRuntime().removeShutdownHook(stopHook);
        stopHook.run();
        stopHook = null;
    }

    /**
     * Stops the cluster while the JVM exits. Not through {@link Proc}: zt-exec's own shutdown hook destroys the
     * processes it started, and it runs at the same time as this one, so it could kill pg_ctl before pg_ctl had
     * stopped the server, which then outlived the suite with its directory deleted. If pg_ctl fails anyway, the
     * postmaster is signalled directly.
     */
    private void stopAtShutdown() {
        Long postmaster = null;
        try {
            postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
        } catch (IOException | RuntimeException notRunning) {
            return;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(asPostgres(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-w", "-t", "60",
                    "stop", "-m", "fast"))).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(env);
            Process p = pb.start();
            if (p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0) return;
            p.destroyForcibly();
        } catch (IOException | InterruptedException e) {
            // fall through to the signal
        }
        // SIGINT is PostgreSQL's fast shutdown (SIGTERM, what destroy() sends, waits for clients); then SIGKILL. The
        // directory is deleted only after the server is gone.
        Optional<ProcessHandle> server = ProcessHandle.of(postmaster);
        if (server.isEmpty()) return;
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(postmaster)).start().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            server.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            server.get().destroyForcibly();
        }
    }

    private void pgCtl(String action, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-w", "-t", "60"));
        if (action.equals("start")) cmd.addAll(List.of("-o", pgCtlOptions, "-l", dataDir.resolveSibling("server.log").toString()));
        cmd.add(action);
        cmd.addAll(List.of(extra));
        Proc.run(asPostgres(cmd), env, 90);
    }

    static List<String> asPostgres(List<String> cmd) {
        if (!Proc.isRoot()) return cmd;
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(cmd);
        return wrapped;
    }

    static Path findBinDir() {
        String explicit = System.getenv("PG_TEST_BIN");
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        try (Stream<Path> dirs = Files.list(PgTools.DEBIAN_ROOT)) {
            return dirs.filter(d -> d.getFileName().toString().matches("\\d+") && Files.isExecutable(d.resolve("bin/initdb")))
                    .max(Comparator.comparingInt(d -> Integer.parseInt(d.getFileName().toString())))
                    .map(d -> d.resolve("bin"))
                    .orElseThrow();
        } catch (Exception e) {
            throw new IllegalStateException("no PostgreSQL server binaries found: install postgresql-15 (apt-get install postgresql-15),"
                    + " or set PG_TEST_BIN to a directory with initdb and pg_ctl, or PG_TEST_URL to a superuser URL");
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // best effort: a temp dir (Files.walk throws UncheckedIOException when a file vanishes under it)
        }
    }
}
