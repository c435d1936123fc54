import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The --databases-file format: NAME=URL or URL per line, # comments, ${VAR} from the environment, a UTF-8 text file.
 * A line may hold a password, so no message ever shows one, or anything made from one: a line that is not
 * NAME=URL or a URL is described by its line number only, and a NAME is echoed only when it has none of a URL's
 * characters (see {@link BackupTarget#checkName}). Forgiven: a byte order mark, quotes around the URL, spaces around '='.
 */
final class FleetFile {
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    /** A URL's scheme at the start of a line (postgresql://, jdbc:postgresql://, mysql://...), perhaps after a quote. */
    private static final Pattern URL_START = Pattern.compile("^[\"']?[A-Za-z][A-Za-z0-9+.-]*:(//|[A-Za-z])");
    /** A fleet file is a short list; anything bigger is a wrong file (a dump, a binary), not read into memory. */
    static final long MAX_BYTES = 1 << 20;

    static List<BackupTarget> read(Path file, Map<String, String> env) throws IOException {
        if (Files.isDirectory(file)) throw Failure.usage("--databases-file " + file + " is a directory: give the fleet file (one NAME=URL per line)");
        if (!Files.isReadable(file)) throw Failure.usage("cannot read --databases-file " + file + " (no such file, or no permission)");
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) { // not only regular files: <(envsubst < fleet.txt) is a pipe
            bytes = in.readNBytes((int) MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw Failure.usage("--databases-file " + file + " is bigger than " + Progress.size(MAX_BYTES) + ": a fleet file (one NAME=URL per line)"
                    + " is a small text file; is it the right file?");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw Failure.usage("--databases-file " + file + " is not UTF-8 text: give the fleet file (one NAME=URL per line)");
        }
        if (text.indexOf('\0') >= 0) throw Failure.usage("--databases-file " + file + " is a binary file, not a fleet file (one NAME=URL per line)");
        return parse(text.lines().toList(), file.toString(), env);
    }

    static List<BackupTarget> parse(List<String> lines, String where, Map<String, String> env) {
        List<BackupTarget> targets = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).replace("\uFEFF", "").strip(); // a BOM: Windows editors write one
            if (line.isEmpty() || line.startsWith("#")) continue;
            String at = where + " line " + (i + 1);
            Matcher m = VAR.matcher(line);
            StringBuilder expanded = new StringBuilder();
            while (m.find()) {
                String v = env.get(m.group(1));
                if (v == null || v.isBlank()) throw Failure.usage(at + ": environment variable " + m.group(1) + " is not set");
                m.appendReplacement(expanded, Matcher.quoteReplacement(v.strip()));
            }
            m.appendTail(expanded);
            line = expanded.toString();
            String name = null;
            String url = line;
            if (!URL_START.matcher(line).find()) {
                int eq = line.indexOf('=');
                if (eq <= 0) throw Failure.usage(at + ": expected NAME=URL or URL (the line is not shown: it may hold a password)");
                name = line.substring(0, eq).strip();
                url = line.substring(eq + 1).strip();
                try {
                    BackupTarget.checkName(name);
                } catch (Failure f) {
                    throw Failure.usage(at + ": " + f.getMessage());
                }
            }
            try {
                targets.add(new BackupTarget(name, ConnInfo.parse(url)));
            } catch (Failure f) {
                throw Failure.usage(at + ": " + f.getMessage());
            }
        }
        if (targets.isEmpty()) throw Failure.usage(where + " lists no database");
        return targets;
    }

    private FleetFile() {}
}
