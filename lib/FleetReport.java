import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One fleet's night in one report: the {@code backup --json} documents of every leg of the fan-out merged, checked
 * against the plan (every planned database must have an answer), into one red/green summary: how many were backed up,
 * failed or skipped, the bytes, the slowest, and each failure with its one-line reason.
 *
 * <p>Nothing is reported good when it is not: a database of the plan that no leg answered for (its leg was cancelled,
 * timed out, lost its runner, or its result is unreadable) is <em>skipped</em> and counts against the fleet like a
 * failure; a leg that failed before it backed up anything (its document is only an error) fails every database of its
 * shard with that error; a project the plan's discovery could not read is a failure of its own.
 *
 * <p>A leg's document is found by its file name, {@code ...shard-N...json} (the fan-out template names each leg's
 * artifact so); without a plan, whatever the documents say is the fleet.
 */
final class FleetReport {
    /** Failures listed one by one in the step summary; the rest are counted (the --json document has them all). */
    static final int MAX_LISTED = 100;
    /** How many of the slowest backups the summary shows. */
    static final int SLOWEST = 5;

    static final String OK = "ok", FAILED = "failed", SKIPPED = "skipped";

    /** One database's night: {@code status} ok, failed or skipped; {@code shard} null when no plan says. */
    record Row(String name, String status, Integer shard, Long sizeBytes, Double durationSeconds, String error, int exitCode) {
        boolean ok() { return OK.equals(status); }
    }

    /**
     * The merged night. {@code problems}: what went wrong with the documents themselves (unreadable, a leg's whole
     * failure without a plan to name its databases), each one line; any problem makes the fleet red.
     */
    record Report(List<Row> rows, List<String> problems) {
        long count(String status) { return rows.stream().filter(r -> r.status().equals(status)).count(); }

        long bytes() { return rows.stream().filter(Row::ok).mapToLong(r -> r.sizeBytes() == null ? 0 : r.sizeBytes()).sum(); }

        /** 0 when every database was backed up; 3 (partial) when some were; 1 when none was, or nothing was reported. */
        int exitCode() {
            long ok = count(OK);
            if (ok == rows.size() && problems.isEmpty() && ok > 0) return Exit.OK;
            return ok > 0 ? Exit.PARTIAL : Exit.FAILED;
        }

        List<Row> failures() { return rows.stream().filter(r -> !r.ok()).toList(); }

        List<Row> slowest(int n) {
            return rows.stream().filter(Row::ok).filter(r -> r.durationSeconds() != null)
                    .sorted(Comparator.comparingDouble((Row r) -> -r.durationSeconds()).thenComparing(Row::name)).limit(n).toList();
        }

        String headline() {
            long ok = count(OK), failed = count(FAILED), skipped = count(SKIPPED);
            String s = String.format(Locale.ROOT, "%d of %d databases backed up, %d failed, %d skipped (%s)", ok, rows.size(), failed, skipped,
                    Progress.size(bytes()));
            return problems.isEmpty() ? s : s + "; " + problems.size() + " problem(s) with the legs' results";
        }

        /** For stderr: the headline, the failures (all of them) and the slowest. */
        String text() {
            StringBuilder sb = new StringBuilder("fleet: ").append(headline()).append('\n');
            for (String p : problems) sb.append("fleet: ").append(p).append('\n');
            List<Row> failures = failures();
            if (!failures.isEmpty()) {
                TextTable t = new TextTable("NAME", "SHARD", "RESULT", "REASON").right("SHARD");
                for (Row r : failures) t.row(r.name(), r.shard(), r.status() + " (exit " + r.exitCode() + ")", r.error());
                sb.append('\n').append(t.render());
            }
            List<Row> slowest = slowest(SLOWEST);
            if (!slowest.isEmpty()) {
                TextTable t = new TextTable("SLOWEST", "SHARD", "SIZE", "TIME").right("SHARD", "SIZE", "TIME");
                for (Row r : slowest) t.row(r.name(), r.shard(), Progress.size(r.sizeBytes() == null ? 0 : r.sizeBytes()), seconds(r.durationSeconds()));
                sb.append('\n').append(t.render());
            }
            return sb.toString();
        }

        /** For GitHub's job summary: the counts, the failures (at most {@link #MAX_LISTED}), the slowest. */
        String markdown() {
            Markdown md = new Markdown().heading("pgdump-s3 fleet: " + (exitCode() == Exit.OK ? "all " + rows.size() + " databases backed up" : headline()));
            md.table("rrrrr", "databases", "backed up", "failed", "skipped", "bytes")
                    .row(rows.size(), count(OK), count(FAILED), count(SKIPPED), Progress.size(bytes())).end();
            for (String p : problems) md.line("❌ " + p);
            List<Row> failures = failures();
            if (!failures.isEmpty()) {
                Markdown.Table t = md.table("lrrl", "failed", "shard", "exit", "reason");
                for (Row r : failures.subList(0, Math.min(MAX_LISTED, failures.size()))) {
                    t.row(new Markdown.Raw("❌ " + Markdown.code(r.name())), r.shard(), r.exitCode(), (r.status().equals(SKIPPED) ? "skipped: " : "") + r.error());
                }
                t.end();
                if (failures.size() > MAX_LISTED) md.line("... and " + (failures.size() - MAX_LISTED) + " more: the fleet report's --json lists every one.");
            }
            List<Row> slowest = slowest(SLOWEST);
            if (!slowest.isEmpty()) {
                Markdown.Table t = md.table("lrrr", "slowest", "shard", "size", "time");
                for (Row r : slowest) t.row(new Markdown.Raw(Markdown.code(r.name())), r.shard(),
                        Progress.size(r.sizeBytes() == null ? 0 : r.sizeBytes()), seconds(r.durationSeconds()));
                t.end();
            }
            return md.toString();
        }

        /** The --json document: the envelope, the counts, every database's row, the problems. */
        JsonDocument json() {
            return JsonDocument.of(exitCode()).put("databases", rows.size()).put("backedUp", count(OK)).put("failed", count(FAILED))
                    .put("skipped", count(SKIPPED)).put("sizeBytes", bytes()).put("problems", problems).put("results", rows);
        }
    }

    private static final Pattern SHARD_IN_FILE_NAME = Pattern.compile("shard-(\\d+)");

    /**
     * Reads every {@code *.json} under {@code dir} (the legs' artifacts, downloaded into one directory or one each)
     * and, when given, the plan file. A plan file that cannot be read is a usage error (64): without it, missing
     * legs could not be noticed.
     */
    static Report read(Path dir, Path planFile) throws IOException {
        JsonNode plan = null;
        if (planFile != null) {
            try {
                plan = Json.MAPPER.readTree(Files.readAllBytes(planFile));
            } catch (IOException e) {
                throw Failure.usage("cannot read the fleet plan " + planFile + ": " + e.getMessage());
            }
            if (plan == null || !plan.path("shards").isArray()) throw Failure.usage(planFile + " is not a fleet plan (no shards): give the plan file the plan step wrote");
        }
        if (!Files.isDirectory(dir)) throw Failure.usage(dir + " is not a directory: give the directory the legs' results were downloaded into");
        Map<String, byte[]> legs = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                if (planFile != null && Files.isSameFile(f, planFile)) continue;
                legs.put(dir.relativize(f).toString(), Files.readAllBytes(f));
            }
        }
        return merge(plan, legs);
    }

    /** Merges the legs' documents ({@code file name → bytes}) against {@code plan} (null: no plan). */
    static Report merge(JsonNode plan, Map<String, byte[]> legs) {
        Map<Integer, List<String>> planned = new TreeMap<>();
        if (plan != null) {
            for (JsonNode s : plan.path("shards")) {
                List<String> names = new ArrayList<>();
                for (JsonNode n : s.path("databases")) names.add(n.asText());
                planned.put(s.path("shard").asInt(), names);
            }
        }
        Map<String, Row> rows = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Map<Integer, String> unreadable = new TreeMap<>();
        for (var leg : legs.entrySet()) {
            String file = leg.getKey();
            Matcher m = SHARD_IN_FILE_NAME.matcher(Path.of(file).getFileName().toString());
            Integer shard = m.find() ? Integer.valueOf(m.group(1)) : null;
            JsonNode doc;
            try {
                doc = Json.MAPPER.readTree(leg.getValue());
            } catch (IOException e) {
                doc = null;
            }
            if (doc == null || !doc.isObject() || !doc.has("exitCode")) {
                String why = file + " is not a backup --json document";
                if (shard != null && planned.containsKey(shard)) unreadable.put(shard, why);
                else problems.add(why);
                continue;
            }
            if (doc.path("backups").isArray()) {
                for (JsonNode b : doc.path("backups")) {
                    String name = b.path("name").asText(null);
                    if (name == null) continue;
                    boolean ok = "ok".equals(b.path("status").asText());
                    Row row = new Row(name, ok ? OK : FAILED, shard, ok ? longOrNull(b.path("sizeBytes")) : null, doubleOrNull(b.path("durationSeconds")),
                            ok ? null : oneLine(b.path("error").asText("failed without a message")), ok ? 0 : b.path("exitCode").asInt(Exit.FAILED));
                    Row prior = rows.put(name, row);
                    if (prior != null) problems.add(name + " has results in two legs' documents: the plan gave it to one shard only");
                }
            } else {
                // The leg failed before backing anything up (no storage, an unreadable plan, ...): its whole shard failed.
                String message = oneLine(doc.path("error").path("message").asText("the leg failed without a message"));
                int exit = doc.path("exitCode").asInt(Exit.FAILED);
                List<String> names = shard == null ? null : planned.get(shard);
                if (names == null) {
                    problems.add(file + ": the leg failed (exit " + exit + "): " + message);
                    continue;
                }
                for (String name : names) rows.putIfAbsent(name, new Row(name, FAILED, shard, null, null, "the leg failed: " + message, exit));
            }
        }
        for (var s : planned.entrySet()) {
            for (String name : s.getValue()) {
                if (rows.containsKey(name)) continue;
                String why = unreadable.containsKey(s.getKey()) ? unreadable.get(s.getKey())
                        : "no result from the leg of shard " + s.getKey() + " (cancelled, timed out, or its runner was lost: see that job's log)";
                rows.put(name, new Row(name, SKIPPED, s.getKey(), null, null, why, Exit.FAILED));
            }
        }
        if (plan != null) {
            // The discovery's problems (a Neon project that could not be read): failed, every night, until fixed.
            for (JsonNode p : plan.path("problems")) {
                String what = p.path("what").asText("a source of the fleet");
                rows.put(what, new Row(what, FAILED, null, null, null, oneLine(p.path("reason").asText("could not be discovered")),
                        p.path("exitCode").asInt(Exit.FAILED)));
            }
        }
        List<Row> sorted = new ArrayList<>(rows.values());
        sorted.sort(Comparator.comparing((Row r) -> r.ok()).thenComparing(Row::name)); // failures first
        return new Report(List.copyOf(sorted), List.copyOf(problems));
    }

    private static Long longOrNull(JsonNode n) { return n.isNumber() ? n.asLong() : null; }

    private static Double doubleOrNull(JsonNode n) { return n.isNumber() ? n.asDouble() : null; }

    /** A reason as one line of at most 300 characters, secrets redacted (the documents already are; this is a second fence). */
    static String oneLine(String s) {
        String line = Redact.text(s).replaceAll("[\\r\\n\\t]+", " ").strip();
        return line.length() > 300 ? line.substring(0, 297) + "..." : line;
    }

    static String seconds(Double s) {
        if (s == null) return null;
        if (s < 120) return String.format(Locale.ROOT, "%.1f s", s);
        if (s < 7200) return String.format(Locale.ROOT, "%.1f min", s / 60);
        return String.format(Locale.ROOT, "%.1f h", s / 3600);
    }

    private FleetReport() {}
}
