import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real PgBouncer (Debian's package: /usr/sbin/pgbouncer) in front of the test cluster, the way Neon's -pooler
 * endpoint and many self-hosted setups put one: a pool mode of the test's choice (transaction, like Neon's), few
 * server connections, handed out round-robin so that a client's successive transactions land on different server
 * connections (as they do under load), SCRAM for clients. Started as the `postgres` user when we are root
 * (PgBouncer refuses to run as root), on a free loopback port; stopped by {@link #close}.
 *
 * <p>{@link #load} adds concurrent application clients through the pool; {@link #admin} runs a command on
 * PgBouncer's admin console as the superuser (its only admin user).
 */
final class PgBouncer implements AutoCloseable {
    final int port;
    final String poolMode;
    private final PgServer pg;
    private final Path dir;
    private final Process process;
    private final List<Load> loads = new ArrayList<>();

    private PgBouncer(PgServer pg, String poolMode, int port, Path dir, Process process) {
        this.pg = pg;
        this.poolMode = poolMode;
        this.port = port;
        this.dir = dir;
        this.process = process;
    }

    /** Starts PgBouncer in {@code poolMode} for every database of the test cluster; {@code users}: name → password (the superuser is added). */
    static PgBouncer start(PgServer pg, String poolMode, Map<String, String> users) {
        Path exe = executable();
        try {
            Path dir = Files.createTempDirectory("pgdump-s3-pgbouncer-");
            int port = PgServer.freePort();
            Map<String, String> all = new LinkedHashMap<>(users);
            all.put(pg.user, pg.password);
            StringBuilder auth = new StringBuilder();
            for (var u : all.entrySet()) auth.append(quote(u.getKey())).append(' ').append(quote(u.getValue())).append('\n');
            Files.writeString(dir.resolve("userlist.txt"), auth.toString(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
                    "[databases]",
                    "* = host=" + pg.host + " port=" + pg.port,
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    "listen_port = " + port,
                    "unix_socket_dir =",
                    "auth_type = scram-sha-256",
                    "auth_file = " + dir.resolve("userlist.txt"),
                    "pool_mode = " + poolMode,
                    "default_pool_size = 3",
                    "server_round_robin = 1",
                    "max_client_conn = 200",
                    "admin_users = " + pg.user,
                    "logfile = " + dir.resolve("pgbouncer.log"),
                    ""), StandardCharsets.UTF_8);
            if (Proc.isRoot()) Proc.run(List.of("chown", "-R", "postgres:postgres", dir.toString()), Map.of(), 30);
            ProcessBuilder pb = new ProcessBuilder(PgServer.asPostgres(List.of(exe.toString(), dir.resolve("pgbouncer.ini").toString())))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile());
            Process p = pb.start();
            PgBouncer b = new PgBouncer(pg, poolMode, port, dir, p);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (true) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException notYet) {
                    if (!p.isAlive() || System.nanoTime() > deadline) {
                        b.close();
                        throw new IllegalStateException("pgbouncer did not start: " + Files.readString(dir.resolve("stdout.log")));
                    }
                    Thread.sleep(100);
                }
            }
            return b;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start pgbouncer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Path executable() {
        Path onPath = PgTools.which("pgbouncer", System.getenv("PATH"));
        if (onPath != null) return onPath;
        Path debian = Path.of("/usr/sbin/pgbouncer");
        if (Files.isExecutable(debian)) return debian;
        throw new IllegalStateException("pgbouncer not found: install Debian's package (apt-get install pgbouncer; .ci/run does)");
    }

    private static String quote(String s) { return "\"" + s.replace("\"", "\"\"") + "\""; }

    /** postgresql://user:password@127.0.0.1:PORT/db, percent-encoded. */
    String url(String user, String password, String database) {
        return "postgresql://" + ConnInfo.encode(user) + ":" + ConnInfo.encode(password) + "@127.0.0.1:" + port + "/" + ConnInfo.encode(database);
    }

    /** Runs an admin console command (SHOW POOLS, RECONNECT, ...) as the superuser; returns its unaligned output. */
    String admin(String command) {
        ConnInfo c = ConnInfo.parse(url(pg.user, pg.password, "pgbouncer"));
        PgTools.Result r = PgTools.run(List.of(pg.psql().path().toString(), "-X", "-A", "-t", "-d", c.withoutPassword(), "-c", command),
                c.childEnvironment(), null, 60);
        if (r.exitCode() != 0) throw new IllegalStateException("pgbouncer admin " + command + ": " + r.stderr());
        return r.stdout();
    }

    /**
     * {@code clients} application clients through the pool, each running {@code sql} in a loop (one transaction
     * each) until {@link #close}. Errors do not stop them; {@link Load#errors} counts them.
     */
    Load load(String user, String password, String database, String sql, int clients) {
        Load l = new Load();
        for (int i = 0; i < clients; i++) {
            PsqlSession s = PsqlSession.open(pg.psql(), ConnInfo.parse(url(user, password, database)));
            l.sessions.add(s);
            l.threads.add(Threads.start("pgbouncer-load-" + i, () -> {
                while (!l.stopped) {
                    PsqlSession.Reply r = s.run(sql);
                    if (r.ok()) l.queries.incrementAndGet();
                    else {
                        l.errors.incrementAndGet();
                        l.lastError = r.error();
                    }
                    if (s.ended()) return;
                }
            }));
        }
        loads.add(l);
        return l;
    }

    /** Concurrent clients started by {@link #load}. */
    static final class Load implements AutoCloseable {
        final AtomicLong queries = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        volatile String lastError;
        private volatile boolean stopped;
        private final List<PsqlSession> sessions = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();

        @Override
        public void close() {
            stopped = true;
            for (Thread t : threads) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (PsqlSession s : sessions) s.close();
        }
    }

    @Override
    public void close() {
        for (Load l : loads) l.close();
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        PgServer.deleteTree(dir);
    }
}
