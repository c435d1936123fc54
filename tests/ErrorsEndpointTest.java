import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** "See cause for the exact endpoint": the error line shows the endpoint the SDK keeps in the cause. */
class ErrorsEndpointTest {
    @Test
    void anUnresolvableEndpointIsNamed() throws Exception {
        Scripts.Run run = Scripts.runProcess("Restore", Map.of("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY", "example", "AWS_REGION", "us-east-1"),
                "list", "--bucket", "my-bucket", "--endpoint-url", "http://pgdump-s3-nowhere.invalid:9");
        assertEquals(Exit.UNAVAILABLE, run.exit(), run.toString());
        assertTrue(run.err().contains("pgdump-s3-nowhere.invalid"), run.toString());
    }
}
