import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes passwords from anything that may be printed: connection URLs (user:password@host), libpq
 * keyword strings (password=...) and URL query parameters (?password=...). Every message that leaves a
 * script goes through here, so a password that slips into an exception text is still not shown.
 */
final class Redact {
    private static final Pattern URL_USERINFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\\s]*):([^@\\s]*)@");
    private static final Pattern KEYWORD = Pattern.compile("(?i)(\\bpassword\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s&]+)");

    static String text(String text) {
        if (text == null) return null;
        String out = URL_USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ":***@"));
        return KEYWORD.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "***"));
    }

    private Redact() {}
}
