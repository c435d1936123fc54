import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** Which store profile an endpoint gets, and what the user can say about it (docs/stores.md's table). */
class StoreProfileTest {

    static StoreProfile detect(String endpoint) { return StoreProfile.detect(endpoint == null ? null : URI.create(endpoint)); }

    @Test
    void detectedFromTheEndpointsHost() {
        assertSame(StoreProfile.AWS, detect(null));
        assertSame(StoreProfile.AWS, detect("https://s3.eu-central-1.amazonaws.com"));
        assertSame(StoreProfile.R2, detect("https://0123456789abcdef.r2.cloudflarestorage.com"));
        assertSame(StoreProfile.R2, detect("https://0123456789abcdef.eu.r2.cloudflarestorage.com"));
        assertSame(StoreProfile.B2, detect("https://s3.us-west-004.backblazeb2.com"));
        assertSame(StoreProfile.GCS, detect("https://storage.googleapis.com"));
        assertSame(StoreProfile.WASABI, detect("https://s3.eu-central-1.wasabisys.com"));
        assertSame(StoreProfile.SPACES, detect("https://fra1.digitaloceanspaces.com"));
        assertSame(StoreProfile.HETZNER, detect("https://fsn1.your-objectstorage.com"));
        assertSame(StoreProfile.GENERIC, detect("http://127.0.0.1:9000"));
        assertSame(StoreProfile.GENERIC, detect("https://minio.example.com"));
        assertSame(StoreProfile.GENERIC, detect("https://evil-r2.cloudflarestorage.com.example.com"), "a suffix, not a substring");
    }

    @Test
    void namedByTheUserWhateverTheHost() {
        for (StoreProfile p : StoreProfile.ALL) {
            assertSame(p, StoreProfile.of(p.id(), URI.create("http://127.0.0.1:9000")));
            assertSame(p, StoreProfile.of(" " + p.id().toUpperCase() + " ", null));
        }
        assertSame(StoreProfile.B2, StoreProfile.of("", URI.create("https://s3.us-west-004.backblazeb2.com")), "blank: detected");
        Failure f = assertThrows(Failure.class, () -> StoreProfile.of("s4", null));
        assertEquals(Exit.USAGE, f.exitCode);
        assertTrue(f.getMessage().contains("--s3-compat 's4'") && f.getMessage().contains("r2, b2, gcs"), f.getMessage());
    }

    @Test
    void theOptionAndItsEnvironmentVariable() {
        AwsOptions o = new AwsOptions();
        o.endpointUrl = "https://fsn1.your-objectstorage.com";
        assertSame(StoreProfile.HETZNER, o.store());
        o.s3Compat = "ceph";
        assertSame(StoreProfile.CEPH, o.store());
        Scripts.Run bad = Scripts.run(new Prune(), "--bucket", "b-1", "--keep-last", "1", "--s3-compat", "nope");
        assertEquals(Exit.USAGE, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("unknown --s3-compat 'nope'"), bad.toString());
    }

    @Test
    void regionsAsEachStoreNamesThem() {
        assertEquals("auto", StoreProfile.R2.defaultRegion(URI.create("https://x.r2.cloudflarestorage.com")));
        assertEquals("us-west-004", StoreProfile.B2.defaultRegion(URI.create("https://s3.us-west-004.backblazeb2.com")));
        assertEquals("auto", StoreProfile.GCS.defaultRegion(URI.create("https://storage.googleapis.com")));
        assertEquals("eu-central-2", StoreProfile.WASABI.defaultRegion(URI.create("https://s3.eu-central-2.wasabisys.com")));
        assertEquals("us-east-1", StoreProfile.WASABI.defaultRegion(URI.create("https://s3.wasabisys.com")));
        assertEquals("nbg1", StoreProfile.HETZNER.defaultRegion(URI.create("https://nbg1.your-objectstorage.com")));
        assertEquals("us-east-1", StoreProfile.GENERIC.defaultRegion(URI.create("http://127.0.0.1:9000")));
        // AWS's form for AWS; the other stores' own names elsewhere
        assertTrue(StoreProfile.AWS.validRegion("eu-central-1"));
        assertFalse(StoreProfile.AWS.validRegion("auto"));
        for (String r : new String[] {"auto", "fsn1", "nyc3", "us-west-004", "us"}) assertTrue(StoreProfile.R2.validRegion(r) && StoreProfile.GENERIC.validRegion(r), r);
        assertFalse(StoreProfile.GENERIC.validRegion("eu central"));
        AwsOptions o = new AwsOptions();
        o.endpointUrl = "https://x.r2.cloudflarestorage.com";
        o.region = "auto";
        assertEquals("auto", o.regionOrNull().id());
    }
}
