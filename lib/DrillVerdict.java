import java.util.List;

/**
 * What a restore drill concluded, and the one rule for what it leaves behind. The drill's record next to a backup
 * ({@link VerifyRecord}) is what prune --require-verified and restore list trust, so only a verdict on the backup's
 * own data is recorded:
 * <ul>
 * <li>{@link Kind#PASSED}: the backup restored and matched its manifest: a "passed" record, exit 0.</li>
 * <li>{@link Kind#DAMAGED}: the stored data is not what the manifest says (checksum mismatch after a complete
 *     download, an archive pg_restore cannot read, missing tables, missing rows; exit 65), or it does not restore
 *     (exit 1): a "failed" record.</li>
 * <li>{@link Kind#UNTESTED}: the scratch server lacks what the backup needs (an extension, a role, the backup's
 *     server version): the drill could not test the backup. No record (the previous one stands), exit 78.</li>
 * </ul>
 * Everything else is no verdict at all and is thrown as a {@link Failure} with its own exit code, writing nothing:
 * S3 or the network failing (69), the dump vanishing after it was listed, the backup deleted (prune) while the
 * drill ran (1).
 */
record DrillVerdict(Kind kind, int exitCode, List<String> reasons) {
    enum Kind { PASSED, DAMAGED, UNTESTED }

    static DrillVerdict passed() { return new DrillVerdict(Kind.PASSED, Exit.OK, List.of()); }

    static DrillVerdict damaged(int exitCode, List<String> reasons) {
        if (exitCode == Exit.OK || reasons.isEmpty()) throw new IllegalArgumentException("a damaged verdict needs an exit code and reasons");
        return new DrillVerdict(Kind.DAMAGED, exitCode, List.copyOf(reasons));
    }

    static DrillVerdict untested(List<String> reasons) { return new DrillVerdict(Kind.UNTESTED, Exit.CONFIG, List.copyOf(reasons)); }

    /** Whether this verdict is written next to the backup: a verdict on its data, never the drill's environment. */
    boolean recorded() { return kind != Kind.UNTESTED; }

    /** The record's outcome. */
    String outcome() {
        return switch (kind) {
            case PASSED -> VerifyRecord.PASSED;
            case DAMAGED -> VerifyRecord.FAILED;
            case UNTESTED -> "untested";
        };
    }
}
