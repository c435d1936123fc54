import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4), written from the format's rules so that a
 * file we write is checked against the format, not against our own writer: each line a comment or a sample; HELP and
 * TYPE at most once per metric and TYPE before its samples; a metric's lines together (a name that comes back after
 * another metric is an error, as in Prometheus' own parser); metric and label names of the allowed characters;
 * label values quoted with only \\ \" \n escapes, HELP with only \\ \n; no label name twice in a sample, no series
 * twice; values Go floats (NaN, +Inf, -Inf included); the text ending with a line feed. With {@code textfile}, also
 * node_exporter's textfile collector rule: no sample timestamps.
 */
final class PrometheusTextParser {
    static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    record Sample(String name, Map<String, String> labels, double value, Long timestamp) {}

    static final class Family {
        final String name;
        String type = "untyped";
        String help;
        boolean typeSeen;
        final List<Sample> samples = new ArrayList<>();

        Family(String name) { this.name = name; }
    }

    /** Thrown for any violation, with the line number. */
    static final class FormatException extends RuntimeException {
        FormatException(int line, String message) { super("line " + line + ": " + message); }
    }

    /** Parses {@code text}; every family by name, in order of appearance. */
    static Map<String, Family> parse(String text, boolean textfile) {
        if (!text.isEmpty() && !text.endsWith("\n")) throw new FormatException(text.split("\n", -1).length, "the text must end with a line feed");
        Map<String, Family> families = new LinkedHashMap<>();
        Set<String> closed = new HashSet<>(); // families whose lines are over
        Set<String> series = new HashSet<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length - 1; n++) {
            int lineNo = n + 1;
            String line = lines[n];
            if (line.isBlank()) continue;
            if (line.startsWith("#")) {
                String[] t = line.substring(1).stripLeading().split("[ \t]+", 3);
                if (t.length < 2 || !(t[0].equals("HELP") || t[0].equals("TYPE"))) continue; // an ordinary comment
                String name = t[1];
                if (!METRIC_NAME.matcher(name).matches()) throw new FormatException(lineNo, "invalid metric name '" + name + "'");
                current = enter(families, closed, current, name, lineNo);
                Family f = families.get(name);
                if (t[0].equals("HELP")) {
                    if (f.help != null) throw new FormatException(lineNo, "second HELP line for " + name);
                    f.help = unescape(t.length > 2 ? t[2] : "", false, lineNo);
                } else {
                    if (!f.samples.isEmpty()) throw new FormatException(lineNo, "TYPE line for " + name + " after its samples");
                    if (f.typeSeen) throw new FormatException(lineNo, "second TYPE line for " + name);
                    String type = t.length > 2 ? t[2].strip() : "";
                    if (!TYPES.contains(type)) throw new FormatException(lineNo, "unknown type '" + type + "'");
                    f.type = type;
                    f.typeSeen = true;
                }
                continue;
            }
            Sample s = sample(line, lineNo);
            if (textfile && s.timestamp() != null) throw new FormatException(lineNo, "a timestamp (the textfile collector refuses them)");
            String family = familyOf(s.name(), families);
            current = enter(families, closed, current, family, lineNo);
            Family f = families.get(family);
            if (!f.type.equals("histogram") && !f.type.equals("summary") && !s.name().equals(family)) {
                throw new FormatException(lineNo, "sample " + s.name() + " in family " + family);
            }
            String id = s.name() + new java.util.TreeMap<>(s.labels());
            if (!series.add(id)) throw new FormatException(lineNo, "duplicate series " + id);
            f.samples.add(s);
        }
        return families;
    }

    /** Moves to family {@code name}; a family that was left before cannot come back. */
    private static String enter(Map<String, Family> families, Set<String> closed, String current, String name, int lineNo) {
        if (name.equals(current)) return current;
        if (closed.contains(name)) throw new FormatException(lineNo, "lines of " + name + " are not together");
        if (current != null) closed.add(current);
        families.putIfAbsent(name, new Family(name));
        return name;
    }

    /** A histogram's or summary's _bucket/_sum/_count samples belong to their family when it is declared. */
    private static String familyOf(String sampleName, Map<String, Family> families) {
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (sampleName.endsWith(suffix)) {
                String base = sampleName.substring(0, sampleName.length() - suffix.length());
                Family f = families.get(base);
                if (f != null && (f.type.equals("histogram") || f.type.equals("summary"))) return base;
            }
        }
        return sampleName;
    }

    private static Sample sample(String line, int lineNo) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_' || line.charAt(i) == ':')) i++;
        String name = line.substring(0, i);
        if (!METRIC_NAME.matcher(name).matches()) throw new FormatException(lineNo, "invalid metric name in '" + line + "'");
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (i < line.length() && line.charAt(i) == '}') { i++; break; }
                int start = i;
                while (i < line.length() && line.charAt(i) != '=') i++;
                String label = line.substring(start, i).strip();
                if (!LABEL_NAME.matcher(label).matches()) throw new FormatException(lineNo, "invalid label name '" + label + "'");
                if (label.startsWith("__")) throw new FormatException(lineNo, "label name " + label + " is reserved");
                if (i + 1 >= line.length() || line.charAt(i + 1) != '"') throw new FormatException(lineNo, "label value of " + label + " is not quoted");
                i += 2;
                StringBuilder value = new StringBuilder();
                boolean closedQuote = false;
                while (i < line.length()) {
                    char c = line.charAt(i++);
                    if (c == '"') { closedQuote = true; break; }
                    if (c == '\\') {
                        if (i >= line.length()) break;
                        char e = line.charAt(i++);
                        switch (e) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw new FormatException(lineNo, "invalid escape \\" + e + " in the value of " + label);
                        }
                    } else {
                        value.append(c);
                    }
                }
                if (!closedQuote) throw new FormatException(lineNo, "unterminated label value of " + label);
                if (labels.put(label, value.toString()) != null) throw new FormatException(lineNo, "label " + label + " twice");
                if (i < line.length() && line.charAt(i) == ',') { i++; continue; }
                if (i < line.length() && line.charAt(i) == '}') { i++; break; }
                throw new FormatException(lineNo, "expected ',' or '}' after the value of " + label);
            }
        }
        String rest = line.substring(i);
        if (!rest.startsWith(" ") && !rest.startsWith("\t")) throw new FormatException(lineNo, "no blank before the value in '" + line + "'");
        String[] parts = rest.strip().split("[ \t]+");
        if (parts.length < 1 || parts.length > 2 || parts[0].isEmpty()) throw new FormatException(lineNo, "expected a value and at most a timestamp: '" + rest + "'");
        double value = value(parts[0], lineNo);
        Long timestamp = null;
        if (parts.length == 2) {
            try {
                timestamp = Long.parseLong(parts[1]);
            } catch (NumberFormatException e) {
                throw new FormatException(lineNo, "invalid timestamp '" + parts[1] + "'");
            }
        }
        return new Sample(name, labels, value, timestamp);
    }

    /** A Go ParseFloat value: decimal or exponent notation, NaN, +Inf, -Inf (Inf too). */
    private static double value(String s, int lineNo) {
        switch (s) {
            case "NaN": return Double.NaN;
            case "+Inf": case "Inf": return Double.POSITIVE_INFINITY;
            case "-Inf": return Double.NEGATIVE_INFINITY;
            default:
        }
        if (!s.matches("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?")) throw new FormatException(lineNo, "invalid value '" + s + "'");
        return Double.parseDouble(s);
    }

    private static String unescape(String s, boolean quotes, int lineNo) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') { out.append(c); continue; }
            if (++i >= s.length()) throw new FormatException(lineNo, "a lone backslash at the end of the HELP text");
            char e = s.charAt(i);
            if (e == '\\') out.append('\\');
            else if (e == 'n') out.append('\n');
            else if (quotes && e == '"') out.append('"');
            else throw new FormatException(lineNo, "invalid escape \\" + e + " in HELP text");
        }
        return out.toString();
    }

    private PrometheusTextParser() {}
}
