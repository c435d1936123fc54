import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from anything that may be printed: connection URLs (user:password@host), libpq keyword strings
 * and URL query parameters whose key is a secret (password=, sslpassword=, oauth_client_secret=, ... also
 * percent-encoded, {@code pass%77ord=}, as libpq decodes keys) and age private keys. Every message that leaves a
 * script goes through here, so a secret that slips into an exception text is still not shown.
 */
final class Redact {
    /** user:password@ in a URL; the password runs to the token's last '@' (an unencoded '@' in it must not leave a tail). */
    private static final Pattern URL_USERINFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\\s]*):(\\S*)@");
    /** An age private key (lib/Age.java), should one ever slip into a message. */
    private static final Pattern AGE_SECRET = Pattern.compile("(?i)AGE-SECRET-KEY-1[0-9a-z]+");
    /** key=value and key = 'value', in a URL query or a libpq keyword string; the key is judged after percent-decoding. */
    private static final Pattern KEY_VALUE = Pattern.compile("(?<![A-Za-z0-9_%])([A-Za-z0-9_%]+)(\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s&]+)");
    /** What may be echoed as a name: nothing a URL needs around its password (: / @ ? # % = &), no quotes, no control characters. */
    private static final Pattern NOT_SHOWABLE = Pattern.compile("[:/@?#%=&\\\\\"'\\p{Cntrl}]");

    static String text(String text) {
        if (text == null) return null;
        String out = URL_USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ":***@"));
        out = KEY_VALUE.matcher(out).replaceAll(m -> Matcher.quoteReplacement(isSecretKey(m.group(1)) ? m.group(1) + m.group(2) + "***" : m.group()));
        return AGE_SECRET.matcher(out).replaceAll("AGE-SECRET-KEY-1***");
    }

    /** password, sslpassword, PGPASSWORD, oauth_client_secret, scram_client_key..., in any case and percent-encoded. */
    static boolean isSecretKey(String key) {
        String k = lenientDecode(key).toLowerCase(Locale.ROOT);
        return k.endsWith("password") || k.contains("secret") || k.matches("scram_(client|server)_key");
    }

    /**
     * Whether a user-given text may be repeated in a message as a name: without any character a URL or
     * its password needs. A backup name that fails this is described, never echoed (a URL typed or pasted where a
     * name belongs would otherwise be printed, and a suggestion made from it would be the password lowercased).
     */
    static boolean showableName(String name) {
        return name != null && !NOT_SHOWABLE.matcher(name).find();
    }

    private static String lenientDecode(String s) {
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%' && i + 2 < bytes.length && Character.digit(bytes[i + 1], 16) >= 0 && Character.digit(bytes[i + 2], 16) >= 0) {
                out.write(Character.digit(bytes[i + 1], 16) * 16 + Character.digit(bytes[i + 2], 16));
                i += 2;
            } else {
                out.write(bytes[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private Redact() {}
}
