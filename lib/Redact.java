import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes passwords from anything that may be printed: connection URLs (user:password@host), libpq
 * keyword strings (password=...), URL query parameters (?password=...) and age private keys. Every message that leaves a
 * script goes through here, so a password that slips into an exception text is still not shown.
 */
final class Redact {
    private static final Pattern URL_USERINFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\\s]*):([^@\\s]*)@");
    /** An age private key (lib/Age.java), should one ever slip into a message. */
    private static final Pattern AGE_SECRET = Pattern.compile("(?i)AGE-SECRET-KEY-1[0-9a-z]+");
    private static final Pattern KEYWORD = Pattern.compile("(?i)(\\bpassword\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s&]+)");

    static String text(String text) {
        if (text == null) return null;
        String out = URL_USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ":***@"));
        out = KEYWORD.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "***"));
        return AGE_SECRET.matcher(out).replaceAll("AGE-SECRET-KEY-1***");
    }

    private Redact() {}
}
