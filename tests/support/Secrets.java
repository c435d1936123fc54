import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every secret the tests hand to the scripts (database passwords, AWS secret keys and session tokens), so that
 * {@code SecretScanTest} can look for each of them, raw and percent-encoded, in everything the suite captured.
 */
final class Secrets {
    private static final Set<String> ALL = ConcurrentHashMap.newKeySet();

    /** Registers a secret; returns it, so that a field can be initialised with it. */
    static String register(String secret) {
        if (secret != null && secret.length() >= 6) ALL.add(secret);
        return secret;
    }

    /** Each secret in the forms it could appear in: as is, and percent-encoded (ours and java.net's). */
    static Set<String> forms() {
        Set<String> forms = new LinkedHashSet<>();
        for (String s : ALL) {
            forms.add(s);
            forms.add(ConnInfo.encode(s));
            forms.add(URLEncoder.encode(s, StandardCharsets.UTF_8));
            forms.add(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return forms;
    }

    static int count() { return ALL.size(); }
    static Set<String> all() { return Set.copyOf(ALL); }

    private Secrets() {}
}
