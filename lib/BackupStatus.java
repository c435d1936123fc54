import java.time.Duration;
import java.time.Instant;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Whether one backup, as the listing shows it, is <b>complete</b>, and if not, why. A backup is complete only when
 * <ol>
 *   <li>its manifest exists and parses (at most {@link #MAX_MANIFEST_BYTES}, a formatVersion we understand),</li>
 *   <li>its time (the key's stamp) is not in the future beyond {@link #SKEW},</li>
 *   <li>the manifest names its own dump: its dumpKey ends with NAME/NAME_STAMP.dump, the manifest key's own name and
 *       stamp, under any well-formed prefix (a copy under another prefix or bucket is still the same backup),</li>
 *   <li>that dump is listed next to the manifest, with the manifest's sizeBytes.</li>
 * </ol>
 * Only complete backups count, everywhere: as the newest, for --keep-last/--min-keep/--max-age and
 * --require-verified (prune), for restore's choice (latest, --at), and a verify record vouches only for one.
 * Everything else is reported with its reason and never causes a complete backup to be deleted.
 *
 * <p>Why {@link #SKEW} is 15 minutes: S3 refuses requests signed with a clock more than 15 minutes off its own
 * (RequestTimeTooSkewed), so the host that named a backup had a clock within 15 minutes of S3's; the stamp is when
 * the dump started, before the manifest was written. A stamp later than the manifest's own LastModified (S3's
 * clock) or than now, by more than that, is no clock error of ours: a planted or mistaken key.
 */
record BackupStatus(State state, String reason, Manifest manifest) {

    /** What a backup is; each state but COMPLETE has a reason and the exit code restore gives when asked for it. */
    enum State {
        COMPLETE(Exit.OK),
        /** A dump without a manifest: a backup that failed, or is still being written. */
        INCOMPLETE(Exit.FAILED),
        /** A manifest without its dump. */
        NO_DUMP(Exit.DATA_INVALID),
        SIZE_DIFFERS(Exit.DATA_INVALID),
        MANIFEST_INVALID(Exit.DATA_INVALID),
        /** The manifest's dumpKey is not NAME/NAME_STAMP.dump of its own name and stamp. */
        OTHER_DUMP(Exit.DATA_INVALID),
        FUTURE(Exit.DATA_INVALID),
        /** A manifest of a newer formatVersion: written by a newer version of this tool. */
        NEWER_FORMAT(Exit.CONFIG),
        /** The manifest was listed but is gone when read (a prune deleting it, most likely). */
        VANISHED(Exit.FAILED),
        /** Only a verify record: nothing to restore. */
        RECORD_ONLY(Exit.FAILED);

        final int exitCode;

        State(int exitCode) { this.exitCode = exitCode; }
    }

    static final Duration SKEW = Duration.ofMinutes(15);

    /** The one limit for every reader: {@link Manifest#MAX_BYTES}, which backup never writes past. */
    static final long MAX_MANIFEST_BYTES = Manifest.MAX_BYTES;

    boolean complete() { return state == State.COMPLETE; }

    /** Has a manifest (complete or not), i.e. not a mere leftover dump or record. */
    boolean hasManifest() { return state != State.INCOMPLETE && state != State.RECORD_ONLY; }

    /** "complete", or the reason, e.g. "no dump", "dump size differs (...)". */
    String describe() { return complete() ? "complete" : reason; }

    /**
     * Judges one listed backup. {@code manifest} is the manifest as read, or null with {@code unreadable} saying why
     * (both null when there is no manifest object, or it vanished: {@code vanished}).
     */
    static BackupStatus judge(BackupKey key, S3Object dump, S3Object manifestObject, Manifest manifest, Failure unreadable,
                              boolean vanished, Instant now) {
        if (manifestObject == null) {
            return dump != null ? new BackupStatus(State.INCOMPLETE, "no manifest (a backup that failed or is still being written)", null)
                    : new BackupStatus(State.RECORD_ONLY, "only a verify record", null);
        }
        if (vanished) return new BackupStatus(State.VANISHED, "manifest deleted while listing", null);
        Instant latest = now;
        if (manifestObject.lastModified() != null && manifestObject.lastModified().isBefore(latest)) latest = manifestObject.lastModified();
        if (key.startedAt().isAfter(latest.plus(SKEW))) {
            return new BackupStatus(State.FUTURE, "dated in the future: started " + key.startedAt() + ", later than " + latest
                    + (latest == now ? " (now)" : " (when its manifest was written)"), manifest);
        }
        if (unreadable != null) {
            return unreadable.exitCode == Exit.CONFIG
                    ? new BackupStatus(State.NEWER_FORMAT, "manifest from a newer version: " + unreadable.getMessage(), null)
                    : new BackupStatus(State.MANIFEST_INVALID, "manifest invalid: " + unreadable.getMessage(), null);
        }
        if (!key.isNamedBy(manifest.dumpKey())) {
            return new BackupStatus(State.OTHER_DUMP, "manifest names another dump: " + manifest.dumpKey() + ", not its own " + key.dumpKey(), manifest);
        }
        if (dump == null) return new BackupStatus(State.NO_DUMP, "no dump: " + key.dumpKey() + " is missing", manifest);
        if (dump.size() == null || dump.size() != manifest.sizeBytes()) {
            return new BackupStatus(State.SIZE_DIFFERS, "dump size differs: " + key.dumpKey() + " has " + dump.size() + " bytes, the manifest says "
                    + manifest.sizeBytes(), manifest);
        }
        return new BackupStatus(State.COMPLETE, null, manifest);
    }
}
