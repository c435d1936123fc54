import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP POST that is over within its timeout, whatever the other side does: connecting, sending, and the whole
 * answer are bounded together (HttpClient's own request timeout stops at the response headers; an endpoint that sends
 * headers and then stalls would hold a plain send() forever). Used for notifications (pings, webhooks), which must
 * never hold up or change the check they report. The URL is never printed: it is often the secret itself (a Slack
 * webhook, a healthchecks.io ping key), so {@link #where} shows only its host.
 */
final class HttpPost {
    /** What happened: an HTTP status, or why there is none. */
    record Outcome(Integer status, String error) {
        boolean ok() { return error == null && status != null && status >= 200 && status < 300; }

        String describe() { return error != null ? error : "HTTP " + status; }
    }

    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER) // a redirect is an answer to report, not a place to send the body to
            .connectTimeout(Duration.ofSeconds(30))
            .executor(java.util.concurrent.Executors.newCachedThreadPool(Threads.daemons("http-post")))
            .build();

    static Outcome send(URI uri, String contentType, byte[] body, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", contentType)
                .header("User-Agent", Version.TOOL + "/" + Version.VERSION)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        CompletableFuture<HttpResponse<Void>> answer = CLIENT.sendAsync(request, HttpResponse.BodyHandlers.discarding());
        try {
            return new Outcome(answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS).statusCode(), null);
        } catch (TimeoutException e) {
            answer.cancel(true);
            return new Outcome(null, "no answer within " + Durations.human(timeout));
        } catch (InterruptedException e) {
            answer.cancel(true);
            Thread.currentThread().interrupt();
            return new Outcome(null, "interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof java.net.http.HttpTimeoutException) return new Outcome(null, "no answer within " + Durations.human(timeout));
            // A message may quote the URL, which may be the secret: cut it out.
            String message = cause.getMessage() == null ? "" : cause.getMessage().replace(uri.toString(), "the URL");
            if (uri.getRawPath() != null && uri.getRawPath().length() > 1) message = message.replace(uri.getRawPath(), "/...");
            return new Outcome(null, cause.getClass().getSimpleName() + (message.isBlank() ? "" : ": " + message));
        }
    }

    /** "hc-ping.com", "127.0.0.1:8080": where a URL points, without its path and query (which hold keys). */
    static String where(URI uri) {
        return uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
    }

    /** An http(s) URL given as an option, checked; the message never repeats it. */
    static URI url(String option, String raw) {
        try {
            URI uri = new URI(raw.strip());
            if (uri.getScheme() == null || uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                throw new java.net.URISyntaxException("", "");
            }
            return uri;
        } catch (java.net.URISyntaxException e) {
            throw Failure.usage(option + " is not an http(s):// URL (not shown: it may hold a key)");
        }
    }

    private HttpPost() {}
}
