import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Deletes prune's plan in the order that leaves every backup, at every moment, either complete or recognisably
 * incomplete: (1) the manifests of the backups to delete, so each becomes an incomplete backup, and those of
 * phantoms; (2) their verify records, and those of incomplete backups; (3) their dumps, and those of incomplete
 * backups; (4) stale multipart uploads are aborted. A backup whose manifest could not be deleted keeps its dump and verify
 * record (it is still complete). DeleteObjects takes at most 1,000 keys; errors are per key. If a whole
 * request fails, nothing more is attempted; a rerun picks up where this one stopped.
 */
final class BackupDeleter {
    static final int BATCH = 1000;

    enum Outcome { DELETED, LOCKED, FAILED, SKIPPED }

    record KeyResult(String key, Outcome outcome, String code, String message) {}

    private final S3Client s3;
    private final String bucket;
    /** DeleteObjects where the store implements it and its reply can be trusted, else DeleteObject per key (docs/stores.md#store-profiles). */
    private final boolean batchDelete;
    final Map<String, KeyResult> results = new LinkedHashMap<>();
    final Map<String, KeyResult> uploadResults = new LinkedHashMap<>();
    Failure stopped;

    BackupDeleter(S3Client s3, String bucket) { this(s3, bucket, true); }

    BackupDeleter(S3Client s3, String bucket, boolean batchDelete) {
        this.s3 = s3;
        this.bucket = bucket;
        this.batchDelete = batchDelete;
    }

    /** A backup's objects that exist, in deletion order: manifest, verify record, dump. */
    static List<S3Object> objects(BackupListing.Entry e) {
        List<S3Object> out = new ArrayList<>(3);
        for (S3Object o : new S3Object[] {e.manifest(), e.verify(), e.dump()}) if (o != null) out.add(o);
        return out;
    }

    void run(List<PrunePlan> plans, List<StaleUpload> uploads) {
        List<BackupListing.Entry> backups = new ArrayList<>();
        List<String> manifests = new ArrayList<>();
        for (PrunePlan p : plans) {
            for (PrunePlan.Decision d : p.delete()) backups.add(d.entry());
            for (BackupListing.Entry e : p.removeIncomplete()) if (e.manifest() != null) backups.add(e); // phantoms
        }
        for (BackupListing.Entry e : backups) manifests.add(e.manifest().key());
        delete(manifests);
        // Only backups that are now incomplete lose their other objects.
        List<BackupListing.Entry> nowIncomplete = new ArrayList<>();
        for (BackupListing.Entry e : backups) {
            if (outcome(e.manifest().key()) == Outcome.DELETED) nowIncomplete.add(e);
            else for (S3Object o : objects(e)) {
                results.putIfAbsent(o.key(), new KeyResult(o.key(), Outcome.SKIPPED, null, "left in place: the manifest was not deleted"));
            }
        }
        for (PrunePlan p : plans) for (BackupListing.Entry e : p.removeIncomplete()) if (e.manifest() == null) nowIncomplete.add(e);
        delete(keys(nowIncomplete, BackupListing.Entry::verify));
        delete(keys(nowIncomplete, BackupListing.Entry::dump));
        for (StaleUpload u : uploads) abort(u);
    }

    Outcome outcome(String key) {
        KeyResult r = results.get(key);
        return r == null ? null : r.outcome();
    }

    private static List<String> keys(List<BackupListing.Entry> entries, Function<BackupListing.Entry, S3Object> which) {
        List<String> keys = new ArrayList<>();
        for (BackupListing.Entry e : entries) if (which.apply(e) != null) keys.add(which.apply(e).key());
        return keys;
    }

    private void delete(List<String> keys) {
        for (int from = 0; from < keys.size(); from += BATCH) {
            List<String> batch = keys.subList(from, Math.min(keys.size(), from + BATCH));
            if (stopped != null) {
                for (String k : batch) results.put(k, new KeyResult(k, Outcome.SKIPPED, null, "not attempted: " + stopped.getMessage()));
                continue;
            }
            try {
                if (!batchDelete) {
                    deleteEach(batch);
                    continue;
                }
                List<ObjectIdentifier> ids = batch.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
                DeleteObjectsResponse response = s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(ids).quiet(true)));
                // An error without its key (B2, pgbackrest#2259) says nothing about which keys were deleted: ask again, key by key.
                if (response.hasErrors() && response.errors().stream().anyMatch(e -> e.key() == null || e.key().isBlank())) deleteEach(batch);
                else for (KeyResult r : interpret(batch, response)) results.put(r.key(), r);
            } catch (RuntimeException e) {
                stopped = Errors.classify(e);
                for (String k : batch) results.put(k, new KeyResult(k, Outcome.FAILED, null, stopped.getMessage()));
            }
        }
    }

    /**
     * DeleteObject per key: a refusal (403, an Object Lock) is that key's result; S3 failing or gone (5xx after the
     * retries, no bucket, unreachable) stops the run here, as a failed batch does.
     */
    private void deleteEach(List<String> batch) {
        for (int i = 0; i < batch.size(); i++) {
            String k = batch.get(i);
            try {
                s3.deleteObject(b -> b.bucket(bucket).key(k));
                results.put(k, new KeyResult(k, Outcome.DELETED, null, null));
            } catch (RuntimeException e) {
                String code = e instanceof S3Exception s3e && s3e.awsErrorDetails() != null ? s3e.awsErrorDetails().errorCode() : null;
                if (e instanceof S3Exception s3e && s3e.statusCode() < 500 && !"NoSuchBucket".equals(code)) {
                    String message = s3e.awsErrorDetails() == null ? s3e.getMessage() : s3e.awsErrorDetails().errorMessage();
                    results.put(k, new KeyResult(k, isLocked(code, message) ? Outcome.LOCKED : Outcome.FAILED, code, message));
                    continue;
                }
                stopped = Errors.classify(e);
                for (String rest : batch.subList(i, batch.size())) results.put(rest, new KeyResult(rest, Outcome.FAILED, null, stopped.getMessage()));
                return;
            }
        }
    }

    private void abort(StaleUpload u) {
        if (stopped != null) {
            uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.SKIPPED, null, "not attempted: " + stopped.getMessage()));
            return;
        }
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
            uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.DELETED, null, null));
        } catch (NoSuchUploadException gone) {
            uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.DELETED, null, "already gone"));
        } catch (RuntimeException e) {
            Failure f = Errors.classify(e);
            uploadResults.put(u.uploadId(), new KeyResult(u.key(), Outcome.FAILED, null, f.getMessage()));
        }
    }

    /** What one DeleteObjects (quiet) answer says about each key of its batch: unlisted keys were deleted. */
    static List<KeyResult> interpret(List<String> batch, DeleteObjectsResponse response) {
        Map<String, S3Error> errors = new LinkedHashMap<>();
        if (response.hasErrors()) for (S3Error e : response.errors()) errors.put(e.key(), e);
        List<KeyResult> out = new ArrayList<>();
        for (String key : batch) {
            S3Error e = errors.get(key);
            if (e == null) out.add(new KeyResult(key, Outcome.DELETED, null, null));
            else out.add(new KeyResult(key, isLocked(e.code(), e.message()) ? Outcome.LOCKED : Outcome.FAILED, e.code(), e.message()));
        }
        return out;
    }

    /**
     * Object Lock refusals: S3 answers AccessDenied "Access Denied because object protected by object lock",
     * S3-compatible stores say ObjectLocked / "object is WORM protected" / "retention". A plain AccessDenied
     * (no permission) is a failure, not a lock.
     */
    static boolean isLocked(String code, String message) {
        String c = code == null ? "" : code.toLowerCase(Locale.ROOT);
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (c.contains("locked") || c.contains("worm")) return true;
        boolean lockWords = m.contains("object lock") || m.contains("object-lock") || m.contains("objectlock") || m.contains("worm")
                || m.contains("retention") || m.contains("legal hold") || m.contains("locked");
        return (c.equals("accessdenied") || c.equals("invalidrequest") || c.isEmpty()) && lockWords;
    }

    long count(Outcome o) { return results.values().stream().filter(r -> r.outcome() == o).count(); }

    long failureCount() {
        return count(Outcome.FAILED) + uploadResults.values().stream().filter(r -> r.outcome() == Outcome.FAILED).count();
    }

    String firstFailure() {
        for (var r : results.values()) if (r.outcome() == Outcome.FAILED) return r.key() + ": " + describe(r);
        for (var r : uploadResults.values()) if (r.outcome() == Outcome.FAILED) return "upload of " + r.key() + ": " + describe(r);
        return "none";
    }

    /** 77 when every failure is a permission problem, else what stopped the run, else 1. */
    int failureExitCode() {
        if (stopped != null) return stopped.exitCode;
        boolean allDenied = results.values().stream().filter(r -> r.outcome() == Outcome.FAILED).allMatch(r -> "AccessDenied".equals(r.code()));
        return allDenied && count(Outcome.FAILED) > 0 ? Exit.NO_PERMISSION : Exit.FAILED;
    }

    static String describe(KeyResult r) {
        return (r.code() == null ? "" : r.code() + (r.message() == null ? "" : ": ")) + (r.message() == null ? "" : r.message());
    }

    /** A backup's outcome from its keys: deleted only if every object is gone. */
    String backupOutcome(BackupListing.Entry e) {
        List<Outcome> outs = new ArrayList<>();
        for (S3Object o : objects(e)) {
            Outcome out = outcome(o.key());
            outs.add(out == null ? Outcome.SKIPPED : out);
        }
        if (outs.stream().allMatch(o -> o == Outcome.DELETED)) return "deleted";
        if (outs.contains(Outcome.FAILED)) return "failed";
        if (outs.contains(Outcome.LOCKED)) return "locked";
        return "skipped";
    }
}
