import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** lib/JsonDocument: ok and exitCode first, then the command's fields; failures carry error.{exitCode,message}, redacted. */
class JsonDocumentTest {
    record Fields(String bucket, int failed, boolean ok) {}

    @Test
    void envelopeComesFirst() throws Exception {
        String json = JsonDocument.of(3).putAll(new Fields("b", 1, true)).put("backups", List.of()).toJson();
        JsonNode n = Json.MAPPER.readTree(json);
        assertEquals(List.of("ok", "exitCode", "bucket", "failed", "backups"), iterate(n));
        assertEquals(false, n.get("ok").asBoolean()); // the envelope's ok, not the record's
        assertEquals(3, n.get("exitCode").asInt());
    }

    @Test
    void failureIsRedacted() throws Exception {
        JsonNode n = Json.MAPPER.readTree(JsonDocument.failure(69, "cannot reach postgresql://u:secret@h/db").toJson());
        assertEquals(69, n.get("exitCode").asInt());
        assertEquals(69, n.get("error").get("exitCode").asInt());
        assertEquals("cannot reach postgresql://u:***@h/db", n.get("error").get("message").asText());
    }

    @Test
    void envelopeFieldsCannotBeOverwritten() {
        assertThrows(IllegalArgumentException.class, () -> JsonDocument.of(0).put("ok", false));
    }

    private static List<String> iterate(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
