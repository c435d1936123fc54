import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The S3 client each store profile gets (lib/AwsClients + lib/StoreProfile), against a {@link StoreQuirkProxy} that
 * answers as that store does, in front of the suite's real S3 server. Each test first shows the store's rule biting a
 * client configured for AWS, then the store's own profile getting through.
 */
class StoreQuirkTest {
    static S3Server s3;

    @BeforeAll
    static void setUp() { s3 = S3Server.get(); }

    static S3Client client(String endpoint, String compat) {
        AwsOptions o = new AwsOptions();
        o.endpointUrl = endpoint;
        o.region = S3Server.REGION;
        o.s3Compat = compat;
        return AwsClients.s3(o);
    }

    /** AWS SDK 2.30+ adds a CRC32 (header or aws-chunked trailer) to every upload; GCS refuses it; the gcs profile sends none. */
    @Test
    void gcsGetsNoFlexibleChecksums() throws Exception {
        String bucket = s3.createBucket("gcs");
        try (StoreQuirkProxy proxy = new StoreQuirkProxy(StoreQuirkProxy.Store.GCS, s3.endpoint);
             S3Client asAws = client(proxy.endpoint(), "aws"); S3Client gcs = client(proxy.endpoint(), "gcs")) {
            S3Exception refused = assertThrows(S3Exception.class, () -> asAws.putObject(b -> b.bucket(bucket).key("a"), RequestBody.fromString("x")));
            assertEquals(400, refused.statusCode(), refused.toString());
            assertEquals(1, proxy.refusals().size(), proxy.log().toString());

            try {
                gcs.putObject(b -> b.bucket(bucket).key("a"), RequestBody.fromString("x"));
            } catch (S3Exception e) {
                throw new AssertionError(proxy.refusals().toString(), e);
            }
            String id = gcs.createMultipartUpload(b -> b.bucket(bucket).key("m")).uploadId();
            gcs.uploadPart(b -> b.bucket(bucket).key("m").uploadId(id).partNumber(1), RequestBody.fromString("part"));
            gcs.abortMultipartUpload(b -> b.bucket(bucket).key("m").uploadId(id));
            assertEquals("x", gcs.getObjectAsBytes(b -> b.bucket(bucket).key("a")).asString(StandardCharsets.UTF_8));
            gcs.deleteObject(b -> b.bucket(bucket).key("a"));
            assertEquals(1, proxy.refusals().size(), "nothing more refused: " + proxy.refusals());
        }
        assertTrue(s3.keys(bucket).isEmpty(), s3.keys(bucket).toString());
    }

    /** B2's 500/503 bursts and its "request body was too small" on UploadPart: retried per request under the b2 profile. */
    @Test
    void b2BurstsAndShortBodiesAreRetried() throws Exception {
        String bucket = s3.createBucket("b2");
        try (StoreQuirkProxy proxy = new StoreQuirkProxy(StoreQuirkProxy.Store.B2, s3.endpoint);
             S3Client asAws = client(proxy.endpoint(), "aws"); S3Client b2 = client(proxy.endpoint(), "b2")) {
            proxy.burstEvery = 1_000_000; // no bursts yet: first the short body alone
            proxy.tooSmallEvery = 1;
            String first = asAws.createMultipartUpload(b -> b.bucket(bucket).key("m")).uploadId();
            S3Exception tooSmall = assertThrows(S3Exception.class,
                    () -> asAws.uploadPart(b -> b.bucket(bucket).key("m").uploadId(first).partNumber(1), RequestBody.fromString("part")));
            assertEquals(400, tooSmall.statusCode());
            assertEquals(1, proxy.refused("too-small"), "AWS's client does not retry a 400: " + proxy.refusals());
            asAws.abortMultipartUpload(b -> b.bucket(bucket).key("m").uploadId(first));

            proxy.burstEvery = 8;
            proxy.burstLength = 3;
            proxy.tooSmallEvery = 2;
            String id = b2.createMultipartUpload(b -> b.bucket(bucket).key("m")).uploadId();
            for (int n = 1; n <= 6; n++) {
                int part = n;
                b2.uploadPart(b -> b.bucket(bucket).key("m").uploadId(id).partNumber(part), RequestBody.fromString("part " + part));
            }
            for (int i = 0; i < 6; i++) {
                String key = "k" + i;
                b2.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(key));
            }
            assertEquals(6, b2.listParts(b -> b.bucket(bucket).key("m").uploadId(id)).parts().size());
            b2.abortMultipartUpload(b -> b.bucket(bucket).key("m").uploadId(id));
            assertTrue(proxy.refused("burst") >= 6 && proxy.refused("too-small") >= 3, proxy.refusals().toString());
        }
        assertEquals(6, s3.keys(bucket).size(), s3.keys(bucket).toString());
    }
}
