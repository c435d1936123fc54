import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Turns what went wrong into an exit code and one line an operator can act on (docs/architecture.md#exit-codes):
 * AWS AccessDenied → 77, unreachable → 69, missing credentials or bucket → 78, and so on.
 */
final class Errors {

    static Failure classify(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof Failure f) return f;
        if (t instanceof AwsServiceException aws) return fromAws(aws);
        if (t instanceof SdkClientException sdk) return fromSdkClient(sdk);
        if (hasCause(t, UnknownHostException.class, ConnectException.class, NoRouteToHostException.class, SocketTimeoutException.class)) {
            return new Failure(Exit.UNAVAILABLE, "unreachable: " + describe(t), t);
        }
        if (t instanceof IOException) return new Failure(Exit.FAILED, describe(t), t);
        return new Failure(Exit.FAILED, "unexpected error: " + describe(t), t);
    }

    static Failure fromAws(AwsServiceException e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        String detail = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
        String what = "S3/AWS said " + (code == null ? "HTTP " + e.statusCode() : code) + (detail == null ? "" : ": " + detail);
        if (code != null) {
            switch (code) {
                case "NoSuchBucket":
                    return new Failure(Exit.CONFIG, "the bucket does not exist (" + what + "): create it with setup-aws or fix --bucket/S3_BUCKET", e);
                case "PermanentRedirect": case "AuthorizationHeaderMalformed": case "IllegalLocationConstraintException":
                    return new Failure(Exit.CONFIG, "wrong AWS region for this bucket (" + what + "): set --region/AWS_REGION to the bucket's region", e);
                case "ExpiredToken": case "ExpiredTokenException": case "TokenRefreshRequired":
                    return new Failure(Exit.NO_PERMISSION, "the AWS credentials have expired (" + what + "): refresh them", e);
                case "InvalidAccessKeyId": case "SignatureDoesNotMatch": case "InvalidClientTokenId": case "UnrecognizedClientException":
                case "InvalidToken": // S3's answer to a session token that is malformed, revoked or for another account
                    return new Failure(Exit.NO_PERMISSION, "the AWS credentials are not valid (" + what + ")", e);
                case "AccessDenied": case "AccessDeniedException": case "AllAccessDisabled": case "AccountProblem":
                    return new Failure(Exit.NO_PERMISSION, "permission denied (" + what + "): check the IAM role's policy for this bucket and prefix", e);
                default:
            }
        }
        if (e.statusCode() == 403) return new Failure(Exit.NO_PERMISSION, "permission denied (" + what + ")", e);
        if (e.statusCode() == 301) return new Failure(Exit.CONFIG, "wrong AWS region for this bucket (" + what + "): set --region/AWS_REGION", e);
        if (e.statusCode() >= 500) return new Failure(Exit.UNAVAILABLE, "S3/AWS is failing (" + what + ")", e);
        return new Failure(Exit.FAILED, what, e);
    }

    static Failure fromSdkClient(SdkClientException e) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        if (msg.contains("Unable to load credentials")) {
            return new Failure(Exit.CONFIG, "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use a role (in GitHub Actions: aws-actions/configure-aws-credentials)", e);
        }
        if (msg.contains("Unable to load region")) {
            return new Failure(Exit.CONFIG, "no AWS region: set --region or AWS_REGION", e);
        }
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
            // Our own limits (AwsClients): S3 or the network stopped moving, e.g. stopped reading what we sent.
            return new Failure(Exit.UNAVAILABLE, "S3/AWS did not complete the request in time (" + describe(e)
                    + "): S3 or the network is stalled; run again later", e);
        }
        if (hasCause(e, UnknownHostException.class, ConnectException.class, NoRouteToHostException.class, SocketTimeoutException.class)
                || msg.contains("Unable to execute HTTP request")) {
            return new Failure(Exit.UNAVAILABLE, "S3/AWS endpoint unreachable: " + describe(e), e);
        }
        return new Failure(Exit.FAILED, "AWS client error: " + describe(e), e);
    }

    /**
     * Classifies a failed libpq tool (pg_dump, pg_restore, psql) by its stderr. libpq's messages are stable
     * across versions for these cases; anything else is a plain failure with the tool's own words.
     */
    static Failure fromPgTool(String tool, int exitCode, String stderr) {
        String err = stderr == null ? "" : stderr.strip();
        String lastLines = lastLines(err, 6);
        String line = tool + " failed (exit " + exitCode + "): " + (lastLines.isEmpty() ? "no error output" : lastLines);
        String lower = err.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("password authentication failed") || lower.contains("no password supplied")
                || lower.contains("authentication failed") || lower.contains("no pg_hba.conf entry")) {
            return new Failure(Exit.NO_PERMISSION, line);
        }
        if (lower.contains("could not translate host name") || lower.contains("connection refused")
                || lower.contains("timeout expired") || lower.contains("could not connect to server")
                || lower.contains("no route to host") || lower.contains("network is unreachable")
                || (lower.contains("connection to server") && lower.contains("failed") && !lower.contains("does not exist"))
                // the connection lost mid-way (server stopped or restarted, network cut)
                || lower.contains("server closed the connection unexpectedly") || lower.contains("connection to server was lost")
                || lower.contains("could not receive data from server") || lower.contains("ssl syscall error")
                || lower.contains("terminating connection due to")) {
            return new Failure(Exit.UNAVAILABLE, line);
        }
        if (lower.matches("(?s).*database \".*\" does not exist.*")) return new Failure(Exit.USAGE, line);
        if (lower.contains("server version mismatch")) return new Failure(Exit.CONFIG, line);
        if (lower.contains("permission denied")) return new Failure(Exit.NO_PERMISSION, line);
        return new Failure(Exit.FAILED, line);
    }

    static String lastLines(String text, int n) {
        String[] lines = text.strip().split("\\R");
        int from = Math.max(0, lines.length - n);
        return String.join(" | ", java.util.Arrays.copyOfRange(lines, from, lines.length)).strip();
    }

    static String describe(Throwable t) {
        String msg = t.getMessage();
        String text = msg == null || msg.isBlank() ? t.getClass().getSimpleName() : msg;
        // The AWS SDK says "See cause for the exact endpoint ..." and keeps the host in the cause: show it.
        if (text.contains("See cause")) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            if (root != t) text += " (" + root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
        }
        return Redact.text(text);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException
                || t instanceof java.lang.reflect.UndeclaredThrowableException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @SafeVarargs
    private static boolean hasCause(Throwable t, Class<? extends Throwable>... types) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            for (Class<? extends Throwable> type : types) if (type.isInstance(c)) return true;
        }
        return false;
    }

    private Errors() {}
}
