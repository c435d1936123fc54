import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One backup as S3 stores it, from the moment its dump's upload completed: the dump's size checked, the manifest
 * written last (what makes it a backup), then the dump confirmed still there. Each step fails the backup rather than
 * leave a manifest that describes something other than what is stored.
 */
final class StoredBackup {
    private final S3Client s3;
    private final String bucket;
    private final BackupKey key;
    private final StoreProfile store;

    StoredBackup(S3Client s3, String bucket, BackupKey key, StoreProfile store) {
        this.s3 = s3;
        this.bucket = bucket;
        this.key = key;
        this.store = store;
    }

    /**
     * S3 must store exactly the bytes we streamed. The parts were already counted before completion (ListParts);
     * this checks the completed object too where the role may read it (HeadObject needs s3:GetObject, which
     * setup-aws's writer role deliberately lacks: then the ListParts check stands alone).
     */
    void checkSize(long bytes) {
        String dumpKey = key.dumpKey();
        Long stored;
        try {
            stored = s3.headObject(b -> b.bucket(bucket).key(dumpKey)).contentLength();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) stored = null;
            else if (e.statusCode() == 403) return; // no s3:GetObject: the ListParts check before completion stands
            else throw e;
        }
        if (stored == null) {
            throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + dumpKey + " is not there after its upload completed; no manifest written");
        }
        if (stored != bytes) {
            throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + dumpKey + " has " + stored + " bytes but pg_dump wrote " + bytes
                    + "; no manifest written, so it is not a backup");
        }
    }

    /**
     * After the manifest: is the dump still there? Something may have deleted it between its completion and the
     * manifest (a prune with a grace shorter than this run, an operator, a lifecycle rule); then the manifest just
     * written describes a backup without its dump, which is not complete: no reader restores or counts it, and this
     * run must not end green. HeadObject, or where the role may not read dumps (403) a listing of the exact key;
     * where it may do neither (an older writer role), a warning: the check cannot be made, the backup stands.
     */
    void confirmDump(long bytes, Consumer<String> warn) {
        S3Object there;
        try {
            there = StoredObject.find(s3, bucket, key.dumpKey());
        } catch (RuntimeException e) {
            if (e instanceof S3Exception s3e && s3e.statusCode() == 403) {
                warn.accept("could not confirm that the dump is still there after the manifest was written (" + Errors.fromAws(s3e).getMessage()
                        + "): grant the role s3:ListBucket on the prefix (setup-aws does)");
                return;
            }
            Failure f = Errors.classify(e);
            throw new Failure(f.exitCode, "the manifest " + key.manifestKey() + " was written, but whether its dump is still there could not be checked ("
                    + f.getMessage() + "): check the backup with restore verify --key " + key.dumpKey(), e);
        }
        if (there == null) {
            throw new Failure(Exit.FAILED, "s3://" + bucket + "/" + key.dumpKey() + " vanished after its upload completed, before the manifest was"
                    + " written (a prune with a --grace shorter than this backup, or a deletion by hand): the manifest " + key.manifestKey()
                    + " describes a backup without its dump, which is not complete and is never restored or counted; earlier backups are"
                    + " untouched; run the backup again");
        }
        if (there.size() != null && there.size() != bytes) {
            throw new Failure(Exit.DATA_INVALID, "s3://" + bucket + "/" + key.dumpKey() + " has " + there.size() + " bytes after the manifest was written,"
                    + " but pg_dump wrote " + bytes + ": it was replaced; the backup is not complete; run the backup again");
        }
    }

    /**
     * Only if no manifest has this key yet (If-None-Match: *): never replace another run's manifest. A 412 for
     * a manifest with our exact bytes is our own write, sent again by the SDK after its answer was lost.
     */
    void writeManifest(Manifest manifest, Consumer<String> warn) {
        byte[] full = manifest.toJson().getBytes(StandardCharsets.UTF_8);
        if (full.length > Manifest.MAX_BYTES) { // readers refuse such a manifest: never write one
            warn.accept((manifest.tables() == null ? 0 : manifest.tables().size()) + " tables make the manifest larger than "
                    + (Manifest.MAX_BYTES >> 20) + " MiB: their statistics are left out (a drill then checks the archive, not their rows)");
        }
        byte[] json = full.length > Manifest.MAX_BYTES ? manifest.withoutTables().toJson().getBytes(StandardCharsets.UTF_8) : full;
        try {
            if (!store.conditionalWrites()) { // check, then write: not atomic (docs/stores.md#store-profiles)
                if (StoredObject.find(s3, bucket, key.manifestKey()) != null) throw notOurs(null);
                s3.putObject(b -> b.bucket(bucket).key(key.manifestKey()).contentType("application/json"), RequestBody.fromBytes(json));
                return;
            }
            try {
                s3.putObject(b -> b.bucket(bucket).key(key.manifestKey()).contentType("application/json").ifNoneMatch("*"), RequestBody.fromBytes(json));
            } catch (S3Exception e) {
                if (e.statusCode() == 501) { // a store without conditional writes
                    s3.putObject(b -> b.bucket(bucket).key(key.manifestKey()).contentType("application/json"), RequestBody.fromBytes(json));
                } else if (e.statusCode() == 412 || e.statusCode() == 409) {
                    S3Object there = StoredObject.find(s3, bucket, key.manifestKey());
                    if (there == null || !StoredObject.etag(there).equals(Digests.md5Hex(json))) {
                        // Only a store whose conditional writes are not atomic lets two runs this far with one key.
                        throw notOurs(e);
                    }
                } else {
                    throw e;
                }
            }
        } catch (Failure f) {
            throw f;
        } catch (RuntimeException e) {
            Failure f = Errors.classify(e);
            throw new Failure(f.exitCode, "the dump was stored but its manifest could not be written (" + f.getMessage()
                    + "): s3://" + bucket + "/" + key.dumpKey() + " is an incomplete backup; prune removes it after its grace period", e);
        }
    }

    private Failure notOurs(Throwable cause) {
        return new Failure(Exit.FAILED, "s3://" + bucket + "/" + key.manifestKey() + " already exists and is not this run's manifest:"
                + " another backup of '" + key.name() + "' started in the same second (run one backup of a database at a time);"
                + " check that backup with restore verify --key " + key.dumpKey(), cause);
    }
}
