import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * End-to-end least privilege: setup-aws creates the roles in a private moto_server, the test obtains each role's
 * credentials with AssumeRoleWithWebIdentity (as GitHub Actions does), switches moto to IAM enforcement, and makes
 * the S3 calls that backup, prune and restore make: what each role needs works, the rest is AccessDenied.
 *
 * What the emulator cannot check here, so AWS behaviour that these tests do NOT prove with moto (see {@link PrivateMoto#GAPS}):
 * - the trust policy: moto hands out credentials for any role and any token, so aud/sub pinning is only checked
 *   as a document (SetupAwsTest.trustPolicyPinsAudienceAndExactSubject);
 * - every policy condition: moto ignores them. "Create only" (s3:PutObject only with If-None-Match, or for the
 *   parts of a multipart upload) is an unconditional PutObject to moto: an overwrite without the header succeeds
 *   there. It is checked instead by evaluating the role's stored policy with {@link IamSimulator} against every
 *   request the real backup.java sent (writerRunsTheRealBackupScript) and against the requests it must not send;
 *   what moto does enforce is the explicit Deny of *.verify.json and the manifest-only GetObject;
 * - the s3:prefix condition on ListBucket: moto ignores it, so "may list only PREFIX/" is a simulator check; and
 *   moto rejects signed listings whose prefix has an encoded '/', so listings here use the prefix without its
 *   trailing slash (AWS would deny exactly that one, by our condition);
 * - DeleteObjects (prune's batch delete): moto authorizes it against the bucket ARN, where AWS checks
 *   s3:DeleteObject per key; the pruner is shown deleting with DeleteObject;
 * - kms:ViaService and the TLS-only bucket policy (not set on a plain-HTTP endpoint; moto ignores its condition).
 * The private server keeps enforcement (global to a moto process) away from the suite's shared emulator.
 */
class SetupAwsLeastPrivilegeTest {
    static PrivateMoto moto;
    static final String BUCKET = "least-privilege-backups";
    static final String OTHER_BUCKET = "least-privilege-other";
    static final String ACCOUNT = "123456789012";

    @BeforeAll
    static void createRoles() {
        Assumptions.assumeTrue(PrivateMoto.available(), "IAM enforcement needs moto_server (pip install 'moto[server]')");
        S3Server.get(); // the suite's default test credentials for in-process runs
        moto = PrivateMoto.start();
        for (List<String> extra : List.of(List.of("--split-roles"), List.of("--role-name", "all-in-one"))) {
            List<String> args = new java.util.ArrayList<>(List.of("--endpoint-url", moto.endpoint, "--region", S3Server.REGION, "--bucket", BUCKET,
                    "--github-repo", "octo-org/app"));
            args.addAll(extra);
            Scripts.Run run = Scripts.run(new SetupAws(), args.toArray(String[]::new));
            assertEquals(0, run.exit(), run.toString());
        }
        try (S3Client s3 = moto.s3()) {
            s3.createBucket(r -> r.bucket(OTHER_BUCKET));
        }
    }

    @AfterAll
    static void stop() {
        if (moto != null) moto.close();
    }

    static AwsCredentials role(String name) { return moto.assumeRoleWithWebIdentity("arn:aws:iam::" + ACCOUNT + ":role/" + name); }

    /** Objects a backup run leaves, and someone else's object next to them; put with the unenforced admin. */
    static void arrange(String... keys) {
        try (S3Client s3 = moto.s3()) {
            for (String k : keys) s3.putObject(r -> r.bucket(BUCKET).key(k), RequestBody.fromString("x"));
            s3.putObject(r -> r.bucket(BUCKET).key("other-team/secret.txt"), RequestBody.fromString("secret"));
            s3.putObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/x.dump"), RequestBody.fromString("x"));
        }
    }

    interface Call { void run(); }

    static void allowed(String what, Call call) {
        try {
            call.run();
        } catch (AwsServiceException e) {
            fail(what + " should be allowed: " + e.awsErrorDetails().errorCode() + " " + e.getMessage());
        }
    }

    static void denied(String what, Call call) {
        try {
            call.run();
            fail(what + " should be denied");
        } catch (AwsServiceException e) {
            assertEquals(403, e.statusCode(), what + ": " + e.getMessage());
            assertEquals(Exit.NO_PERMISSION, Errors.classify(e).exitCode, what);
        }
    }

    /** Runs the checks with IAM enforcement on, and always switches it off again. */
    static void enforced(Call checks) {
        moto.enforceIam();
        try {
            checks.run();
        } finally {
            moto.relaxIam();
        }
    }

    /**
     * backup.java's calls: the preflight (a multipart upload started and aborted), a multipart upload of the dump
     * (parts, ListParts, completion with If-None-Match: *), then the manifest (If-None-Match: *).
     */
    static void backUp(S3Client s3, String base) {
        String probe = s3.createMultipartUpload(r -> r.bucket(BUCKET).key("pg-backups/.backup-preflight")).uploadId();
        s3.abortMultipartUpload(r -> r.bucket(BUCKET).key("pg-backups/.backup-preflight").uploadId(probe));
        String upload = s3.createMultipartUpload(r -> r.bucket(BUCKET).key(base + ".dump")).uploadId();
        String etag = s3.uploadPart(r -> r.bucket(BUCKET).key(base + ".dump").uploadId(upload).partNumber(1), RequestBody.fromString("dump bytes")).eTag();
        s3.listParts(r -> r.bucket(BUCKET).key(base + ".dump").uploadId(upload));
        s3.completeMultipartUpload(r -> r.bucket(BUCKET).key(base + ".dump").uploadId(upload).ifNoneMatch("*")
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(etag).build())));
        s3.putObject(r -> r.bucket(BUCKET).key(base + ".manifest.json").ifNoneMatch("*"), RequestBody.fromString("{}"));
    }

    /** The S3 store itself refuses to replace an existing key when asked to create it (If-None-Match: *): 412. */
    static void exists(String what, Call call) {
        try {
            call.run();
            fail(what + " should fail: the key exists");
        } catch (AwsServiceException e) {
            assertEquals(412, e.statusCode(), what + ": " + e.getMessage());
        }
    }

    @Test
    void writerCreatesBackupsButCannotReplaceReadDumpsDeleteOrVouch() {
        String old = "pg-backups/app/app_2026-01-01T02-00-00Z";
        arrange(old + ".dump", old + ".manifest.json");
        AwsCredentials writer = role("pgdump-s3-" + BUCKET + "-writer");
        try (S3Client s3 = moto.s3(writer); IamClient iam = iamAs(writer)) {
            enforced(() -> {
                allowed("list the prefix", () -> s3.listObjectsV2(r -> r.bucket(BUCKET).prefix("pg-backups")));
                allowed("back up (preflight, multipart upload, manifest)", () -> backUp(s3, "pg-backups/app/app_2026-01-02T02-00-00Z"));
                allowed("read a manifest (the newest of a name: one history per source)",
                        () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(old + ".manifest.json")));
                allowed("see a manifest's size and ETag", () -> s3.headObject(r -> r.bucket(BUCKET).key(old + ".manifest.json")));
                // Create only: the store refuses the conditional write to an existing key, and IAM (not moto: it
                // ignores conditions) refuses the unconditional one. See writerRunsTheRealBackupScript.
                exists("recreate an existing manifest", () -> s3.putObject(r -> r.bucket(BUCKET).key(old + ".manifest.json").ifNoneMatch("*"),
                        RequestBody.fromString("{\"forged\": true}")));
                denied("read a dump", () -> s3.getObject(r -> r.bucket(BUCKET).key(old + ".dump")));
                denied("write a drill record", () -> s3.putObject(r -> r.bucket(BUCKET).key(old + ".verify.json").ifNoneMatch("*"),
                        RequestBody.fromString("{\"outcome\": \"passed\"}")));
                denied("write a drill record as a multipart upload", () -> s3.createMultipartUpload(r -> r.bucket(BUCKET).key(old + ".verify.json")));
                denied("delete a backup", () -> s3.deleteObject(r -> r.bucket(BUCKET).key(old + ".dump")));
                denied("read another prefix", () -> s3.getObject(r -> r.bucket(BUCKET).key("other-team/secret.txt")));
                denied("read a manifest in another bucket", () -> s3.getObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/x.manifest.json")));
                denied("write another prefix", () -> s3.putObject(r -> r.bucket(BUCKET).key("other-team/x").ifNoneMatch("*"), RequestBody.fromString("x")));
                denied("write another bucket", () -> s3.putObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/y.dump").ifNoneMatch("*"), RequestBody.fromString("x")));
                denied("change the bucket", () -> s3.deleteBucketPolicy(r -> r.bucket(BUCKET)));
                denied("use IAM", () -> iam.listRoles());
            });
        }
        try (S3Client admin = moto.s3()) {
            assertEquals("x", admin.getObjectAsBytes(r -> r.bucket(BUCKET).key(old + ".manifest.json")).asUtf8String(), "the old manifest is untouched");
            assertTrue(admin.listObjectsV2(r -> r.bucket(BUCKET).prefix(old + ".verify.json")).contents().isEmpty(), "no drill record was written");
        }
    }

    /** The role's inline policy as setup-aws stored it in IAM (read back, not recomputed). */
    static List<JsonNode> storedPolicy(String role) {
        try (IamClient iam = moto.iam()) {
            return List.of(PolicyJson.parse(iam.getRolePolicy(r -> r.roleName(role).policyName(IamPlanner.POLICY_NAME)).policyDocument()));
        }
    }

    /**
     * backup.java itself, in a child process with only the writer role's credentials, under IAM enforcement, through
     * a proxy that keeps every request it sends. moto checks actions and resources; the conditions it ignores are
     * then checked by evaluating the writer's stored policy for each of those requests: every one is allowed with
     * its conditions (backup creates every object with If-None-Match: *, or as the parts of a multipart upload),
     * except reading the dump it just stored (backup's size check, which it skips on 403); and the same requests
     * without If-None-Match, or aimed at a drill record, are denied.
     */
    @Test
    void writerRunsTheRealBackupScript() throws Exception {
        PgServer pg = PgServer.get();
        String db = pg.createDatabase("writer_run");
        String writerRole = "pgdump-s3-" + BUCKET + "-writer";
        AwsCredentials writer = role(writerRole);
        List<FaultProxy.Request> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (FaultProxy proxy = new FaultProxy(moto.endpoint)) {
            proxy.error("record every request, fault none", r -> { sent.add(r); return false; }, -1, 500, "InternalError", "never sent");
            pg.sql(db, "create table t as select g from generate_series(1, 1000) g");
            java.util.Map<String, String> env = new java.util.LinkedHashMap<>(moto.env(writer));
            env.put("AWS_ENDPOINT_URL", proxy.endpoint());
            env.put("DATABASE_URL", pg.url(db));
            env.put("S3_BUCKET", BUCKET);
            moto.enforceIam();
            Scripts.Run run;
            try {
                run = Scripts.runProcess("Backup", env, "--name", "writer-run");
            } finally {
                moto.relaxIam();
            }
            assertEquals(0, run.exit(), run.toString());
        } finally {
            pg.dropDatabase(db);
        }
        List<String> keys;
        try (S3Client s3 = moto.s3()) {
            keys = s3.listObjectsV2(r -> r.bucket(BUCKET).prefix("pg-backups/writer-run/")).contents().stream().map(o -> o.key()).toList();
        }
        assertEquals(2, keys.size(), keys.toString());
        String dumpKey = keys.stream().filter(k -> k.endsWith(".dump")).findFirst().orElseThrow(() -> new AssertionError(keys.toString()));
        assertTrue(keys.stream().anyMatch(k -> k.endsWith(".manifest.json")), keys.toString());

        List<JsonNode> policy = storedPolicy(writerRole);
        List<String> wrong = new java.util.ArrayList<>();
        List<IamSimulator.Request> creates = new java.util.ArrayList<>();
        for (FaultProxy.Request http : sent) {
            IamSimulator.Request r = IamSimulator.s3(http);
            boolean readsTheDump = r.action().equals("s3:GetObject") && r.resource().endsWith("/" + dumpKey);
            IamSimulator.Decision expected = readsTheDump ? IamSimulator.Decision.IMPLICIT_DENY : IamSimulator.Decision.ALLOWED;
            IamSimulator.Decision got = IamSimulator.evaluate(policy, r);
            if (got != expected) wrong.add(r + ": " + got + ", expected " + expected);
            if ("true".equals(r.context().get("s3:ObjectCreationOperation"))) creates.add(r);
        }
        assertEquals(List.of(), wrong, "what IAM (with conditions) decides for the requests backup sent");
        List<String> what = sent.stream().map(IamSimulator::s3).map(IamSimulator.Request::what).toList();
        for (String expected : List.of("CreateMultipartUpload pg-backups/.backup-preflight", "AbortMultipartUpload pg-backups/.backup-preflight",
                "CreateMultipartUpload " + dumpKey, "UploadPart " + dumpKey, "ListParts " + dumpKey, "CompleteMultipartUpload " + dumpKey)) {
            assertTrue(what.contains(expected), expected + " not among " + what);
        }
        String manifestKey = dumpKey.replace(".dump", ".manifest.json");
        assertTrue(what.contains("PutObject " + manifestKey), "PutObject " + manifestKey + " not among " + what);
        assertTrue(creates.size() >= 2, "the dump's completion and the manifest create objects: " + creates);
        for (IamSimulator.Request create : creates) {
            assertEquals("*", create.context().get("s3:if-none-match"), create + " is sent as a create");
            assertEquals(IamSimulator.Decision.IMPLICIT_DENY, IamSimulator.evaluate(policy, create.with("s3:if-none-match", null)),
                    create + " without If-None-Match (an overwrite) must be refused");
            assertEquals(IamSimulator.Decision.EXPLICIT_DENY, IamSimulator.evaluate(policy,
                    create.onKey(BUCKET, "pg-backups/writer-run/writer-run_2026-01-01T00-00-00Z.verify.json")), "a drill record");
        }
        IamSimulator.Request part = sent.stream().map(IamSimulator::s3).filter(r -> r.what().startsWith("UploadPart ")).findFirst().orElseThrow();
        assertEquals(IamSimulator.Decision.IMPLICIT_DENY, IamSimulator.evaluate(policy, part.with("s3:ObjectCreationOperation", "true")),
                "a request that creates an object without If-None-Match");
    }

    @Test
    void prunerCanPruneButNotReadOrWrite() {
        String old = "pg-backups/app/app_2025-01-01T02-00-00Z";
        arrange(old + ".dump", old + ".manifest.json", old + ".verify.json");
        String stale;
        try (S3Client admin = moto.s3()) {
            stale = admin.createMultipartUpload(r -> r.bucket(BUCKET).key("pg-backups/app/app_2025-01-02T02-00-00Z.dump")).uploadId();
        }
        AwsCredentials pruner = role("pgdump-s3-" + BUCKET + "-pruner");
        try (S3Client s3 = moto.s3(pruner)) {
            enforced(() -> {
                allowed("list the prefix", () -> s3.listObjectsV2(r -> r.bucket(BUCKET).prefix("pg-backups")));
                // prune.java reads every manifest (only complete backups count) and, for --require-verified, the drill records.
                allowed("read a manifest", () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(old + ".manifest.json")));
                allowed("read a drill record", () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(old + ".verify.json")));
                // prune.java: the manifest first, then the dump and the verify record; stale multipart uploads aborted.
                for (String suffix : List.of(".manifest.json", ".dump", ".verify.json")) {
                    allowed("delete " + suffix, () -> s3.deleteObject(r -> r.bucket(BUCKET).key(old + suffix)));
                }
                allowed("list multipart uploads", () -> s3.listMultipartUploads(r -> r.bucket(BUCKET).prefix("pg-backups")));
                allowed("abort a stale upload", () -> s3.abortMultipartUpload(r -> r.bucket(BUCKET).key("pg-backups/app/app_2025-01-02T02-00-00Z.dump").uploadId(stale)));
                denied("read a backup", () -> s3.getObject(r -> r.bucket(BUCKET).key("pg-backups/app/app_2026-01-01T02-00-00Z.dump")));
                denied("write a backup", () -> s3.putObject(r -> r.bucket(BUCKET).key("pg-backups/app/x.dump"), RequestBody.fromString("x")));
                denied("delete another prefix", () -> s3.deleteObject(r -> r.bucket(BUCKET).key("other-team/secret.txt")));
                denied("delete in another bucket", () -> s3.deleteObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/x.dump")));
            });
        }
        try (S3Client admin = moto.s3()) {
            assertEquals(List.of(), admin.listObjectsV2(r -> r.bucket(BUCKET).prefix(old)).contents(), "the pruner's deletes happened");
        }
    }

    @Test
    void restorerCanRestoreAndRecordADrillOnly() {
        String b = "pg-backups/app/app_2026-02-01T02-00-00Z";
        arrange(b + ".dump", b + ".manifest.json");
        AwsCredentials restorer = role("pgdump-s3-" + BUCKET + "-restorer");
        try (S3Client s3 = moto.s3(restorer)) {
            enforced(() -> {
                allowed("list the prefix", () -> s3.listObjectsV2(r -> r.bucket(BUCKET).prefix("pg-backups")));
                allowed("read the manifest", () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(b + ".manifest.json")));
                allowed("download the dump", () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(b + ".dump")));
                allowed("record the drill", () -> s3.putObject(r -> r.bucket(BUCKET).key(b + ".verify.json"), RequestBody.fromString("{}")));
                denied("overwrite a dump", () -> s3.putObject(r -> r.bucket(BUCKET).key(b + ".dump"), RequestBody.fromString("x")));
                denied("overwrite a manifest", () -> s3.putObject(r -> r.bucket(BUCKET).key(b + ".manifest.json"), RequestBody.fromString("{}")));
                denied("delete a backup", () -> s3.deleteObject(r -> r.bucket(BUCKET).key(b + ".dump")));
                denied("read another prefix", () -> s3.getObject(r -> r.bucket(BUCKET).key("other-team/secret.txt")));
                denied("read another bucket", () -> s3.getObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/x.dump")));
            });
        }
    }

    @Test
    void singleRoleDoesEverythingUnderThePrefixOnly() {
        String b = "pg-backups/app/app_2026-03-01T02-00-00Z";
        arrange("pg-backups/app/app_2026-01-01T02-00-00Z.dump");
        AwsCredentials all = role("all-in-one");
        try (S3Client s3 = moto.s3(all)) {
            enforced(() -> {
                allowed("back up", () -> backUp(s3, b));
                allowed("restore", () -> s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(b + ".dump")));
                allowed("record a drill", () -> s3.putObject(r -> r.bucket(BUCKET).key(b + ".verify.json"), RequestBody.fromString("{}")));
                allowed("record the next drill over it", () -> s3.putObject(r -> r.bucket(BUCKET).key(b + ".verify.json"), RequestBody.fromString("{}")));
                allowed("prune", () -> s3.deleteObject(r -> r.bucket(BUCKET).key("pg-backups/app/app_2026-01-01T02-00-00Z.dump")));
                allowed("list multipart uploads", () -> s3.listMultipartUploads(r -> r.bucket(BUCKET)));
                denied("read another prefix", () -> s3.getObject(r -> r.bucket(BUCKET).key("other-team/secret.txt")));
                denied("delete another prefix", () -> s3.deleteObject(r -> r.bucket(BUCKET).key("other-team/secret.txt")));
                denied("write another bucket", () -> s3.putObject(r -> r.bucket(OTHER_BUCKET).key("pg-backups/x/y.dump"), RequestBody.fromString("x")));
            });
        }
    }

    @Test
    void withoutIamRightsSetupStopsWith77AndKeepsWhatItDid() throws Exception {
        // An operator who may administer S3 and read IAM, but not create IAM resources.
        AwsCredentials operator;
        try (IamClient iam = moto.iam()) {
            iam.createUser(r -> r.userName("s3-admin"));
            iam.putUserPolicy(r -> r.userName("s3-admin").policyName("s3-and-iam-read").policyDocument("""
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:Get*", "iam:List*"], "Resource": "*"}]}"""));
            var key = iam.createAccessKey(r -> r.userName("s3-admin")).accessKey();
            operator = AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey());
        }
        String bucket = "least-privilege-partial";
        Scripts.Run[] run = new Scripts.Run[1];
        Map<String, String> env = moto.env(operator);
        enforced(() -> {
            try {
                run[0] = Scripts.runProcess("SetupAws", env, "--bucket", bucket, "--github-repo", "octo-org/app", "--role-name", "partial-role", "--json");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Scripts.Run r = run[0];
        assertEquals(Exit.NO_PERMISSION, r.exit(), r.toString());
        String errorLine = r.err().lines().filter(l -> l.startsWith("setup-aws: error:")).findFirst().orElseThrow(() -> new AssertionError(r.err()));
        assertTrue(errorLine.contains("permission denied") && errorLine.contains("iam-role partial-role"), errorLine);
        JsonNode report = Json.MAPPER.readTree(r.out());
        assertEquals(false, report.get("ok").asBoolean());
        assertEquals(Exit.NO_PERMISSION, report.get("error").get("exitCode").asInt());
        for (JsonNode item : report.get("items")) {
            String res = item.get("resource").asText();
            String expected = res.equals("iam-role") ? "failed" : res.equals("trust-policy") || res.equals("role-policy") ? "skipped" : "done";
            assertEquals(expected, item.get("status").asText(), item.toString());
        }
        assertTrue(r.err().contains("FAILED to create iam-role") || r.err().contains("FAILED to create"), r.err());
        try (S3Client s3 = moto.s3()) {
            assertTrue(s3.getPublicAccessBlock(x -> x.bucket(bucket)).publicAccessBlockConfiguration().blockPublicAcls(), "what was converged stays");
        }
    }

    static IamClient iamAs(AwsCredentials c) {
        return IamClient.builder().endpointOverride(java.net.URI.create(moto.endpoint)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(c)).httpClientBuilder(ApacheHttpClient.builder()).build();
    }
}
