import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** lib/HoldBackStream: what restore --stream holds back until the checksum is known. */
class HoldBackStreamTest {
    @Test
    void holdBackPassesEverythingButTheTailUntilReleased() throws Exception {
        Random random = new Random(42);
        byte[] data = new byte[300_000];
        random.nextBytes(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HoldBackStream held = new HoldBackStream(out, 1000);
        for (int i = 0; i < data.length; ) {
            int n = Math.min(data.length - i, 1 + random.nextInt(5000));
            held.write(data, i, n);
            i += n;
        }
        held.flush();
        assertEquals(data.length - 1000, out.size());
        held.release();
        assertTrue(java.util.Arrays.equals(data, out.toByteArray()));
    }
}
