import software.amazon.awssdk.services.s3.S3Client;

/**
 * The writer role's preflight: fails fast on configuration problems (bucket missing, wrong region, no credentials, access denied,
 * endpoint unreachable) before any pg_dump starts: starts and aborts a multipart upload under the prefix.
 * That proves s3:PutObject and s3:AbortMultipartUpload on PREFIX/* (and KMS when the bucket encrypts with it)
 * and creates no object; s3:ListMultipartUploadParts is first needed when the upload completes. A listing would need s3:ListBucket instead,
 * and HeadBucket an unconditioned one, which a least-privilege writer role does not have.
 */
final class WritePreflight {
    static void check(S3Client s3, String bucket, String prefix) {
        String probe = BackupKey.preflightKey(prefix); // not a backup key: listings ignore it, prune reaps a stale upload of it
        String id = s3.createMultipartUpload(b -> b.bucket(bucket).key(probe)).uploadId();
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(probe).uploadId(id));
        } catch (RuntimeException e) {
            Failure f = Errors.classify(e);
            throw new Failure(f.exitCode, f.getMessage() + "; the preflight upload of s3://" + bucket + "/" + probe + " could not be aborted"
                    + " (prune or the bucket's lifecycle rule removes it)", e);
        }
    }

    private WritePreflight() {}
}
