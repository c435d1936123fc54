import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** The real components are there: a PostgreSQL server we can query, and the S3 emulator through lib's client factory. */
class FixturesTest {
    @Test
    void postgresAnswers() {
        PgServer pg = PgServer.get();
        String db = pg.createDatabase("fixture");
        assertEquals("2", pg.sql(db, "select 1 + 1"));
        assertTrue(pg.serverMajor() >= 14, "server major " + pg.serverMajor());
        pg.dropDatabase(db);
    }

    @Test
    void s3PutAndListThroughTheClientFactory() {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("smoke");
        try (S3Client client = AwsClients.s3(s3.options())) {
            client.putObject(b -> b.bucket(bucket).key("pg-backups/x/hello.txt"), RequestBody.fromString("hello", StandardCharsets.UTF_8));
            assertEquals("hello", client.getObjectAsBytes(b -> b.bucket(bucket).key("pg-backups/x/hello.txt")).asUtf8String());
        }
        assertEquals(List.of("pg-backups/x/hello.txt"), s3.keys(bucket));
    }

    @Test
    void awsErrorsMapToExitCodes() {
        S3Server s3 = S3Server.get();
        try (S3Client client = AwsClients.s3(s3.options())) {
            Failure f = Errors.classify(org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> client.listObjectsV2(b -> b.bucket("no-such-bucket-" + System.nanoTime()))));
            assertEquals(Exit.CONFIG, f.exitCode, f.getMessage());
        }
        AwsOptions nowhere = new AwsOptions();
        nowhere.endpointUrl = "http://127.0.0.1:1";
        nowhere.region = "us-east-1";
        try (S3Client client = AwsClients.s3(nowhere)) {
            Failure f = Errors.classify(org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> client.listBuckets()));
            assertEquals(Exit.UNAVAILABLE, f.exitCode, f.getMessage());
        }
    }
}
