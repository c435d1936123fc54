import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A local HTTP server (the JDK's com.sun.net.httpserver) standing in for healthchecks.io and a chat webhook: it
 * records every request (method, path with query, content type, body) and answers 200, except under
 * {@code /hang/}, where it never answers until closed (an endpoint that accepts the connection and stalls), and under
 * {@code /error/}, where it answers 500.
 */
final class HttpRecorder implements AutoCloseable {
    record Request(String method, String path, String contentType, String body) {}

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "http-recorder");
        t.setDaemon(true);
        return t;
    });
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);

    HttpRecorder() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String path = exchange.getRequestURI().getRawPath() + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
            requests.add(new Request(exchange.getRequestMethod(), path, exchange.getRequestHeaders().getFirst("Content-Type"), body));
            try {
                if (path.startsWith("/hang/")) {
                    closing.await(10, TimeUnit.MINUTES);
                    return;
                }
                byte[] answer = "OK".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(path.startsWith("/error/") ? 500 : 200, answer.length);
                exchange.getResponseBody().write(answer);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(pool); // a hanging request must not stop the others from being served
        server.start();
    }

    /** http://127.0.0.1:PORT */
    String base() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    List<Request> requests() { return List.copyOf(requests); }

    /** The paths requested, in order. */
    List<String> paths() { return requests.stream().map(Request::path).toList(); }

    void clear() { requests.clear(); }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        pool.shutdownNow();
    }
}
