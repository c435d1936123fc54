import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * Finding and running the PostgreSQL client tools (pg_dump, pg_restore, psql): to completion through zt-exec,
 * streaming through {@link ProcessBuilder} ({@link Streaming} says why).
 * Passwords go to children only through {@link ConnInfo#childEnvironment()}, never in argv, and children get only
 * the environment a client tool needs ({@link ChildEnvironment}): none of our AWS keys, URLs or other secrets.
 */
final class PgTools {
    /** Where Debian/Ubuntu (and the PostgreSQL apt repository) install each major version's tools. */
    static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+)(?:\\.(\\d+))?");

    /** A tool found on disk, with its version. */
    record Tool(Path path, int major, String version) {}

    /** The result of a tool that ran to completion. */
    record Result(int exitCode, String stdout, String stderr) {}

    /**
     * Chooses a client tool for a server of {@code serverMajor} (backup and restore share this rule):
     * the explicit path if given (refused if older than the server); else {@code ROOT/<major>/bin/<tool>} for the
     * server's major or the nearest newer one; else {@code tool} on PATH if not older than the server.
     * Otherwise exit 78 naming the package to install.
     */
    static Tool select(String tool, String explicitPath, int serverMajor, Path root, String pathEnv) {
        if (explicitPath != null && !explicitPath.isBlank()) {
            Path p = Path.of(explicitPath);
            if (!Files.isExecutable(p)) throw new Failure(Exit.CONFIG, tool + " not found or not executable at " + p);
            Tool found = probe(p);
            if (found.major() < serverMajor) throw tooOld(found, serverMajor);
            return found;
        }
        if (root != null && Files.isDirectory(root)) {
            List<Integer> majors = new ArrayList<>();
            try (var dirs = Files.list(root)) {
                dirs.forEach(d -> { if (d.getFileName().toString().matches("\\d+")) majors.add(Integer.parseInt(d.getFileName().toString())); });
            } catch (IOException e) {
                // unreadable root: fall through to PATH
            }
            majors.sort(null);
            for (int major : majors) {
                Path candidate = root.resolve(String.valueOf(major)).resolve("bin").resolve(tool);
                if (major >= serverMajor && Files.isExecutable(candidate)) {
                    Tool found = probe(candidate);
                    if (found.major() >= serverMajor) return found;
                }
            }
        }
        Path onPath = which(tool, pathEnv);
        if (onPath != null) {
            Tool found = probe(onPath);
            if (found.major() >= serverMajor) return found;
            throw tooOld(found, serverMajor);
        }
        throw new Failure(Exit.CONFIG, tool + " " + serverMajor + " or newer not found: install postgresql-client-" + serverMajor
                + " (apt.postgresql.org; on GitHub runners see the workflow template) or pass --" + tool.replace('_', '-') + " PATH");
    }

    static Tool select(String tool, String explicitPath, int serverMajor) {
        return select(tool, explicitPath, serverMajor, DEBIAN_ROOT, System.getenv("PATH"));
    }

    /** Any psql will do for simple queries; the newest one we can find. */
    static Tool anyPsql() {
        return select("psql", null, 0);
    }

    private static Failure tooOld(Tool found, int serverMajor) {
        return new Failure(Exit.CONFIG, found.path() + " is version " + found.version() + ", older than the server (" + serverMajor
                + "): install postgresql-client-" + serverMajor + " or newer, or pass --" + found.path().getFileName().toString().replace('_', '-') + " PATH");
    }

    /** Runs {@code tool --version} and parses "pg_dump (PostgreSQL) 17.2 (Debian ...)". */
    static Tool probe(Path exe) {
        Result r = run(List.of(exe.toString(), "--version"), Map.of(), null, 30);
        Matcher m = VERSION.matcher(r.stdout());
        if (r.exitCode() != 0 || !m.find()) throw new Failure(Exit.CONFIG, "cannot tell the version of " + exe + ": " + (r.stdout() + r.stderr()).strip());
        return new Tool(exe, Integer.parseInt(m.group(1)), m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
    }

    static Path which(String name, String pathEnv) {
        if (pathEnv == null) return null;
        for (String dir : pathEnv.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) return p;
        }
        return null;
    }

    /**
     * Runs a tool to completion, capturing stdout and stderr, with optional stdin. Its environment: ours through
     * {@link ChildEnvironment}'s allow-list, and {@code env} (the password) on top.
     */
    static Result run(List<String> command, Map<String, String> env, InputStream stdin, long timeoutSeconds) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            ProcessExecutor exec = new ProcessExecutor().command(command);
            // zt-exec adds to the inherited environment: a null value removes a variable.
            Map<String, String> childEnv = ChildEnvironment.forPgTool(System.getenv(), env);
            for (String name : System.getenv().keySet()) if (!childEnv.containsKey(name)) exec.environment(name, null);
            exec.environment(childEnv)
                    .readOutput(true).redirectError(err).exitValueAny().destroyOnExit();
            if (stdin != null) exec.redirectInput(stdin);
            if (timeoutSeconds > 0) exec.timeout(timeoutSeconds, TimeUnit.SECONDS);
            ProcessResult result = exec.execute();
            return new Result(result.getExitValue(), result.outputUTF8(), err.toString(StandardCharsets.UTF_8));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new Failure(Exit.UNAVAILABLE, command.get(0) + " did not finish within " + timeoutSeconds + " s");
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot run " + command.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Exit.FAILED, "interrupted while running " + command.get(0));
        }
    }

    /**
     * Runs one SQL statement with psql against {@code conn} and returns its output, unaligned and tuples only
     * (one row per line). Any psql or SQL error becomes a classified {@link Failure}.
     */
    static String query(Tool psql, ConnInfo conn, String sql) {
        // -w: never prompt for a password (it would wait on the terminal); a missing one is an error like any other.
        List<String> cmd = List.of(psql.path().toString(), "-X", "-q", "-w", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-d", conn.withoutPassword(), "-c", sql);
        Result r = run(cmd, conn.childEnvironment(), null, 600);
        if (r.exitCode() != 0) throw Errors.fromPgTool("psql", r.exitCode(), r.stderr());
        return r.stdout().strip();
    }

    /** The major version at the start of a version string ("17.6 (Debian ...)" → 17), 0 when there is none. */
    static int majorOf(String version) {
        if (version == null) return 0;
        Matcher m = Pattern.compile("^\\s*(\\d+)").matcher(version);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /** The server's major version and full version string, e.g. (15, "15.18"). */
    record ServerVersion(int major, String version) {}

    static ServerVersion serverVersion(Tool psql, ConnInfo conn) {
        String out = query(psql, conn, "select current_setting('server_version_num') || ' ' || current_setting('server_version')");
        String[] parts = out.split(" ", 2);
        int num = Integer.parseInt(parts[0].strip());
        return new ServerVersion(num / 10000, parts.length > 1 ? parts[1].strip() : String.valueOf(num / 10000));
    }

    /**
     * A started tool whose stdout (or stdin) the caller streams itself; stderr is collected in the background
     * (the last 64 KiB) so it can be shown when the tool fails.
     *
     * <p>Plain {@link ProcessBuilder}, not zt-exec: zt-exec closes a child's streams as soon as it exits, which
     * would throw away the last bytes still in the pipe (the end of a dump), and it merges stderr into stdout
     * unless told otherwise. Here the caller reads stdout to its end, and the child is destroyed if the JVM exits.
     */
    static final class Streaming implements AutoCloseable {
        private static final int STDERR_KEEP = 64 * 1024;
        private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroy), "destroy-children"));
        }

        private final Process process;
        private final StringBuilder stderr = new StringBuilder();
        private final Thread drainer;

        private Streaming(Process process) {
            this(process, null);
        }

        /** {@code stderrLines}, when not null, is told each line of stderr as it comes (e.g. pg_restore --verbose's progress). */
        private Streaming(Process process, java.util.function.Consumer<String> stderrLines) {
            this.process = process;
            LIVE.add(process);
            process.onExit().thenRun(() -> LIVE.remove(process));
            drainer = new Thread(() -> {
                byte[] buf = new byte[8192];
                java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
                try (InputStream in = process.getErrorStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (stderr) {
                            stderr.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                            if (stderr.length() > STDERR_KEEP) stderr.delete(0, stderr.length() - STDERR_KEEP);
                        }
                        if (stderrLines == null) continue;
                        for (int i = 0; i < n; i++) {
                            if (buf[i] != '\n') {
                                if (line.size() < 64 * 1024) line.write(buf[i]);
                                continue;
                            }
                            stderrLines.accept(line.toString(StandardCharsets.UTF_8));
                            line.reset();
                        }
                    }
                } catch (IOException ignored) {
                    // the process is gone; what we have is what there is
                }
            }, "stderr-drain");
            drainer.setDaemon(true);
            drainer.start();
        }

        InputStream stdout() { return process.getInputStream(); }

        OutputStream stdin() { return process.getOutputStream(); }

        Process process() { return process; }

        /** Waits for the exit status and for stderr to be fully read. */
        int waitFor() throws InterruptedException {
            int code = process.waitFor();
            drainer.join(10_000);
            return code;
        }

        String stderr() { synchronized (stderr) { return stderr.toString(); } }

        @Override
        public void close() {
            Process p = process;
            if (p.isAlive()) {
                p.destroy();
                try {
                    if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Starts a tool to stream from or to; its environment as in {@link #run}. */
    static Streaming start(List<String> command, Map<String, String> env) {
        return start(command, env, null);
    }

    /** As {@link #start(List, Map)}, telling {@code stderrLines} each line of the tool's stderr as it comes. */
    static Streaming start(List<String> command, Map<String, String> env, java.util.function.Consumer<String> stderrLines) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        pb.environment().putAll(ChildEnvironment.forPgTool(System.getenv(), env));
        try {
            return new Streaming(pb.start(), stderrLines);
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot run " + command.get(0) + ": " + e.getMessage());
        }
    }

    private PgTools() {}
}
