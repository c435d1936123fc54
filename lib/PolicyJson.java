import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Policy documents compared by meaning, not by text: IAM returns documents URL-encoded and may reorder or collapse
 * one-element lists, so both sides are parsed and put in a canonical form first.
 */
final class PolicyJson {
    /** Parses a policy document as AWS returns it: JSON, or URL-encoded JSON (IAM roles and inline policies). */
    static JsonNode parse(String text) {
        if (text == null) return null;
        String t = text.strip();
        if (!t.startsWith("{")) t = URLDecoder.decode(t.replace("+", "%2B"), StandardCharsets.UTF_8).strip();
        try {
            return Json.MAPPER.readTree(t);
        } catch (Exception e) {
            throw new Failure(Exit.FAILED, "AWS returned a policy document that is not JSON: " + e.getMessage());
        }
    }

    private static final List<String> LIST_VALUED = List.of("Action", "NotAction", "Resource", "NotResource");

    /** Canonical form: keys sorted, one-element lists and strings alike, lists of values sorted, statements sorted. */
    static JsonNode canonical(JsonNode node) { return canonical(node, null); }

    private static JsonNode canonical(JsonNode node, String key) {
        if (node == null) return null;
        if (node.isObject()) {
            ObjectNode out = Json.MAPPER.createObjectNode();
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) sorted.put(e.getKey(), e.getValue());
            boolean conditionValues = "Condition-operator".equals(key) || "Principal".equals(key);
            for (var e : sorted.entrySet()) {
                String childKey = e.getKey();
                if ("Condition".equals(key)) childKey = "Condition-operator";
                else if (conditionValues || LIST_VALUED.contains(e.getKey())) childKey = "list";
                else if ("Statement".equals(e.getKey())) childKey = "Statement";
                out.set(e.getKey(), canonical(e.getValue(), childKey));
            }
            if ("Statement".equals(key)) return Json.MAPPER.createArrayNode().add(out);
            return out;
        }
        if ("list".equals(key) || "Statement".equals(key)) {
            List<JsonNode> items = new ArrayList<>();
            if (node.isArray()) node.forEach(n -> items.add(canonical(n, "Statement".equals(key) ? null : "item")));
            else items.add(canonical(node, "item"));
            items.sort((a, b) -> a.toString().compareTo(b.toString()));
            ArrayNode out = Json.MAPPER.createArrayNode();
            items.forEach(out::add);
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = Json.MAPPER.createArrayNode();
            node.forEach(n -> out.add(canonical(n, null)));
            return out;
        }
        return node;
    }

    /** Same meaning: equal canonical forms, where true and "true", 7 and "7" are alike (IAM accepts both). */
    static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        return textual(canonical(a)).equals(textual(canonical(b)));
    }

    private static JsonNode textual(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = Json.MAPPER.createObjectNode();
            node.properties().forEach(e -> out.set(e.getKey(), textual(e.getValue())));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = Json.MAPPER.createArrayNode();
            node.forEach(n -> out.add(textual(n)));
            return out;
        }
        return node.isBoolean() || node.isNumber() ? Json.MAPPER.getNodeFactory().textNode(node.asText()) : node;
    }

    /** A line diff of the two documents' canonical, pretty-printed forms ("-" current, "+" desired). */
    static String diff(JsonNode current, JsonNode desired) {
        List<String> a = current == null ? List.of() : Json.write(display(canonical(current))).lines().toList();
        List<String> b = Json.write(display(canonical(desired))).lines().toList();
        return lineDiff(a, b);
    }

    /** For people: one-element lists of plain values shown as the value, as policies are usually written. */
    static JsonNode display(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = Json.MAPPER.createObjectNode();
            node.properties().forEach(e -> out.set(e.getKey(), display(e.getValue())));
            return out;
        }
        if (node.isArray()) {
            if (node.size() == 1 && node.get(0).isValueNode()) return node.get(0);
            ArrayNode out = Json.MAPPER.createArrayNode();
            node.forEach(n -> out.add(display(n)));
            return out;
        }
        return node;
    }

    /** Longest-common-subsequence diff; unchanged runs longer than 4 lines are elided. */
    static String lineDiff(List<String> a, List<String> b) {
        int n = a.size(), m = b.size();
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
        List<String> out = new ArrayList<>();
        int i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.get(i).equals(b.get(j))) { out.add("  " + a.get(i)); i++; j++; }
            else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) out.add("- " + a.get(i++));
            else out.add("+ " + b.get(j++));
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < out.size(); k++) {
            boolean near = false;
            for (int d = -2; d <= 2; d++) {
                int x = k + d;
                if (x >= 0 && x < out.size() && !out.get(x).startsWith("  ")) near = true;
            }
            if (near) sb.append(out.get(k)).append('\n');
            else if (sb.length() == 0 || !sb.toString().endsWith("  ...\n")) sb.append("  ...\n");
        }
        return sb.toString();
    }

    /** Policy text sent to AWS: compact (IAM counts policy size against a quota). */
    static String compact(JsonNode doc) {
        try {
            return Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private PolicyJson() {}
}
