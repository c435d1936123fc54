import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Connection URLs: Neon's query parameters pass through, passwords never leave except through the env. */
class ConnInfoTest {
    @Test
    void neonUrlPassesThroughUnchangedButThePassword() {
        ConnInfo c = ConnInfo.parse("postgresql://alex:AbC123dEf@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require");
        assertEquals("postgresql://alex@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require", c.withoutPassword());
        assertEquals("postgresql://alex:***@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require", c.redacted());
        assertEquals("AbC123dEf", c.password());
        assertEquals("AbC123dEf", c.childEnvironment().get("PGPASSWORD"));
        assertEquals("neondb", c.database());
        assertEquals("ep-cool-darkness-123456.us-east-2.aws.neon.tech", c.host());
    }

    @Test
    void encodedSpecialCharactersDecode() {
        String password = "p@ss :/?#&%' w\u00f6rd";
        ConnInfo c = ConnInfo.parse("postgres://u%40x:" + ConnInfo.encode(password) + "@127.0.0.1:5433/My%20DB");
        assertEquals(password, c.password());
        assertEquals("u@x", c.user());
        assertEquals("My DB", c.database());
        assertEquals("127.0.0.1:5433", c.host());
        assertFalse(c.withoutPassword().contains(ConnInfo.encode(password)));
        assertEquals("postgres://u%40x@127.0.0.1:5433/other", c.withDatabase("other").withoutPassword());
    }

    @Test
    void passwordQueryParameterIsRemovedToo() {
        ConnInfo c = ConnInfo.parse("postgresql://u@h/db?password=s3cret&sslmode=disable");
        assertEquals("s3cret", c.password());
        assertEquals("postgresql://u@h/db?sslmode=disable", c.withoutPassword());
    }

    @Test
    void noPasswordMeansNoPgpassword() {
        ConnInfo c = ConnInfo.parse("postgresql://u@h/db");
        assertNull(c.password());
        assertFalse(c.childEnvironment().containsKey("PGPASSWORD"));
    }

    @Test
    void malformedUrlsAreUsageErrorsWithoutThePassword() {
        for (String bad : new String[] {"", "mysql://u:topsecret@h/db", "postgresql://u:topsecret@h/db%zz", "host=h password=topsecret", "postgresql://u:topsecret@h/db?flag"}) {
            Failure f = assertThrows(Failure.class, () -> ConnInfo.parse(bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
            assertFalse(f.getMessage().contains("topsecret"), f.getMessage());
        }
    }

    @Test
    void redactionCatchesPasswordsInAnyText() {
        String text = "error connecting to postgresql://bob:hunter2@db.example.com/app and host=h password='x y' dbname=d, also ?password=abc&x=1";
        String red = Redact.text(text);
        assertFalse(red.contains("hunter2"), red);
        assertFalse(red.contains("x y"), red);
        assertFalse(red.contains("abc"), red);
        assertTrue(red.contains("postgresql://bob:***@db.example.com/app"), red);
    }
}
