import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The whole job (backup, list, verify, restore, prune) on two real S3 servers, moto and s3proxy, each behind a
 * {@link StoreQuirkProxy} applying one store's rules (R2, B2, GCS) with that store's profile, and behind a
 * {@link FaultProxy} for the faults every store shows now and then.
 */
class StoreCompatTest {
    static PgServer pg;
    static String sample;

    @BeforeAll
    static void setUp() {
        pg = PgServer.get();
        sample = SampleDatabase.create(pg, "stores_src");
    }

    @AfterAll
    static void tearDown() { pg.dropDatabase(sample); }

    /** The suite's server (moto, unless it has none) and s3proxy. */
    static List<S3Server> servers() {
        List<S3Server> servers = new ArrayList<>(List.of(S3Server.get()));
        if (S3Server.s3proxy() != S3Server.get()) servers.add(S3Server.s3proxy());
        return servers;
    }

    static Stream<Arguments> serversAndStores() {
        List<Arguments> all = new ArrayList<>();
        for (S3Server s : servers()) for (StoreQuirkProxy.Store store : StoreQuirkProxy.Store.values()) all.add(Arguments.of(s.kind, store));
        return all.stream();
    }

    static Stream<String> serverKinds() { return servers().stream().map(s -> s.kind); }

    static S3Server server(String kind) { return servers().stream().filter(s -> s.kind.equals(kind)).findFirst().orElseThrow(); }

    static String[] args(String endpoint, String compat, String bucket, String... more) {
        List<String> all = new ArrayList<>(List.of("--bucket", bucket, "--endpoint-url", endpoint, "--region", S3Server.REGION));
        if (compat != null) all.addAll(List.of("--s3-compat", compat));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Backup twice, list, verify, restore, prune to one: every request through the store's rules. */
    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("serversAndStores")
    void roundTripUnderEachStoresRules(String kind, StoreQuirkProxy.Store store) throws Exception {
        S3Server s3 = server(kind);
        String bucket = s3.createBucket(store.name().toLowerCase());
        String compat = store.name().toLowerCase();
        try (StoreQuirkProxy proxy = new StoreQuirkProxy(store, s3.endpoint)) {
            String ep = proxy.endpoint();
            for (int i = 0; i < 2; i++) {
                Scripts.Run b = Scripts.run(new Backup(), args(ep, compat, bucket, "--database-url", pg.url(sample)));
                assertEquals(0, b.exit(), b + "\n" + proxy.refusals());
                if (i == 0) Thread.sleep(1100); // two backups, two stamps
            }
            List<String> keys = s3.keys(bucket);
            assertEquals(4, keys.size(), keys.toString());
            for (String sub : new String[] {"list", "verify"}) {
                Scripts.Run r = Scripts.run(new Restore(), args(ep, compat, bucket, sub));
                assertEquals(0, r.exit(), sub + ": " + r);
            }
            String target = pg.createDatabase("stores_dst");
            try {
                Scripts.Run restore = Scripts.run(new Restore(), args(ep, compat, bucket, "--target-url", pg.url(target)));
                assertEquals(0, restore.exit(), restore.toString());
                assertEquals(SampleDatabase.fingerprints(pg, sample), SampleDatabase.fingerprints(pg, target));
            } finally {
                pg.dropDatabase(target);
            }
            Scripts.Run prune = Scripts.run(new Prune(), args(ep, compat, bucket, "--keep-last", "1"));
            assertEquals(0, prune.exit(), prune + "\n" + proxy.refusals());
            List<String> left = s3.keys(bucket);
            assertEquals(keys.subList(2, 4), left, "the newest backup is kept, the older one is gone");
            // the store's rules were there to bite, and nothing this store refuses was sent
            switch (store) {
                case B2 -> assertTrue(proxy.refused("burst") > 0 && proxy.refused("malformed-delete-reply") == 0, proxy.refusals().toString());
                case GCS, R2 -> assertEquals(List.of(), proxy.refusals());
                default -> { }
            }
        }
    }

    /** Throttling, 500s and a part cut mid-body, on each server: retried, and the backup is whole. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("serverKinds")
    void faultsAreRiddenOutOnEachServer(String kind) throws Exception {
        S3Server s3 = server(kind);
        String bucket = s3.createBucket("faults");
        try (FaultProxy proxy = new FaultProxy(s3.endpoint)) {
            List<FaultProxy.Rule> rules = List.of(
                    proxy.slowDown("parts SlowDown", FaultProxy.Request::isUploadPart, 2),
                    proxy.resetInRequestBody("part cut after 64 KB", FaultProxy.Request::isUploadPart, 1, 64 << 10),
                    proxy.error("complete 503", FaultProxy.Request::isCompleteUpload, 1, 503, "ServiceUnavailable", "Please reduce your request rate."),
                    proxy.internalError("manifest 500", FaultProxy.Request::isManifestPut, 1));
            Scripts.Run b = Scripts.run(new Backup(), args(proxy.endpoint(), null, bucket, "--database-url", pg.url(sample)));
            assertEquals(0, b.exit(), b + "\n" + proxy.log());
            for (FaultProxy.Rule r : rules) assertTrue(r.applied() > 0, r + "\n" + proxy.log());
            proxy.clearRules();
            proxy.slowDown("listing SlowDown", r -> r.method().equals("GET") && r.key().isEmpty(), 2);
            Scripts.Run verify = Scripts.run(new Restore(), args(proxy.endpoint(), null, bucket, "verify"));
            assertEquals(0, verify.exit(), verify.toString());
        }
    }

    /**
     * R2's rule on a dump of thousands of parts (4 KiB test parts on a moto that accepts them): every part the same
     * size, so R2's completion takes it. First the rule itself: unequal parts are refused.
     */
    @Test
    void r2TakesADumpOfThousandsOfEqualParts() throws Exception {
        if (!PrivateMoto.available()) return; // needs moto's S3_UPLOAD_PART_MIN_SIZE; s3proxy keeps S3's 5 MiB
        String db = pg.createDatabase("stores_parts");
        // 6 MB of random bytes: about 12 MB of dump (bytea in hex, not compressed), some 3,000 parts of 4 KiB
        pg.sql(db, "create table blob as select g, decode(string_agg(md5(random()::text || g || s), ''), 'hex') as b"
                + " from generate_series(1, 6000) g, generate_series(1, 64) s group by g");
        try (PrivateMoto moto = PrivateMoto.start(Map.of("S3_UPLOAD_PART_MIN_SIZE", "1024"));
             StoreQuirkProxy proxy = new StoreQuirkProxy(StoreQuirkProxy.Store.R2, moto.endpoint)) {
            AwsOptions o = moto.options();
            o.endpointUrl = proxy.endpoint();
            o.s3Compat = "r2";
            try (S3Client s3 = AwsClients.s3(o)) {
                s3.createBucket(b -> b.bucket("r2-parts"));
                String id = s3.createMultipartUpload(b -> b.bucket("r2-parts").key("unequal")).uploadId();
                List<CompletedPart> parts = new ArrayList<>();
                for (int n = 1; n <= 3; n++) {
                    int part = n;
                    String etag = s3.uploadPart(b -> b.bucket("r2-parts").key("unequal").uploadId(id).partNumber(part),
                            RequestBody.fromBytes(new byte[part == 2 ? 8192 : 4096])).eTag();
                    parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
                }
                S3Exception refused = assertThrows(S3Exception.class, () -> s3.completeMultipartUpload(b -> b.bucket("r2-parts").key("unequal")
                        .uploadId(id).multipartUpload(m -> m.parts(parts))));
                assertTrue(refused.getMessage().contains(StoreQuirkProxy.R2_UNEQUAL), refused.getMessage());
            }
            Map<String, String> env = new LinkedHashMap<>(Map.of("AWS_ENDPOINT_URL", proxy.endpoint(), "AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY, "AWS_REGION", S3Server.REGION, "S3_COMPAT", "r2", "PGDUMP_S3_TEST_MIN_PART_SIZE", "4096"));
            Scripts.Run b = Scripts.runProcess("Backup", env, "--bucket", "r2-parts", "--database-url", pg.url(db), "--part-size", "4096", "--compress", "0");
            assertEquals(0, b.exit(), b + "\n" + proxy.refusals());
            Map<Integer, Long> sizes = proxy.parts().values().stream().filter(m -> m.size() > 100).findFirst().orElseThrow().entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            assertTrue(sizes.size() > 2500, sizes.size() + " parts");
            for (int n = 1; n < sizes.size(); n++) assertEquals(4096L, sizes.get(n), "part " + n);
            assertEquals(1, proxy.refused("unequal-parts"), proxy.refusals().toString()); // only the test's own
            Scripts.Run verify = Scripts.runProcess("Restore", env, "verify", "--bucket", "r2-parts");
            assertEquals(0, verify.exit(), verify.toString());
        } finally {
            pg.dropDatabase(db);
        }
    }

    /**
     * A store that ignores If-None-Match (B2 here): the profile's fallback checks that the dump's key is still free
     * before completing, so a key taken meanwhile is never replaced. Under the aws profile the same store lets the
     * completion replace it: what the fallback is for. The run is held after its parts, the key taken, the run let go.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"b2", "aws"})
    void aKeyTakenMeanwhileIsNeverReplacedWhereTheStoreIgnoresConditions(String compat) throws Exception {
        S3Server s3 = S3Server.get();
        if (!s3.isMoto()) return; // the proxy drops a signed header: only moto, which does not check signatures
        String bucket = s3.createBucket("taken");
        try (StoreQuirkProxy b2 = new StoreQuirkProxy(StoreQuirkProxy.Store.B2, s3.endpoint); FaultProxy proxy = new FaultProxy(b2.endpoint())) {
            b2.burstEvery = Integer.MAX_VALUE;
            b2.tooSmallEvery = Integer.MAX_VALUE;
            b2.ignoreConditions = true;
            var held = proxy.hold("parts listed", r -> r.method().equals("GET") && r.has("uploadId"), 1);
            var run = java.util.concurrent.CompletableFuture.supplyAsync(() -> Scripts.run(new Backup(),
                    args(proxy.endpoint(), compat, bucket, "--database-url", pg.url(sample))));
            held.awaitHit(java.time.Duration.ofSeconds(120));
            String line = null;
            for (int i = 0; i < 100 && line == null; i++) { // the rule counts its hit just before the proxy logs the request
                line = proxy.log().stream().filter(l -> l.endsWith("-> parts listed")).findFirst().orElse(null);
                if (line == null) Thread.sleep(50);
            }
            assertTrue(line != null, proxy.log().toString());
            String dumpKey = line.substring(line.indexOf("/" + bucket + "/") + bucket.length() + 2, line.indexOf('?'));
            try (S3Client client = s3.s3()) {
                client.putObject(b -> b.bucket(bucket).key(dumpKey), RequestBody.fromString("another run's dump"));
                held.release();
                Scripts.Run b = run.get(180, java.util.concurrent.TimeUnit.SECONDS);
                boolean replaced = !java.util.Arrays.equals("another run's dump".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        client.getObjectAsBytes(g -> g.bucket(bucket).key(dumpKey)).asByteArray());
                if (compat.equals("b2")) {
                    assertEquals(Exit.FAILED, b.exit(), b.toString());
                    assertTrue(b.err().contains("already exists"), b.err());
                    assertTrue(!replaced, "never replaced");
                } else {
                    assertEquals(0, b.exit(), b.toString());
                    assertTrue(replaced, "the store ignored If-None-Match: replaced");
                }
            }
        }
    }

    /**
     * B2's DeleteObjects reply can list an error without its key (pgbackrest#2259), which reads as "all deleted".
     * Whatever the profile, such a reply is not trusted: that batch is deleted again one key at a time.
     */
    @Test
    void aDeleteObjectsReplyWithoutKeysIsNotTrusted() throws Exception {
        S3Server s3 = S3Server.get();
        String bucket = s3.createBucket("malformed");
        for (int i = 0; i < 2; i++) {
            Scripts.Run b = Scripts.run(new Backup(), args(s3.endpoint, null, bucket, "--database-url", pg.url(sample)));
            assertEquals(0, b.exit(), b.toString());
            if (i == 0) Thread.sleep(1100);
        }
        List<String> keys = s3.keys(bucket);
        try (StoreQuirkProxy b2 = new StoreQuirkProxy(StoreQuirkProxy.Store.B2, s3.endpoint)) {
            b2.burstEvery = Integer.MAX_VALUE;
            b2.tooSmallEvery = Integer.MAX_VALUE;
            Scripts.Run prune = Scripts.run(new Prune(), args(b2.endpoint(), "generic", bucket, "--keep-last", "1"));
            assertEquals(0, prune.exit(), prune + "\n" + b2.refusals());
            assertTrue(b2.refused("malformed-delete-reply") > 0, b2.log().toString());
        }
        assertEquals(keys.subList(2, 4), s3.keys(bucket), "the older backup is really gone");
    }
}
