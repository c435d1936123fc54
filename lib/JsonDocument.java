import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one --json envelope, the same in every script (design.md section 3): {@code ok}, {@code exitCode},
 * then the command's own fields in the order given. A failure adds {@code error: {exitCode, message}}.
 * Built as an ordered map so that the first two fields are always where a reader expects them.
 */
final class JsonDocument {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    private JsonDocument(boolean ok, int exitCode) {
        fields.put("ok", ok);
        fields.put("exitCode", exitCode);
    }

    /** A document for a run that ended with {@code exitCode} (ok when 0). */
    static JsonDocument of(int exitCode) { return new JsonDocument(exitCode == Exit.OK, exitCode); }

    /** The document of a run that failed before it could report: {ok: false, exitCode, error: {exitCode, message}}. */
    static JsonDocument failure(int exitCode, String message) {
        return new JsonDocument(false, exitCode).error(message);
    }

    /** Adds {@code error: {exitCode, message}} (the envelope's exit code) to the document of a run that failed. */
    JsonDocument error(String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("exitCode", fields.get("exitCode"));
        error.put("message", Redact.text(message));
        return put("error", error);
    }

    JsonDocument put(String name, Object value) {
        if (name.equals("ok") || name.equals("exitCode")) throw new IllegalArgumentException(name + " is the envelope's");
        fields.put(name, value);
        return this;
    }

    /** Every field of a record (or map) after the envelope, in declaration order. */
    JsonDocument putAll(Object fieldsOf) {
        Map<String, Object> m = Json.MAPPER.convertValue(fieldsOf, new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() {});
        m.remove("ok");
        m.remove("exitCode");
        fields.putAll(m);
        return this;
    }

    Map<String, Object> fields() { return fields; }

    String toJson() { return Json.write(fields); }

    void print(PrintWriter out) {
        out.println(toJson());
        out.flush();
    }
}
