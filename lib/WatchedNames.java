import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The names {@code restore check} must find backups for, beyond those it finds under the prefix: a name whose backups
 * are all gone leaves nothing to list, so "missing" needs a memory of what existed. Two, both optional:
 * <ul>
 *   <li>given: {@code --expect NAME} and {@code --names-file FILE} (one name per line), the fleet as the operator
 *       knows it;</li>
 *   <li>remembered: a {@code --state FILE} the check keeps itself, a local JSON file listing every name it has seen
 *       with a complete backup. It is not kept in the bucket: the check only lists and reads (the restorer role, or
 *       any read-only role, is enough), and no role setup-aws creates may replace an object there but drill records.</li>
 * </ul>
 * A remembered name is forgotten only when told ({@code --ignore NAME}): a database that is gone on purpose.
 */
final class WatchedNames {
    static final int STATE_FORMAT = 1;

    /** The state file: which bucket and prefix it is about, and per name the start of its newest complete backup seen. */
    record State(int formatVersion, String tool, String bucket, String prefix, String updatedAt, Map<String, Remembered> names) {
        static State empty(String bucket, String prefix) {
            return new State(STATE_FORMAT, Version.TOOL, bucket, prefix, null, new TreeMap<>());
        }
    }

    /** @param newestComplete when the newest complete backup of the name started, as last seen */
    record Remembered(String newestComplete) {}

    /** --expect values (each may hold several names, comma- or space-separated) and the names in --names-file. */
    static Set<String> given(Collection<String> expect, Path namesFile) {
        Set<String> names = new LinkedHashSet<>();
        if (expect != null) {
            for (String value : expect) {
                if (value == null) continue;
                for (String raw : value.split("[,\\s]+")) if (!raw.isEmpty()) names.add(name(raw, "--expect"));
            }
        }
        if (namesFile != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(namesFile, StandardCharsets.UTF_8);
            } catch (MalformedInputException e) {
                throw Failure.usage("--names-file " + namesFile + " is not a text file of names (not UTF-8)");
            } catch (IOException e) {
                throw Failure.usage("cannot read --names-file " + namesFile + ": " + e.getMessage());
            }
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n).strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                names.add(name(line, "--names-file " + namesFile + " line " + (n + 1)));
            }
        }
        return names;
    }

    /** A name as backup makes it from --name; never echoed when it looks like part of a URL (a pasted connection string). */
    private static String name(String raw, String where) {
        if (!Redact.showableName(raw)) {
            throw Failure.usage(where + ": not a backup name (not shown: it holds characters such as : / @ ? = % that belong to a URL or a"
                    + " password): give names only, as backup stores them (lowercase letters, digits, '.', '_', '-')");
        }
        try {
            return BackupKey.sanitizeName(raw);
        } catch (Failure f) {
            throw Failure.usage(where + ": " + f.getMessage());
        }
    }

    /** The state file, or an empty state when it does not exist yet (the first check). */
    static State read(Path file, String bucket, String prefix) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return State.empty(bucket, prefix);
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot read the --state file " + file + ": " + e.getMessage());
        }
        State s;
        try {
            s = Json.MAPPER.readValue(json, State.class);
        } catch (JsonProcessingException e) {
            s = null;
        }
        if (s == null || s.names() == null || s.formatVersion() < 1) {
            throw new Failure(Exit.CONFIG, "the --state file " + file + " is not one restore check wrote: give another file, or delete it to start"
                    + " over (the names it remembered are then forgotten)");
        }
        if (s.formatVersion() > STATE_FORMAT) {
            throw new Failure(Exit.CONFIG, "the --state file " + file + " was written by a newer " + Version.TOOL + ": upgrade");
        }
        if (!bucket.equals(s.bucket()) || !prefix.equals(s.prefix())) {
            throw Failure.usage("the --state file " + file + " remembers s3://" + s.bucket() + "/" + s.prefix() + "/, not s3://" + bucket + "/" + prefix
                    + "/: give each bucket and prefix a state file of its own");
        }
        return new State(s.formatVersion(), s.tool(), s.bucket(), s.prefix(), s.updatedAt(), new TreeMap<>(s.names()));
    }

    /**
     * What the state becomes after a check: every name with a complete backup now, and every name it remembered that
     * has none (still missing: remembered until --ignore'd), without the ignored ones.
     */
    static State next(State old, List<BackupHealth> healths, Set<String> ignored, Instant now) {
        Map<String, Remembered> names = new TreeMap<>(old.names());
        for (BackupHealth h : healths) {
            if (h.newest() != null) names.put(h.name(), new Remembered(h.newest().startedAt().toString()));
        }
        names.keySet().removeAll(ignored);
        return new State(STATE_FORMAT, Version.TOOL, old.bucket(), old.prefix(), now.toString(), names);
    }

    static void write(Path file, State state) {
        try {
            AtomicFile.write(file, (Json.write(state) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot write the --state file " + file + ": " + e.getMessage());
        }
    }

    /** The names a state remembers. */
    static List<String> remembered(State s) { return new ArrayList<>(s.names().keySet()); }

    private WatchedNames() {}
}
