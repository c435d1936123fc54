import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Connection URLs: Neon's query parameters pass through, secrets never leave except through the env or a 0600 file. */
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
        for (String bad : new String[] {"", "mysql://u:topsecret@h/db", "postgresql://u:topsecret@h/db%zz", "host=h password=topsecret", "postgresql://u:topsecret@h/db?flag",
                "postgresql://u:topsecret%00@h/db", "postgresql://u@h/db?sslpassword=topsecret%00"}) {
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

    /**
     * Every secret keyword (password, sslpassword, PostgreSQL 18's OAuth secret), also with its key percent-encoded
     * as libpq decodes it: out of the URL children get and out of the redacted one; the password through
     * PGPASSWORD, the others through a 0600 service file.
     */
    @Test
    void everySecretKeywordIsTakenOutOfTheUrl() throws Exception {
        ConnInfo c = ConnInfo.parse("postgresql://app@db.example.com/app?sslmode=verify-full&pass%77ord=Pw-Secret%40x&ssl%70assword=Key-Pass&"
                + "oauth_client_secret=Oauth-Secret&application_name=nightly");
        for (String url : List.of(c.withoutPassword(), c.redacted(), c.toString(), Redact.text(c.withoutPassword()))) {
            for (String secret : List.of("Pw-Secret", "Key-Pass", "Oauth-Secret")) assertFalse(url.contains(secret), url);
        }
        assertEquals("postgresql://app@db.example.com/app?sslmode=verify-full&application_name=nightly", c.withoutPassword());
        assertEquals("postgresql://app@db.example.com/app?sslmode=verify-full&application_name=nightly&password=***&sslpassword=***&oauth_client_secret=***",
                c.redacted());
        assertEquals("Pw-Secret@x", c.password());
        Map<String, String> env = c.childEnvironment();
        assertEquals("Pw-Secret@x", env.get("PGPASSWORD"));
        assertEquals(ServiceFile.SERVICE, env.get("PGSERVICE"));
        Path file = Path.of(env.get("PGSERVICEFILE"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        assertEquals("[pgdump-s3]\nsslpassword=Key-Pass\noauth_client_secret=Oauth-Secret\n", Files.readString(file));
        assertEquals(file, Path.of(c.childEnvironment().get("PGSERVICEFILE")), "one file per URL, not one per child");
        assertFalse(ConnInfo.parse("postgresql://u:pw@h/db").childEnvironment().containsKey("PGSERVICEFILE"), "no file without such secrets");
    }

    /** libpq decodes query keys: a percent-encoded key is the keyword it decodes to, and stays as written for the child. */
    @Test
    void queryKeysAreDecodedAsLibpqDoes() {
        ConnInfo c = ConnInfo.parse("postgresql://u@h/db?ssl%6Dode=disable&%64bname=other");
        assertEquals("disable", c.param("sslmode"));
        assertEquals("postgresql://u@h/db?ssl%6Dode=disable&%64bname=other", c.withoutPassword());
        assertEquals("db", c.database(), "the path's database name wins over dbname=, as in libpq");
    }

    @Test
    void secretsThatCannotGoIntoAServiceFileAreRefused() {
        for (String bad : new String[] {"sslpassword=trailing%20", "sslpassword=line%0Abreak", "sslpassword=" + "x".repeat(300),
                "service=mine&sslpassword=Key-Pass"}) {
            Failure f = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://u@h/db?" + bad), bad);
            assertEquals(Exit.USAGE, f.exitCode);
            assertFalse(f.getMessage().contains("Key-Pass") || f.getMessage().contains("trailing") || f.getMessage().contains("xxxx"), f.getMessage());
        }
    }

    /** A key libpq does not know is 64 up front (libpq would refuse it in every child); it is named only when it is a plain word. */
    @Test
    void unknownQueryParametersAreUsageErrors() {
        Failure typo = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://u:pw@h/db?sslmdoe=require"));
        assertEquals(Exit.USAGE, typo.exitCode);
        assertTrue(typo.getMessage().contains("unknown parameter 'sslmdoe'"), typo.getMessage());
        Failure odd = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://u@h/db?hunter2%40x=1"));
        assertFalse(odd.getMessage().contains("hunter2"), odd.getMessage());
        Failure flag = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://u@h/db?hunter2"));
        assertFalse(flag.getMessage().contains("hunter2"), flag.getMessage());
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://u@h/db?ssl=false")).exitCode);
        ConnInfo.parse("postgresql://u@h/db?ssl=true&target_session_attrs=read-write&load_balance_hosts=random&sslnegotiation=direct");
    }

    /** Port 0, out of range or not a number: 64 before any child runs, and the value is not shown (a misplaced password may sit there). */
    @Test
    void portsOutOfRangeAreUsageErrors() {
        for (String bad : new String[] {"h:0", "h:65536", "h:99999", "h:5432,h2:0", "[::1]:0", "u:123456@h:0", "h:abc"}) {
            Failure f = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://" + bad + "/db"), bad);
            assertEquals(Exit.USAGE, f.exitCode, bad);
            assertTrue(f.getMessage().contains("port"), f.getMessage());
        }
        // user:password/host without the '@': the "port" is the password, and it is never echoed.
        Failure f = assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://app:S3cretPw/db"));
        assertFalse(f.getMessage().contains("S3cretPw"), f.getMessage());
        assertEquals(Exit.USAGE, assertThrows(Failure.class, () -> ConnInfo.parse("postgresql://h/db?port=0")).exitCode);
        for (String good : new String[] {"h:1", "h:65535", "h:", "[::1]:5432", "h1:5432,h2:5433", "h"}) ConnInfo.parse("postgresql://" + good + "/db");
    }

    /** Common ways a URL arrives wrapped: a byte order mark and quotes are forgiven; a jdbc: URL is refused without an echo. */
    @Test
    void bomQuotesAndJdbcPrefix() {
        assertEquals("postgresql://u@h/db", ConnInfo.parse("\uFEFFpostgresql://u:pw@h/db").withoutPassword());
        assertEquals("postgresql://u@h/db", ConnInfo.parse("\"postgresql://u:pw@h/db\"").withoutPassword());
        assertEquals("postgresql://u@h/db", ConnInfo.parse("'postgresql://u:pw@h/db'").withoutPassword());
        Failure f = assertThrows(Failure.class, () -> ConnInfo.parse("jdbc:postgresql://app:Jdbc-Pass@h/db?sslmode=require"));
        assertEquals(Exit.USAGE, f.exitCode);
        assertTrue(f.getMessage().contains("drop the jdbc: prefix"), f.getMessage());
        assertFalse(f.getMessage().toLowerCase(java.util.Locale.ROOT).contains("jdbc-pass"), f.getMessage());
    }

    @Test
    void redactionCatchesEverySecretKeyword() {
        String text = "sslpassword=abc1 x PGPASSWORD=abc2 ssl%70assword=abc3 oauth_client_secret = 'abc4 d' ?a=1&pass%77ord=abc5&b=2"
                + " postgresql://u:p@ss@word@h/db scram_client_key=abc6";
        String red = Redact.text(text);
        for (String secret : List.of("abc1", "abc2", "abc3", "abc4", "abc5", "ss@word", "abc6")) assertFalse(red.contains(secret), red);
        assertTrue(red.contains("a=1") && red.contains("b=2"), red);
    }

    /** The child environment is an allow-list: AWS keys, other URLs and unknown variables stay with us. */
    @Test
    void childrenGetOnlyAnAllowListOfOurEnvironment() {
        Map<String, String> ours = Map.of("PATH", "/usr/bin", "HOME", "/root", "LC_ALL", "C.UTF-8", "PGSSLROOTCERT", "/etc/ca.pem",
                "AWS_SECRET_ACCESS_KEY", "aws-secret", "AWS_SESSION_TOKEN", "aws-token", "DATABASE_URL", "postgresql://u:pw@h/db",
                "NEON_API_KEY", "neon-key", "FLEET_B_URL", "postgresql://b:pw@h/b", "BACKUP_AGE_IDENTITY", "AGE-SECRET-KEY-1XYZ");
        Map<String, String> env = ChildEnvironment.forPgTool(ours, Map.of("PGPASSWORD", "own"));
        assertEquals(Map.of("PATH", "/usr/bin", "HOME", "/root", "LC_ALL", "C.UTF-8", "PGSSLROOTCERT", "/etc/ca.pem", "PGPASSWORD", "own"), env);
    }

    /**
     * With real libpq: an encrypted client key (openssl) and its sslpassword in the URL. The key decrypts (the client
     * gets as far as the TLS handshake, which the fake server hangs up on), so libpq got sslpassword, through the
     * service file: the client's argv, seen while it connected, does not hold it. A wrong sslpassword fails on the
     * key instead, so the first outcome says something.
     */
    @Test
    void sslpasswordReachesLibpqButNotItsArgv() throws Exception {
        Path dir = Files.createTempDirectory("pgdump-s3-sslkey-");
        String passphrase = Secrets.register("Key-Passphrase-" + java.util.UUID.randomUUID().toString().substring(0, 8));
        Path key = dir.resolve("client.key"), cert = dir.resolve("client.crt");
        try (FakePostgres server = new FakePostgres()) {
            Proc.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", key.toString(), "-passout", "env:KEY_PASSPHRASE",
                    "-out", cert.toString(), "-subj", "/CN=pgdump-s3-test", "-days", "1"), Map.of("KEY_PASSPHRASE", passphrase), 120);
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            assertTrue(Files.readString(key).contains("ENCRYPTED"), "the key is encrypted");
            String base = "postgresql://app@127.0.0.1:" + server.port() + "/db?sslmode=require&gssencmode=disable&connect_timeout=10"
                    + "&sslcert=" + ConnInfo.encode(cert.toString()) + "&sslkey=" + ConnInfo.encode(key.toString()) + "&sslpassword=";
            PgTools.Tool psql = PgTools.anyPsql();

            Failure right = assertThrows(Failure.class, () -> PgTools.query(psql, ConnInfo.parse(base + ConnInfo.encode(passphrase)), "select 1"));
            assertTrue(right.getMessage().contains("SSL") && !right.getMessage().contains("private key"), "the key decrypted: " + right.getMessage());
            Failure wrong = assertThrows(Failure.class, () -> PgTools.query(psql, ConnInfo.parse(base + "not-the-passphrase"), "select 1"));
            assertTrue(wrong.getMessage().contains("private key"), "a wrong sslpassword fails on the key: " + wrong.getMessage());

            List<FakePostgres.Seen> clients = server.seen();
            assertFalse(clients.isEmpty(), "the fake server saw psql connect");
            for (FakePostgres.Seen c : clients) {
                assertFalse(c.cmdline().contains(passphrase) || c.cmdline().contains(ConnInfo.encode(passphrase)), "sslpassword in argv: " + c.cmdline());
                assertFalse(c.cmdline().contains("sslpassword"), c.cmdline());
                assertTrue(c.environ().contains("PGSERVICEFILE=") && c.environ().contains("PGSERVICE=" + ServiceFile.SERVICE), "through the service file");
                assertFalse(c.environ().contains(passphrase), "not in the environment either (the file holds it)");
            }
        } finally {
            Files.deleteIfExists(key);
            Files.deleteIfExists(cert);
            Files.deleteIfExists(dir);
        }
    }
}
