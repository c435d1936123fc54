import java.io.PrintWriter;
import java.io.Writer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Under GitHub Actions, every warning and error a script prints also becomes a workflow-command annotation
 * ({@link GitHubAnnotations}: escaped there), so a red or yellow run shows why on its page without opening the log.
 * Watches the lines written to stderr: "warning: ..." and "NAME: warning: ..." lines are followed by a
 * {@code ::warning::} line; {@link Cli} adds {@code ::error::} for the one-line error. A message a command
 * annotated itself (restore check does, with titles) is not annotated twice.
 */
final class ActionsAnnotator {
    private static final Pattern WARNING = Pattern.compile("^(?:[\\w .-]+: )?warning: (.+)$");
    private final Set<String> annotated = ConcurrentHashMap.newKeySet();

    /** Notes an annotation line written by the command itself, on either stream. */
    void seen(String line) {
        if (!line.startsWith("::")) return;
        int end = line.indexOf("::", 2);
        if (end > 0) annotated.add(line.substring(end + 2));
    }

    /** The annotation to print after {@code line}, or null: not a warning, or already annotated. */
    String after(String line) {
        if (line.startsWith("::")) {
            seen(line);
            return null;
        }
        Matcher m = WARNING.matcher(line.strip());
        if (!m.matches()) return null;
        String data = GitHubAnnotations.escapeData(m.group(1));
        for (String a : annotated) if (!a.isEmpty() && data.contains(a)) return null;
        annotated.add(data);
        return GitHubAnnotations.warning(null, m.group(1));
    }

    /** The ::error:: line for a failure's message (printed after the plain one). */
    String error(String message) {
        annotated.add(GitHubAnnotations.escapeData(message));
        return GitHubAnnotations.error(null, message);
    }

    /** {@code target}, with each complete line passed through {@link #after} (warnings get their annotation). */
    PrintWriter watch(PrintWriter target, boolean annotate) {
        StringBuilder line = new StringBuilder();
        return new PrintWriter(new Writer() {
            @Override public void write(char[] buf, int off, int len) {
                synchronized (line) {
                    int start = off;
                    for (int i = off; i < off + len; i++) {
                        char c = buf[i];
                        if (c == '\r') line.setLength(0); // a progress line redrawn on a terminal
                        else if (c != '\n') line.append(c);
                        else {
                            target.write(buf, start, i + 1 - start);
                            start = i + 1;
                            String a = annotate ? after(line.toString()) : null;
                            if (!annotate) seen(line.toString());
                            line.setLength(0);
                            if (a != null) target.write(a + System.lineSeparator());
                        }
                    }
                    target.write(buf, start, off + len - start);
                }
            }
            @Override public void flush() { target.flush(); }
            @Override public void close() { target.close(); }
        }, true);
    }
}
