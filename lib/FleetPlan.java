import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A fleet cut into shards for a GitHub Actions matrix: at most {@value #MAX_SHARDS} legs (GitHub's limit on the jobs
 * one matrix makes), each a list of backup names, balanced by what each database cost the last time (its newest
 * complete backup's size and duration, {@link FleetHistory}); a database without a past counts as the average one.
 *
 * <p>Balancing: every database is placed, heaviest first, on the shard where the larger of its two loads (time and
 * bytes, each relative to the mean shard) ends lowest. Both loads end close to the mean unless one database alone
 * outweighs a mean shard (then its shard is that database, and no plan can do better than it).
 *
 * <p>The plan holds names only: the matrix is printed in every job's log, so no URL, host or password is ever in it;
 * each leg finds its own connections (in the databases file secret, or through the Neon API).
 */
final class FleetPlan {
    static final int MAX_SHARDS = 256;
    /** When no past backup has a duration: a guess of a small runner's pg_dump + upload rate. */
    static final double FALLBACK_BYTES_PER_SECOND = 20e6;

    /** What one database is expected to cost; {@code measured}: from its own past, else the fleet's average. */
    record Estimate(String name, long bytes, double seconds, boolean measured) {}

    record Shard(int shard, List<String> databases, long estimatedBytes, double estimatedSeconds) {}

    /**
     * One load's spread over the shards: the mean, the largest, the largest single database, {@code ratio} = max/mean
     * and {@code floor} = max(mean, largest single database) / mean: no plan's ratio can be below the floor.
     */
    record Balance(double mean, double max, double largestDatabase, double ratio, double floor) {}

    /**
     * @param measured databases with a past backup (the others were counted as average)
     * @param warnings what the operator should know (a database heavier than a mean shard, legs near GitHub's 6-hour limit)
     */
    record Plan(int databases, int measured, List<Shard> shards, Balance bySize, Balance byTime, List<String> warnings) {
        /**
         * The GitHub Actions matrix: {"include": [{"shard": 1, "of": N, "databases": ["name", ...]}, ...]}. Names only.
         */
        String matrixJson() {
            List<Map<String, Object>> include = new ArrayList<>();
            for (Shard s : shards) {
                Map<String, Object> leg = new LinkedHashMap<>();
                leg.put("shard", s.shard());
                leg.put("of", shards.size());
                leg.put("databases", s.databases());
                include.add(leg);
            }
            try {
                return Json.MAPPER.writer().withoutFeatures(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(Map.of("include", include));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * The plan file the legs read (an artifact of the plan job, not a matrix value): each shard's names and, per
         * database, what its leg needs to reach it ({@code sources}: for a Neon fleet {@link NeonFleet.Member#identity},
         * ids and names only; empty for a databases file, whose URLs stay in their secret).
         */
        String documentJson(Map<String, Map<String, String>> sources) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("formatVersion", 1);
            doc.put("databases", databases);
            List<Map<String, Object>> legs = new ArrayList<>();
            for (Shard s : shards) {
                Map<String, Object> leg = new LinkedHashMap<>();
                leg.put("shard", s.shard());
                leg.put("databases", s.databases());
                leg.put("estimatedBytes", s.estimatedBytes());
                leg.put("estimatedSeconds", s.estimatedSeconds());
                legs.add(leg);
            }
            doc.put("shards", legs);
            Map<String, Object> src = new java.util.TreeMap<>();
            for (Shard s : shards) for (String n : s.databases()) if (sources.containsKey(n)) src.put(n, sources.get(n));
            doc.put("sources", src);
            try {
                return Json.MAPPER.writeValueAsString(doc);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The names of shard {@code n} (1-based). */
        List<String> shard(int n) {
            if (n < 1 || n > shards.size()) throw Failure.usage("shard " + n + " does not exist: the plan has shards 1 to " + shards.size());
            return shards.get(n - 1).databases();
        }
    }

    /** One leg's part of a plan file: its shard's names and their sources (an empty map for a databases file). */
    record Leg(int shard, int of, List<String> databases, Map<String, Map<String, String>> sources) {}

    /** Reads shard {@code n} of a plan file ({@link Plan#documentJson}); a file that is not one is a usage error (64). */
    static Leg readLeg(byte[] planJson, int n) {
        com.fasterxml.jackson.databind.JsonNode doc;
        try {
            doc = Json.MAPPER.readTree(planJson);
        } catch (java.io.IOException e) {
            throw Failure.usage("the fleet plan is not JSON: give the plan file the plan step wrote");
        }
        if (doc == null || doc.path("formatVersion").asInt(0) != 1 || !doc.path("shards").isArray()) {
            throw Failure.usage("the fleet plan is not one this version writes (formatVersion 1 with shards): make the plan again");
        }
        int of = doc.path("shards").size();
        if (n < 1 || n > of) throw Failure.usage("shard " + n + " does not exist: the plan has shards 1 to " + of);
        List<String> names = new ArrayList<>();
        for (var v : doc.path("shards").get(n - 1).path("databases")) names.add(v.asText());
        Map<String, Map<String, String>> sources = new LinkedHashMap<>();
        for (String name : names) {
            var src = doc.path("sources").path(name);
            if (!src.isObject()) continue;
            Map<String, String> m = new LinkedHashMap<>();
            src.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
            sources.put(name, m);
        }
        return new Leg(n, of, List.copyOf(names), sources);
    }

    /**
     * Plans {@code names} into {@code shards} legs (0: as many as keep each leg's estimated dump time under
     * {@code targetLeg} with {@code jobsPerLeg} dumps at a time), at most {@value #MAX_SHARDS} and at most one per database.
     */
    static Plan plan(Collection<String> names, Map<String, FleetHistory.Past> past, int shards, int jobsPerLeg, Duration targetLeg) {
        TreeSet<String> unique = new TreeSet<>(names);
        if (unique.isEmpty()) throw Failure.usage("the fleet has no database to plan");
        if (shards < 0 || shards > MAX_SHARDS) throw Failure.usage("--shards must be from 1 to " + MAX_SHARDS + " (GitHub runs at most 256 jobs per matrix), or 0 for automatic");
        if (jobsPerLeg < 1) throw Failure.usage("--jobs must be at least 1");
        List<Estimate> estimates = estimate(unique, past);
        double totalSeconds = estimates.stream().mapToDouble(Estimate::seconds).sum();
        long totalBytes = estimates.stream().mapToLong(Estimate::bytes).sum();
        int n = shards > 0 ? shards : (int) Math.ceil(totalSeconds / jobsPerLeg / Math.max(1, targetLeg.toSeconds()));
        n = Math.max(1, Math.min(Math.min(n, MAX_SHARDS), unique.size()));

        double meanSeconds = totalSeconds / n, meanBytes = (double) totalBytes / n;
        List<Estimate> heaviestFirst = new ArrayList<>(estimates);
        heaviestFirst.sort(Comparator.comparingDouble((Estimate e) -> -weight(e, meanSeconds, meanBytes)).thenComparing(Estimate::name));
        double[] loadS = new double[n], loadB = new double[n];
        List<List<String>> members = new ArrayList<>();
        for (int i = 0; i < n; i++) members.add(new ArrayList<>());
        for (Estimate e : heaviestFirst) {
            double s = meanSeconds > 0 ? e.seconds() / meanSeconds : 0, b = meanBytes > 0 ? e.bytes() / meanBytes : 0;
            int best = 0;
            double bestAfter = Double.MAX_VALUE, bestBefore = Double.MAX_VALUE;
            for (int k = 0; k < n; k++) {
                double after = Math.max(loadS[k] + s, loadB[k] + b), before = Math.max(loadS[k], loadB[k]);
                if (after < bestAfter - 1e-12 || (Math.abs(after - bestAfter) <= 1e-12 && before < bestBefore)) {
                    best = k;
                    bestAfter = after;
                    bestBefore = before;
                }
            }
            loadS[best] += s;
            loadB[best] += b;
            members.get(best).add(e.name());
        }
        Map<String, Estimate> byName = new LinkedHashMap<>();
        for (Estimate e : estimates) byName.put(e.name(), e);
        List<Shard> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            List<String> list = members.get(k).stream().sorted().toList();
            out.add(new Shard(k + 1, list, list.stream().mapToLong(x -> byName.get(x).bytes()).sum(),
                    round(list.stream().mapToDouble(x -> byName.get(x).seconds()).sum())));
        }
        Balance bySize = balance(out.stream().mapToDouble(Shard::estimatedBytes).toArray(), estimates.stream().mapToDouble(Estimate::bytes).max().orElse(0));
        Balance byTime = balance(out.stream().mapToDouble(Shard::estimatedSeconds).toArray(), estimates.stream().mapToDouble(Estimate::seconds).max().orElse(0));
        int measured = (int) estimates.stream().filter(Estimate::measured).count();
        return new Plan(unique.size(), measured, List.copyOf(out), bySize, byTime, warnings(estimates, meanSeconds, out, jobsPerLeg));
    }

    /** Each database's expected bytes and seconds: its own past where it has one, the fleet's average where not. */
    static List<Estimate> estimate(Collection<String> names, Map<String, FleetHistory.Past> past) {
        long timedBytes = 0;
        double timedSeconds = 0;
        for (String n : names) {
            FleetHistory.Past p = past.get(n);
            if (p != null && p.durationSeconds() != null && p.durationSeconds() > 0) {
                timedBytes += p.sizeBytes();
                timedSeconds += p.durationSeconds();
            }
        }
        double rate = timedSeconds > 0 && timedBytes > 0 ? timedBytes / timedSeconds : FALLBACK_BYTES_PER_SECOND;
        List<Estimate> known = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String n : names) {
            FleetHistory.Past p = past.get(n);
            if (p == null) {
                unknown.add(n);
                continue;
            }
            double seconds = p.durationSeconds() != null && p.durationSeconds() > 0 ? p.durationSeconds() : p.sizeBytes() / rate;
            known.add(new Estimate(n, p.sizeBytes(), Math.max(seconds, 0.001), true));
        }
        long avgBytes = known.isEmpty() ? 0 : Math.round(known.stream().mapToLong(Estimate::bytes).average().orElse(0));
        double avgSeconds = known.isEmpty() ? 1 : known.stream().mapToDouble(Estimate::seconds).average().orElse(1);
        List<Estimate> all = new ArrayList<>(known);
        for (String n : unknown) all.add(new Estimate(n, avgBytes, avgSeconds, false));
        all.sort(Comparator.comparing(Estimate::name));
        return all;
    }

    private static double weight(Estimate e, double meanSeconds, double meanBytes) {
        return Math.max(meanSeconds > 0 ? e.seconds() / meanSeconds : 0, meanBytes > 0 ? e.bytes() / meanBytes : 0);
    }

    private static Balance balance(double[] loads, double largest) {
        double sum = 0, max = 0;
        for (double l : loads) {
            sum += l;
            max = Math.max(max, l);
        }
        double mean = sum / loads.length;
        return new Balance(round(mean), round(max), round(largest), mean > 0 ? round(max / mean) : 1, mean > 0 ? round(Math.max(mean, largest) / mean) : 1);
    }

    private static List<String> warnings(List<Estimate> estimates, double meanSeconds, List<Shard> shards, int jobsPerLeg) {
        List<String> w = new ArrayList<>();
        List<String> heavy = estimates.stream().filter(e -> e.seconds() > meanSeconds && shards.size() > 1).map(Estimate::name).toList();
        if (!heavy.isEmpty()) {
            w.add(heavy.size() + " database(s) alone take longer than a mean shard (" + String.join(", ", heavy.subList(0, Math.min(5, heavy.size())))
                    + (heavy.size() > 5 ? ", ..." : "") + "): their shards cannot be as short as the others");
        }
        double longest = shards.stream().mapToDouble(Shard::estimatedSeconds).max().orElse(0) / jobsPerLeg;
        if (longest > 5 * 3600) {
            w.add(String.format(Locale.ROOT, "the longest shard is estimated at %.1f h with --jobs %d: GitHub stops a job after 6 h;"
                    + " use more shards or more --jobs", longest / 3600, jobsPerLeg));
        }
        return List.copyOf(w);
    }

    private static double round(double d) { return Math.round(d * 1000) / 1000.0; }

    private FleetPlan() {}
}
