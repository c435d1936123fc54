import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The digests we use, in one place: SHA-256 (the manifest's checksum of the exact stored bytes, the truth for
 * every restore) and MD5 (only to compare with S3's ETags). Every JDK has both, so a missing algorithm is a bug.
 */
final class Digests {
    static MessageDigest sha256() { return get("SHA-256"); }

    static MessageDigest md5() { return get("MD5"); }

    static String hex(byte[] digest) { return HexFormat.of().formatHex(digest); }

    static String sha256Hex(byte[] bytes) { return hex(sha256().digest(bytes)); }

    static String md5Hex(byte[] bytes) { return hex(md5().digest(bytes)); }

    private static MessageDigest get(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " missing from this JDK", e);
        }
    }

    private Digests() {}
}
