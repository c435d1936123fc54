import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One database session kept open across several steps: a psql reading statements from its stdin. What one-shot
 * {@link PgTools#query} cannot do: hold a transaction (and the snapshot it exported) open while pg_dump runs, and
 * go on after a failed statement (ON_ERROR_STOP is off; an error is returned with the statement's {@link Reply}).
 *
 * <p>Each {@link #run} sends its SQL followed by {@code \echo MARKER} and reads until the marker comes back, so
 * every reply belongs to its request. psql's stderr is merged into its stdout by the shell that starts it (an
 * error line arrives before the marker of its statement); the password reaches psql through its environment
 * ({@link ConnInfo#childEnvironment()}), never its arguments. Queries should tag their rows (e.g.
 * {@code select 'n=' || count(*)}) so that a row is never mistaken for a message. Not thread-safe: one caller at
 * a time ({@link #cancel} is the exception).
 */
final class PsqlSession implements AutoCloseable {
    /** The rows a request returned (tuples only, unaligned) and its first error, or null. */
    record Reply(List<String> rows, String error) {
        boolean ok() { return error == null; }

        /** The value of the first row tagged {@code tag=}, or null. */
        String value(String tag) {
            for (String r : rows) if (r.startsWith(tag + "=")) return r.substring(tag.length() + 1);
            return null;
        }
    }

    private final PgTools.Streaming proc;
    private final BufferedReader out;
    private final OutputStream in;
    private final String marker = "pgdump-s3-" + UUID.randomUUID();
    private volatile boolean ended;

    private PsqlSession(PgTools.Streaming proc) {
        this.proc = proc;
        this.out = new BufferedReader(new InputStreamReader(proc.stdout(), StandardCharsets.UTF_8));
        this.in = proc.stdin();
    }

    /** Connects; a connection that fails is a classified {@link Failure} (69, 77, 64...). */
    static PsqlSession open(PgTools.Tool psql, ConnInfo conn) {
        // -X: no ~/.psqlrc; -w: never prompt; tuples only, unaligned; errors do not end the session.
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", psql.path().toString(),
                "-X", "-q", "-w", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-d", conn.withoutPassword()));
        Map<String, String> env = new HashMap<>(conn.childEnvironment());
        env.putIfAbsent("PGCLIENTENCODING", "UTF8"); // names arrive as UTF-8 whatever the runner's locale
        PsqlSession s = new PsqlSession(PgTools.start(cmd, env));
        Reply hello = s.run("select 'ok=1';");
        if (!"1".equals(hello.value("ok"))) {
            String why = hello.error() != null ? hello.error() : String.join(" | ", hello.rows());
            s.close();
            throw Errors.fromPgTool("psql", 2, why);
        }
        return s;
    }

    /** Sends SQL statements (each ending with ;) and/or psql meta-commands, and returns what they printed; never throws for an SQL error. */
    Reply run(String sql) {
        List<String> rows = new ArrayList<>();
        String error = null;
        String writeFailed = null;
        try {
            in.write((sql + "\n\\echo " + marker + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            writeFailed = e.getMessage(); // psql is gone: what it printed before it went says why
        }
        try {
            for (String line; ; ) {
                line = out.readLine();
                if (line == null) {
                    ended = true;
                    return new Reply(rows, error != null ? error : "FATAL: the psql session ended" + (writeFailed == null ? "" : " (" + writeFailed + ")")
                            + (rows.isEmpty() ? "" : ": " + String.join(" | ", rows)));
                }
                if (line.equals(marker)) break;
                String message = message(line);
                if (message == null) {
                    rows.add(line);
                } else if (error == null && (message.startsWith("ERROR:") || message.startsWith("FATAL:") || message.startsWith("PANIC:"))) {
                    error = message;
                } else if (error != null && message.startsWith("DETAIL:")) {
                    error += " " + message;
                }
            }
        } catch (IOException e) {
            ended = true;
            return new Reply(rows, error != null ? error : "FATAL: the psql session ended: " + e.getMessage());
        }
        return new Reply(rows, error);
    }

    /** Like {@link #run}, but an error is a {@link Failure} (classified as psql's). */
    Reply runOrThrow(String sql) {
        Reply r = run(sql);
        if (!r.ok()) throw Errors.fromPgTool("psql", 1, r.error());
        return r;
    }

    /**
     * A server message psql printed ("ERROR:  ...", "psql:<stdin>:3: ERROR:  ...", "WARNING: ...", "DETAIL: ..."),
     * without psql's location prefix; null for a row.
     */
    static String message(String line) {
        String s = line.replaceFirst("^psql:[^ ]*?:\\d+: ", "");
        if (s.startsWith("psql: ")) return "FATAL: " + s.substring(6).strip(); // psql's own, e.g. "psql: error: connection to server ... failed"
        if (s.matches("(ERROR|FATAL|PANIC|WARNING|NOTICE|DETAIL|HINT|CONTEXT|INFO|LINE \\d+):.*")) return s.replaceAll("\\s+", " ");
        if (s.startsWith("server closed the connection") || s.startsWith("connection to server") || s.startsWith("could not send")
                || s.startsWith("\tThis probably means")) {
            return "FATAL: " + s.strip();
        }
        if (s.matches("\\s+\\^\\s*")) return "LINE: ^"; // the caret under a "LINE n:" message
        return null;
    }

    /** True once psql has gone (connection lost, killed). */
    boolean ended() { return ended || !proc.process().isAlive(); }

    /**
     * Cancels the statement running now, if any: SIGINT makes psql send PostgreSQL a cancel request (killing psql
     * alone would leave the server running the statement until it tried to send its result).
     */
    void cancel() {
        if (!proc.process().isAlive()) return;
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(proc.process().pid())).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            // no kill(1): close() still ends psql
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the session: psql exits at the end of its input (an open transaction is rolled back by the server). */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!proc.process().waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) proc.close();
        } catch (InterruptedException e) {
            proc.close();
            Thread.currentThread().interrupt();
        }
    }
}
