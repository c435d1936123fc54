import java.util.List;

/**
 * The roles setup-aws makes, each allowed what one script does under the prefix (the role design). Why these
 * permissions: see each {@link Capability}. Listing is allowed only for keys under PREFIX/ (an s3:prefix
 * condition), objects only under PREFIX/*; nothing on other prefixes or buckets, no s3:DeleteObjectVersion (with
 * versioning, prune's deletes leave recoverable versions), no bucket admin. {@link IamPolicies} writes the documents.
 */
enum RoleKind {
    ALL("", "AWS_ROLE_ARN", "backup, prune and restore",
            List.of(Capability.LIST, Capability.CREATE, Capability.READ, Capability.DELETE, Capability.STALE_UPLOADS, Capability.WRITE_VERIFY)),
    WRITER("-writer", "AWS_WRITER_ROLE_ARN", "backup (create new objects only; read manifests; no delete, no verify records)",
            List.of(Capability.LIST, Capability.CREATE, Capability.READ_MANIFESTS)),
    PRUNER("-pruner", "AWS_PRUNER_ROLE_ARN", "prune (list, read manifests and drill records, delete)",
            List.of(Capability.LIST, Capability.DELETE, Capability.STALE_UPLOADS, Capability.READ_MANIFESTS, Capability.READ_VERIFY)),
    RESTORER("-restorer", "AWS_RESTORER_ROLE_ARN", "restore and drills (read; write only *.verify.json)", List.of(Capability.LIST, Capability.READ, Capability.WRITE_VERIFY));

    final String suffix, variable, purpose;
    final List<Capability> capabilities;

    RoleKind(String suffix, String variable, String purpose, List<Capability> capabilities) {
        this.suffix = suffix;
        this.variable = variable;
        this.purpose = purpose;
        this.capabilities = capabilities;
    }

    boolean can(Capability c) { return capabilities.contains(c); }

    /** Does this role encrypt (put) or decrypt (get, or complete a multipart upload) with the bucket's KMS key? */
    boolean usesKms() { return can(Capability.CREATE) || can(Capability.READ) || can(Capability.WRITE_VERIFY); }

    /** Does it only read small objects under the key (manifests, drill records) and write nothing: kms:Decrypt alone? */
    boolean decryptsOnly() { return !usesKms() && (can(Capability.READ_MANIFESTS) || can(Capability.READ_VERIFY)); }

    enum Capability {
        LIST,           // s3:ListBucket, only with s3:prefix PREFIX/*: backup, prune and restore find backups by listing
        CREATE,         // s3:PutObject on PREFIX/* as a create only, + abort and list parts: backup streams dumps as multipart
                        // uploads and completes them, and puts manifests, with If-None-Match: * (never replaces an object)
        READ_MANIFESTS, // s3:GetObject on PREFIX/*.manifest.json: backup reads a name's newest manifest (one history per source),
                        // prune every manifest (only complete backups count)
        READ_VERIFY,    // s3:GetObject on PREFIX/*.verify.json: prune --require-verified reads drill records
        READ,           // s3:GetObject on PREFIX/*: restore and drills download dumps and manifests
        DELETE,         // s3:DeleteObject on PREFIX/*: prune
        STALE_UPLOADS,  // s3:ListBucketMultipartUploads (bucket) + s3:AbortMultipartUpload: prune cleans up dead uploads
        WRITE_VERIFY    // s3:PutObject on PREFIX/*.verify.json, unconditional: a restore drill records (and replaces) its result
    }
}
