import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The one JSON mapper. Why Jackson databind: manifests are read years after they were written, by other
 * versions of this tool, so we need a parser that is exact about escaping and numbers, maps records
 * directly, and ignores fields it does not know (docs/architecture.md#manifest: readers ignore unknown fields). Hand-rolled
 * JSON would be one more thing to get wrong on the day a restore matters; the AWS SDK's internal JSON is
 * not public API. Jackson is the most widely used and audited choice on the JVM.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.INDENT_OUTPUT, true);

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private Json() {}
}
