import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole job against a second S3 implementation, s3proxy (filesystem backend): backup, list, verify, restore
 * and prune, as a user would run them against MinIO or another S3-compatible store.
 */
class S3ProxyTest {
    static PgServer pg;
    static S3Server proxy;
    static String sample;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        proxy = S3Server.s3proxy();
        sample = SampleDatabase.create(pg, "s3proxy_src");
    }

    @AfterAll
    static void tearDown() {
        pg.dropDatabase(sample);
    }

    static String[] args(String bucket, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void backupListVerifyRestorePrune() {
        String bucket = proxy.createBucket("proxy");
        for (int i = 0; i < 2; i++) {
            Scripts.Run b = Scripts.run(new Backup(), args(bucket, "--database-url", pg.url(sample)));
            assertEquals(0, b.exit(), b.toString());
            if (i == 0) sleepASecond(); // two backups, two stamps
        }
        List<String> keys = proxy.keys(bucket);
        assertEquals(4, keys.size(), keys.toString());

        Scripts.Run list = Scripts.run(new Restore(), "list", "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION);
        assertEquals(0, list.exit(), list.toString());
        Scripts.Run verify = Scripts.run(new Restore(), "verify", "--bucket", bucket, "--endpoint-url", proxy.endpoint, "--region", S3Server.REGION);
        assertEquals(0, verify.exit(), verify.toString());

        String target = pg.createDatabase("s3proxy_dst");
        try {
            Scripts.Run restore = Scripts.run(new Restore(), args(bucket, "--target-url", pg.url(target)));
            assertEquals(0, restore.exit(), restore.toString());
            assertEquals(SampleDatabase.fingerprints(pg, sample), SampleDatabase.fingerprints(pg, target));
        } finally {
            pg.dropDatabase(target);
        }

        Scripts.Run prune = Scripts.run(new Prune(), args(bucket, "--keep-last", "1"));
        assertEquals(0, prune.exit(), prune.toString());
        List<String> left = proxy.keys(bucket);
        assertEquals(2, left.size(), left.toString());
        assertTrue(left.get(0).compareTo(keys.get(2)) >= 0, "the newest backup is kept: " + left + " of " + keys);
    }

    private static void sleepASecond() {
        try {
            Thread.sleep(1100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
