import java.util.List;

/** setup-aws's inputs, all checked before the first AWS call (a typo is exit 64, not a half-done setup). */
record SetupSettings(String bucket, String prefix, String region, String githubRepo, String subject, String environment,
                     List<RoleKind> kinds, String roleBase, String kmsKey, boolean versioning, int noncurrentDays,
                     Integer objectLockDays, int maxSessionSeconds) {
    String roleName(RoleKind kind) { return roleBase + kind.suffix; }
}
