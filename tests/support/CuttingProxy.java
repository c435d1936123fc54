import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of the S3 emulator that drops a connection once it has passed {@code cutAfter} bytes
 * towards the client, {@code times} times: a download interrupted mid-object, as on a flaky network.
 */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final long cutAfter;
    final AtomicInteger cutsLeft;

    CuttingProxy(String upstreamEndpoint, long cutAfter, int times) throws IOException {
        URI up = URI.create(upstreamEndpoint);
        this.upstreamHost = up.getHost();
        this.upstreamPort = up.getPort();
        this.cutAfter = cutAfter;
        this.cutsLeft = new AtomicInteger(times);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "cutting-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(upstreamHost, upstreamPort);
                pump(client.getInputStream(), upstream.getOutputStream(), client, upstream, false);
                pump(upstream.getInputStream(), client.getOutputStream(), client, upstream, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(InputStream in, OutputStream out, Socket a, Socket b, boolean toClient) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            long passed = 0;
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (toClient && passed + n > cutAfter && cutsLeft.get() > 0 && cutsLeft.getAndDecrement() > 0) {
                        out.write(buf, 0, (int) Math.max(0, cutAfter - passed));
                        out.flush();
                        break;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                    passed += n;
                }
            } catch (IOException ignored) {
                // one side went away
            } finally {
                closeQuietly(a);
                closeQuietly(b);
            }
        }, "cutting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException { server.close(); }
}
