import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * IAM's evaluation of identity policies, for what the emulator cannot check: moto ignores conditions (design.md
 * section 5), so "PutObject only with If-None-Match" looks like an unconditional grant there. This evaluates
 * the documents setup-aws writes as IAM documents it: an explicit Deny wins, else an Allow is needed, else the
 * request is denied; a statement applies when its Action, Resource and every Condition match.
 *
 * It knows exactly the parts of the policy language setup-aws uses (Action/NotAction, Resource/NotResource,
 * the operators StringEquals, StringLike, Bool and Null, with ...IfExists) and throws on anything else, so
 * a policy that grows beyond it fails a test instead of being judged wrongly.
 *
 * {@link #s3} turns one HTTP request to S3 (as {@link FaultProxy} saw it) into the authorization request S3
 * makes for it, with the condition keys setup-aws's policies name: s3:prefix, s3:if-none-match and
 * s3:ObjectCreationOperation (true for the requests that create an object: PutObject, CopyObject,
 * CompleteMultipartUpload; false for CreateMultipartUpload and UploadPart, which take no conditional header).
 */
final class IamSimulator {
    /** What IAM is asked: an action on a resource ARN, with the request's condition keys. */
    record Request(String action, String resource, Map<String, String> context, String what) {
        /** The same request with one condition key set (value) or removed (null). */
        Request with(String key, String value) {
            Map<String, String> c = new LinkedHashMap<>(context);
            if (value == null) c.remove(key); else c.put(key, value);
            return new Request(action, resource, c, what + (value == null ? " without " + key : " with " + key + "=" + value));
        }

        /** The same request for another object key of the same bucket. */
        Request onKey(String bucket, String key) {
            return new Request(action, "arn:aws:s3:::" + bucket + "/" + key, context, what + " on " + key);
        }

        @Override public String toString() { return what + " → " + action + " " + resource + " " + context; }
    }

    enum Decision { ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY }

    static Decision evaluate(List<JsonNode> policies, Request r) {
        boolean allowed = false;
        for (JsonNode policy : policies) {
            JsonNode statements = policy.get("Statement");
            List<JsonNode> list = new ArrayList<>();
            if (statements.isArray()) statements.forEach(list::add); else list.add(statements);
            for (JsonNode st : list) {
                if (st.has("Principal") || st.has("NotPrincipal")) throw new IllegalArgumentException("not an identity policy statement: " + st);
                if (!applies(st, r)) continue;
                String effect = st.get("Effect").asText();
                if (effect.equals("Deny")) return Decision.EXPLICIT_DENY;
                if (!effect.equals("Allow")) throw new IllegalArgumentException("Effect " + effect + ": " + st);
                allowed = true;
            }
        }
        return allowed ? Decision.ALLOWED : Decision.IMPLICIT_DENY;
    }

    private static boolean applies(JsonNode st, Request r) {
        boolean action = st.has("Action") ? anyMatches(st.get("Action"), r.action(), true) : !anyMatches(st.get("NotAction"), r.action(), true);
        boolean resource = st.has("Resource") ? anyMatches(st.get("Resource"), r.resource(), false) : !anyMatches(st.get("NotResource"), r.resource(), false);
        return action && resource && conditions(st.get("Condition"), r.context());
    }

    /** Every operator, and within it every key, must hold (AND); a key's values are alternatives (OR). */
    private static boolean conditions(JsonNode condition, Map<String, String> context) {
        if (condition == null) return true;
        for (var op : condition.properties()) {
            String operator = op.getKey();
            boolean ifExists = operator.endsWith("IfExists");
            String base = ifExists ? operator.substring(0, operator.length() - "IfExists".length()) : operator;
            for (var key : op.getValue().properties()) {
                String actual = context.get(key.getKey());
                List<String> expected = new ArrayList<>();
                if (key.getValue().isArray()) key.getValue().forEach(v -> expected.add(v.asText())); else expected.add(key.getValue().asText());
                boolean holds;
                if (base.equals("Null")) {
                    if (ifExists) throw new IllegalArgumentException("NullIfExists is not an operator");
                    holds = expected.stream().anyMatch(e -> Boolean.parseBoolean(e) == (actual == null));
                } else if (actual == null) {
                    holds = ifExists;
                } else {
                    holds = switch (base) {
                        case "StringEquals" -> expected.contains(actual);
                        case "StringLike" -> expected.stream().anyMatch(e -> glob(e, false).matcher(actual).matches());
                        case "Bool" -> expected.stream().anyMatch(e -> e.equalsIgnoreCase(actual));
                        default -> throw new IllegalArgumentException("the simulator does not know the condition operator " + operator + ": extend it");
                    };
                }
                if (!holds) return false;
            }
        }
        return true;
    }

    private static boolean anyMatches(JsonNode patterns, String value, boolean caseInsensitive) {
        if (patterns == null) throw new IllegalArgumentException("a statement needs Action/NotAction and Resource/NotResource");
        List<String> list = new ArrayList<>();
        if (patterns.isArray()) patterns.forEach(p -> list.add(p.asText())); else list.add(patterns.asText());
        return list.stream().anyMatch(p -> glob(p, caseInsensitive).matcher(value).matches());
    }

    /** IAM's wildcards: * any run of characters (slashes too), ? one character; everything else literal. */
    static Pattern glob(String pattern, boolean caseInsensitive) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL | (caseInsensitive ? Pattern.CASE_INSENSITIVE : 0));
    }

    /**
     * The authorization request S3 makes for one path-style HTTP request. Throws for a request it does not know
     * (DeleteObjects, for one, is authorized per key from its body), so nothing is judged by guesswork.
     */
    static Request s3(FaultProxy.Request http) {
        String path = http.path();
        int slash = path.indexOf('/', 1);
        String bucket = slash < 0 ? path.substring(1) : path.substring(1, slash);
        String key = http.key();
        String bucketArn = "arn:aws:s3:::" + bucket;
        String objectArn = bucketArn + "/" + key;
        String m = http.method();
        Map<String, String> context = new LinkedHashMap<>();
        String noneMatch = header(http, "if-none-match");
        boolean copy = header(http, "x-amz-copy-source") != null;
        if (key.isEmpty()) {
            if (m.equals("GET") && http.has("uploads")) return new Request("s3:ListBucketMultipartUploads", bucketArn, context, "ListMultipartUploads");
            if (m.equals("GET") && !http.has("location") && !http.has("versioning") && !http.has("policy")) {
                String prefix = param(http, "prefix");
                if (prefix != null) context.put("s3:prefix", prefix);
                return new Request("s3:ListBucket", bucketArn, context, "ListObjects" + (prefix == null ? "" : " " + prefix));
            }
            if (m.equals("HEAD")) return new Request("s3:ListBucket", bucketArn, context, "HeadBucket");
            throw new IllegalArgumentException("IamSimulator does not know the S3 request " + http + ": extend it");
        }
        if (m.equals("POST") && http.has("uploads")) {
            context.put("s3:ObjectCreationOperation", "false");
            return new Request("s3:PutObject", objectArn, context, "CreateMultipartUpload " + key);
        }
        if (m.equals("PUT") && http.has("uploadId") && http.has("partNumber") && !copy) {
            context.put("s3:ObjectCreationOperation", "false");
            return new Request("s3:PutObject", objectArn, context, "UploadPart " + key);
        }
        if ((m.equals("POST") && http.has("uploadId")) || (m.equals("PUT") && !http.has("uploadId") && !copy)) {
            context.put("s3:ObjectCreationOperation", "true");
            if (noneMatch != null) context.put("s3:if-none-match", noneMatch);
            return new Request("s3:PutObject", objectArn, context, (m.equals("POST") ? "CompleteMultipartUpload " : "PutObject ") + key);
        }
        if (m.equals("DELETE") && http.has("uploadId")) return new Request("s3:AbortMultipartUpload", objectArn, context, "AbortMultipartUpload " + key);
        if (m.equals("GET") && http.has("uploadId")) return new Request("s3:ListMultipartUploadParts", objectArn, context, "ListParts " + key);
        if ((m.equals("GET") || m.equals("HEAD")) && plain(http)) return new Request("s3:GetObject", objectArn, context, (m.equals("HEAD") ? "HeadObject " : "GetObject ") + key);
        if (m.equals("DELETE") && plain(http)) return new Request("s3:DeleteObject", objectArn, context, "DeleteObject " + key);
        throw new IllegalArgumentException("IamSimulator does not know the S3 request " + http + ": extend it");
    }

    /** No query parameters but the SDK's x-id (the operation's name, which S3 ignores). */
    private static boolean plain(FaultProxy.Request http) {
        for (String p : http.query().split("&")) if (!p.isEmpty() && !p.startsWith("x-id=")) return false;
        return true;
    }

    static String header(FaultProxy.Request http, String name) {
        for (String h : http.headers()) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) return h.substring(colon + 1).strip();
        }
        return null;
    }

    static String param(FaultProxy.Request http, String name) {
        for (String p : http.query().split("&")) {
            if (p.startsWith(name + "=")) return URLDecoder.decode(p.substring(name.length() + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    private IamSimulator() {}
}
