import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server on 127.0.0.1 that a libpq client (psql, pg_dump, ...) connects to as if to PostgreSQL. While the
 * client waits for the first answer, it records what every process under this JVM that runs a PostgreSQL client of
 * this server (its port in the client's URL: postgresql://...:PORT/...) holds in its argv and environment (/proc/PID/cmdline and environ): the client is surely alive at that moment,
 * so this sees it deterministically, however briefly it runs. Then it answers an SSLRequest with 'S' (the client
 * then loads its client certificate and key, decrypting the key with sslpassword, and starts TLS) and closes.
 */
final class FakePostgres implements AutoCloseable {
    /** One client process as seen while it connected. */
    record Seen(long pid, String cmdline, String environ) {
        boolean holds(String text) { return cmdline.contains(text) || environ.contains(text); }
    }

    private static final int SSL_REQUEST = 80877103;
    private final ServerSocket server;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    FakePostgres() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "fake-postgres");
        t.setDaemon(true);
        t.start();
    }

    int port() { return server.getLocalPort(); }

    /** The client processes seen so far (pg_dump, pg_restore, psql; the same process once per connection). */
    List<Seen> seen() { return List.copyOf(seen); }

    private void acceptLoop() {
        while (!closed) {
            try (Socket client = server.accept()) {
                DataInputStream in = new DataInputStream(client.getInputStream());
                int length = in.readInt();
                int code = in.readInt();
                snapshot();
                if (length == 8 && code == SSL_REQUEST) {
                    OutputStream out = client.getOutputStream();
                    out.write('S');
                    out.flush();
                    client.setSoTimeout(10_000);
                    in.read(); // the TLS ClientHello: the key was loaded; hang up on it
                }
            } catch (IOException e) {
                // a client that went away, or closed
            }
        }
    }

    private void snapshot() {
        ProcessHandle.current().descendants().forEach(p -> {
            try {
                Path proc = Path.of("/proc/" + p.pid());
                String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                // Only clients of this server (its port in their URL): not jspawnhelper, a JVM, a shell, nor clients of other servers.
                if (!cmdline.matches("(?s).*(psql|pg_dump|pg_restore) .*") || !cmdline.contains(":" + port() + "/")) return;
                String environ = new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8).replace('\0', '\n');
                seen.add(new Seen(p.pid(), cmdline, environ));
            } catch (IOException gone) {
                // ended meanwhile
            }
        });
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
    }
}
