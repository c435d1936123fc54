import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketLocationConstraint;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.ObjectOwnership;
import software.amazon.awssdk.services.s3.model.OwnershipControlsRule;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionRule;

/**
 * setup-aws's bucket, planned: reads the bucket's state and plans each of its settings (the bucket in its region,
 * Block Public Access, ACLs off, default encryption, versioning and Object Lock when asked, our lifecycle rules, the
 * TLS-only bucket policy statement), keeping what is not ours (other lifecycle rules, other policy statements).
 */
final class BucketPlanner {
    private final S3Client s3;
    private final SetupTarget t;
    /** The S3 endpoint given (a local MinIO or emulator), or null for AWS. */
    private final URI endpoint;
    private final List<String> warnings;

    BucketPlanner(S3Client s3, SetupTarget t, URI endpoint, List<String> warnings) {
        this.s3 = s3;
        this.t = t;
        this.endpoint = endpoint;
        this.warnings = warnings;
    }

    void plan(List<SetupItem> plan) {
        SetupSettings s = t.s();
        String b = s.bucket();
        String name = "s3://" + b;
        boolean exists = bucketExists(b);

        // The bucket, in the region; with Object Lock when asked (S3 allows it at creation; see below).
        ObjectNode wantBucket = obj().put("Region", s.region());
        if (s.objectLockDays() != null) wantBucket.put("ObjectLockEnabled", true);
        ObjectNode haveBucket = null;
        if (exists) {
            haveBucket = obj().put("Region", s.region());
            if (s.objectLockDays() != null) {
                boolean locked = objectLockEnabled(b);
                if (!locked) {
                    throw new Failure(Exit.CONFIG, "the bucket " + b + " exists without Object Lock, and setup-aws does not turn it on for an existing bucket"
                            + " (irreversible, and it needs versioning first): use a new bucket with --object-lock-days, or enable Object Lock on this one"
                            + " yourself (aws s3api put-bucket-versioning, then put-object-lock-configuration) and run again");
                }
                haveBucket.put("ObjectLockEnabled", true);
            }
        }
        plan.add(new SetupItem("bucket", name, haveBucket, wantBucket, null, () -> s3.createBucket(r -> {
            r.bucket(b);
            if (!s.region().equals("us-east-1")) r.createBucketConfiguration(c -> c.locationConstraint(BucketLocationConstraint.fromValue(s.region())));
            if (s.objectLockDays() != null) r.objectLockEnabledForBucket(true);
        })));

        // Block Public Access: all four.
        ObjectNode wantPab = obj().put("BlockPublicAcls", true).put("IgnorePublicAcls", true).put("BlockPublicPolicy", true).put("RestrictPublicBuckets", true);
        ObjectNode havePab = !exists ? null : absentOn(() -> {
            var c = s3.getPublicAccessBlock(r -> r.bucket(b)).publicAccessBlockConfiguration();
            return obj().put("BlockPublicAcls", Boolean.TRUE.equals(c.blockPublicAcls())).put("IgnorePublicAcls", Boolean.TRUE.equals(c.ignorePublicAcls()))
                    .put("BlockPublicPolicy", Boolean.TRUE.equals(c.blockPublicPolicy())).put("RestrictPublicBuckets", Boolean.TRUE.equals(c.restrictPublicBuckets()));
        }, "NoSuchPublicAccessBlockConfiguration");
        plan.add(new SetupItem("public-access-block", name, havePab, wantPab, null, () -> s3.putPublicAccessBlock(r -> r.bucket(b)
                .publicAccessBlockConfiguration(c -> c.blockPublicAcls(true).ignorePublicAcls(true).blockPublicPolicy(true).restrictPublicBuckets(true)))));

        // Object ownership: bucket owner enforced, i.e. ACLs off; access is decided by policies only.
        ObjectNode wantOwn = obj().put("ObjectOwnership", ObjectOwnership.BUCKET_OWNER_ENFORCED.toString());
        ObjectNode haveOwn = !exists ? null : absentOn(() -> {
            var rules = s3.getBucketOwnershipControls(r -> r.bucket(b)).ownershipControls().rules();
            return obj().put("ObjectOwnership", rules.isEmpty() ? "none" : rules.get(0).objectOwnershipAsString());
        }, "OwnershipControlsNotFoundError");
        plan.add(new SetupItem("ownership-controls", name, haveOwn, wantOwn, null, () -> s3.putBucketOwnershipControls(r -> r.bucket(b)
                .ownershipControls(c -> c.rules(OwnershipControlsRule.builder().objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED).build())))));

        // Default encryption: SSE-S3, or SSE-KMS with a bucket key (fewer KMS calls, lower cost).
        ObjectNode wantEnc = s.kmsKey() == null ? obj().put("SSEAlgorithm", "AES256")
                : obj().put("SSEAlgorithm", "aws:kms").put("KMSMasterKeyID", s.kmsKey()).put("BucketKeyEnabled", true);
        ObjectNode haveEnc = !exists ? null : absentOn(() -> {
            List<ServerSideEncryptionRule> rules = s3.getBucketEncryption(r -> r.bucket(b)).serverSideEncryptionConfiguration().rules();
            if (rules.isEmpty() || rules.get(0).applyServerSideEncryptionByDefault() == null) return null;
            var rule = rules.get(0);
            var def = rule.applyServerSideEncryptionByDefault();
            String alg = def.sseAlgorithmAsString();
            if (!"AES256".equals(alg)) {
                if (s.kmsKey() == null) {
                    throw Failure.usage("the bucket " + b + " is encrypted by default with " + alg + (def.kmsMasterKeyID() == null ? "" : " (key " + def.kmsMasterKeyID() + ")")
                            + ": setup-aws never weakens that to SSE-S3; pass --kms-key with that key's ARN so the role(s) may use it");
                }
                String key = def.kmsMasterKeyID();
                // S3 may store the key as an id or ARN; the same key either way counts as unchanged.
                if (key != null && !key.startsWith("arn:") && s.kmsKey().endsWith("key/" + key)) key = s.kmsKey();
                ObjectNode o = obj().put("SSEAlgorithm", alg).put("BucketKeyEnabled", Boolean.TRUE.equals(rule.bucketKeyEnabled()));
                if (key != null) o.put("KMSMasterKeyID", key);
                return o;
            }
            return obj().put("SSEAlgorithm", alg);
        }, "ServerSideEncryptionConfigurationNotFoundError");
        plan.add(new SetupItem("default-encryption", name, haveEnc, wantEnc, null, () -> s3.putBucketEncryption(r -> r.bucket(b)
                .serverSideEncryptionConfiguration(c -> c.rules(s.kmsKey() == null
                        ? ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(d -> d.sseAlgorithm(ServerSideEncryption.AES256)).build()
                        : ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(d -> d.sseAlgorithm(ServerSideEncryption.AWS_KMS).kmsMasterKeyID(s.kmsKey()))
                                .bucketKeyEnabled(true).build())))));

        // Versioning, when asked (or needed by Object Lock). Never turned off by setup-aws.
        String currentVersioning = exists ? s3.getBucketVersioning(r -> r.bucket(b)).statusAsString() : null;
        boolean versioned = s.versioning() || "Enabled".equals(currentVersioning);
        if (s.versioning()) {
            ObjectNode have = !exists ? null : obj().put("Status", currentVersioning == null ? "Off" : currentVersioning);
            plan.add(new SetupItem("versioning", name, have, obj().put("Status", "Enabled"), null,
                    () -> s3.putBucketVersioning(r -> r.bucket(b).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)))));
        } else if ("Enabled".equals(currentVersioning)) {
            warnings.add("versioning is on for " + b + " (not asked for: left on); noncurrent versions under " + s.prefix() + "/ expire after " + s.noncurrentDays() + " days");
        }

        // Object Lock default retention, GOVERNANCE mode: a deleted or overwritten backup stays recoverable for N days.
        if (s.objectLockDays() != null) {
            ObjectNode want = obj().put("Mode", "GOVERNANCE").put("Days", s.objectLockDays());
            ObjectNode have = !exists ? null : absentOn(() -> {
                var c = s3.getObjectLockConfiguration(r -> r.bucket(b)).objectLockConfiguration();
                if (c.rule() == null || c.rule().defaultRetention() == null) return null;
                var d = c.rule().defaultRetention();
                ObjectNode o = obj().put("Mode", d.modeAsString());
                if (d.days() != null && d.days() > 0) o.put("Days", d.days());
                if (d.years() != null && d.years() > 0) o.put("Years", d.years());
                return o;
            }, "ObjectLockConfigurationNotFoundError");
            plan.add(new SetupItem("object-lock-retention", name, have, want, null, () -> s3.putObjectLockConfiguration(r -> r.bucket(b)
                    .objectLockConfiguration(c -> c.objectLockEnabled(ObjectLockEnabled.ENABLED)
                            .rule(x -> x.defaultRetention(d -> d.mode(ObjectLockRetentionMode.GOVERNANCE).days(s.objectLockDays())))))));
        }

        // Lifecycle: our rules (by id, for PREFIX/) replace their earlier versions; other rules are kept.
        List<LifecycleRule> existingRules = !exists ? List.of() : absentOrEmpty(() -> s3.getBucketLifecycleConfiguration(r -> r.bucket(b)).rules(), "NoSuchLifecycleConfiguration");
        List<LifecycleRule> ours = lifecycleRules(s.prefix(), versioned || s.objectLockDays() != null, s.noncurrentDays());
        List<String> ourIds = ours.stream().map(LifecycleRule::id).toList();
        ArrayNode wantLc = Json.MAPPER.createArrayNode();
        ours.forEach(r -> wantLc.add(ruleJson(r)));
        ArrayNode haveLc = Json.MAPPER.createArrayNode();
        existingRules.stream().filter(r -> ourIds.contains(r.id())).forEach(r -> haveLc.add(ruleJson(r)));
        List<LifecycleRule> merged = new ArrayList<>(existingRules.stream().filter(r -> !ourIds.contains(r.id())).toList());
        merged.addAll(ours);
        int others = existingRules.size() - haveLc.size();
        plan.add(new SetupItem("lifecycle", name + " (" + s.prefix() + "/)", haveLc.isEmpty() ? null : haveLc, wantLc,
                others > 0 ? others + " other rule(s) kept" : null,
                () -> s3.putBucketLifecycleConfiguration(r -> r.bucket(b).lifecycleConfiguration(c -> c.rules(merged)))));

        // Bucket policy: deny anything not over TLS. Other statements are kept. On a plain-HTTP endpoint (a local
        // MinIO or emulator) that statement would refuse every request the endpoint can ever receive: not set there.
        if (endpoint != null && "http".equals(endpoint.getScheme())) {
            warnings.add("the endpoint " + endpoint + " is plain HTTP: the TLS-only bucket policy is not set (it would refuse every request to it); against AWS it always is");
            return;
        }
        JsonNode havePolicy = !exists ? null : absentOn(() -> PolicyJson.parse(s3.getBucketPolicy(r -> r.bucket(b)).policy()), "NoSuchBucketPolicy");
        ObjectNode wantPolicy = IamPolicies.bucketPolicy(havePolicy, t.bucketArn());
        int otherStatements = IamPolicies.statementsOf(wantPolicy).size() - 1;
        plan.add(new SetupItem("bucket-policy", name, havePolicy, wantPolicy, otherStatements > 0 ? otherStatements + " other statement(s) kept" : null,
                () -> s3.putBucketPolicy(r -> r.bucket(b).policy(PolicyJson.compact(wantPolicy)))));
    }

    /**
     * HeadBucket with ExpectedBucketOwner (our account): 200 ours, 404 free, 403 another account's or no permission,
     * 301 another region. setup-aws only ever changes buckets of the account it runs in; since S3-compatible
     * servers may ignore ExpectedBucketOwner, a 200 is also checked against this account's bucket list.
     */
    private boolean bucketExists(String b) {
        try {
            var head = s3.headBucket(r -> r.bucket(b).expectedBucketOwner(t.account()));
            String region = head.bucketRegion();
            if (region != null && !region.isBlank() && !region.equals(t.s().region()) && endpoint == null) {
                throw new Failure(Exit.CONFIG, "the bucket " + b + " exists in " + region + ", not " + t.s().region() + ": run with --region " + region);
            }
            boolean ours;
            try {
                ours = ownBucket(b);
            } catch (S3Exception listDenied) {
                ours = true; // ExpectedBucketOwner already vouched for it (on AWS); the list is only a second check
            }
            if (!ours) {
                throw new Failure(Exit.FAILED, "the bucket name " + b + " is already taken by another AWS account (S3 bucket names are global): choose another --bucket");
            }
            return true;
        } catch (NoSuchBucketException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return false;
            if (e.statusCode() == 301) {
                String region = e.awsErrorDetails() == null ? null : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region").orElse(null);
                throw new Failure(Exit.CONFIG, "the bucket " + b + " exists in another region" + (region == null ? "" : " (" + region + ")")
                        + ": run with --region " + (region == null ? "REGION" : region), e);
            }
            if (e.statusCode() == 403) {
                boolean ours;
                try {
                    ours = ownBucket(b);
                } catch (S3Exception listDenied) {
                    throw new Failure(Exit.NO_PERMISSION, "access to the bucket " + b + " is denied, and listing your buckets too: either the name belongs to another"
                            + " AWS account (choose another --bucket) or your credentials lack S3 permissions", e);
                }
                if (ours) throw new Failure(Exit.NO_PERMISSION, "the bucket " + b + " is yours but your credentials may not read it: setup-aws needs S3 administration rights", e);
                throw new Failure(Exit.FAILED, "the bucket name " + b + " is already taken by another AWS account (S3 bucket names are global): choose another --bucket", e);
            }
            throw e;
        }
    }

    /** Is the bucket one of this account's? (ListBuckets lists only the caller's own buckets.) */
    private boolean ownBucket(String b) {
        return s3.listBucketsPaginator(r -> r.prefix(b).maxBuckets(1000)).buckets().stream().anyMatch(x -> x.name().equals(b));
    }

    private boolean objectLockEnabled(String b) {
        return Boolean.TRUE.equals(absentOn(() -> {
            var c = s3.getObjectLockConfiguration(r -> r.bucket(b)).objectLockConfiguration();
            return c != null && c.objectLockEnabled() == ObjectLockEnabled.ENABLED ? Boolean.TRUE : Boolean.FALSE;
        }, "ObjectLockConfigurationNotFoundError"));
    }

    /** Our lifecycle rules for PREFIX/: abort incomplete multipart uploads after a day; with versioning, expire old versions. */
    static List<LifecycleRule> lifecycleRules(String prefix, boolean versioned, int noncurrentDays) {
        List<LifecycleRule> rules = new ArrayList<>();
        rules.add(LifecycleRule.builder().id("pgdump-s3-abort-incomplete-uploads:" + prefix + "/").status(ExpirationStatus.ENABLED)
                .filter(f -> f.prefix(prefix + "/")).abortIncompleteMultipartUpload(a -> a.daysAfterInitiation(1)).build());
        if (versioned) {
            rules.add(LifecycleRule.builder().id("pgdump-s3-expire-noncurrent-versions:" + prefix + "/").status(ExpirationStatus.ENABLED)
                    .filter(f -> f.prefix(prefix + "/")).noncurrentVersionExpiration(n -> n.noncurrentDays(noncurrentDays))
                    .expiration(e -> e.expiredObjectDeleteMarker(true)).build());
        }
        return rules;
    }

    /** The parts of a lifecycle rule that we set, as JSON (for comparing, and for showing the plan). */
    static ObjectNode ruleJson(LifecycleRule r) {
        ObjectNode o = obj().put("ID", r.id()).put("Status", r.statusAsString());
        String prefix = r.filter() != null && r.filter().prefix() != null ? r.filter().prefix()
                : r.filter() != null && r.filter().and() != null ? r.filter().and().prefix() : legacyPrefix(r);
        o.put("FilterPrefix", prefix == null ? "" : prefix);
        if (r.abortIncompleteMultipartUpload() != null) o.put("AbortIncompleteMultipartUploadDays", r.abortIncompleteMultipartUpload().daysAfterInitiation());
        if (r.noncurrentVersionExpiration() != null) o.put("NoncurrentVersionExpirationDays", r.noncurrentVersionExpiration().noncurrentDays());
        if (r.expiration() != null) {
            if (Boolean.TRUE.equals(r.expiration().expiredObjectDeleteMarker())) o.put("ExpiredObjectDeleteMarker", true);
            if (r.expiration().days() != null) o.put("ExpirationDays", r.expiration().days());
        }
        return o;
    }

    /** A rule written before S3 had filters keeps its prefix at the top level (deprecated in the SDK, still returned). */
    @SuppressWarnings("deprecation")
    private static String legacyPrefix(LifecycleRule r) { return r.prefix(); }

    interface Read<T> { T get(); }

    /** The result of a read, or null when AWS answers that the configuration does not exist (the given error code). */
    static <T> T absentOn(Read<T> read, String absentCode) {
        try {
            return read.get();
        } catch (AwsServiceException e) {
            if (e.awsErrorDetails() != null && absentCode.equals(e.awsErrorDetails().errorCode())) return null;
            throw e;
        }
    }

    static <T> List<T> absentOrEmpty(Read<List<T>> read, String absentCode) {
        List<T> r = absentOn(read, absentCode);
        return r == null ? List.of() : r;
    }

    private static ObjectNode obj() { return Json.MAPPER.createObjectNode(); }
}
