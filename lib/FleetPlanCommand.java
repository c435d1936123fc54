import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code backup plan}: the first job of the fan-out (workflows/pg-backup-fleet.yml). Lists the fleet, from the Neon
 * API ({@link NeonFleet}) or a databases file ({@link FleetFile}), weighs each database by its newest complete backup
 * ({@link FleetHistory}), cuts it into shards ({@link FleetPlan}) and chooses tonight's drill sample
 * ({@link DrillRotation}). Writes the plan file (names and Neon ids: what each leg needs to find its databases) and,
 * under GitHub Actions, {@code matrix=} and {@code drill=} to $GITHUB_OUTPUT: names only, never a URL or a password.
 *
 * <p>A Neon project that cannot be read is listed in the plan file's {@code problems} (the fleet report counts each as
 * failed) and makes the exit code 3; every other database is planned as usual.
 */
@Command(name = "plan", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "List a fleet (the Neon API, or --databases-file) and cut it into shards for a GitHub Actions matrix, balanced by each"
                + " database's last backup; write the plan file the legs read (backup --fleet-plan FILE --shard N). Names only: no URL or"
                + " password is ever in the plan or the matrix.",
        footerHeading = "%nExamples:%n",
        footer = {"  NEON_API_KEY=... backup plan --neon --bucket b --jobs 4 --plan-file fleet-plan.json",
                "  backup plan --databases-file fleet.txt --bucket b --shards 10 --plan-file fleet-plan.json",
                "Under GitHub Actions (GITHUB_OUTPUT set) it also writes the outputs matrix= and drill= for the fan-out workflow."})
class FleetPlanCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--neon", description = "The fleet is every database the Neon API key sees (env " + NeonApi.KEY_ENV + ", never an option):"
            + " each project's default branch, each of its databases (docs/fleet-neon.md).")
    boolean neon;

    @Option(names = "--neon-org", paramLabel = "ORG_ID", description = "Only the projects of this Neon organization (needed with a personal API key).")
    String neonOrg;

    @Option(names = "--neon-project", paramLabel = "ID|NAME|GLOB", description = "Only these projects: an id, a name or a glob (tenant-*); repeatable.")
    List<String> neonProjects = new ArrayList<>();

    @Option(names = "--neon-branch", paramLabel = "NAME|ID|GLOB", description = "These branches instead of each project's default branch; repeatable.")
    List<String> neonBranches = new ArrayList<>();

    @Option(names = "--neon-database", paramLabel = "NAME|GLOB", description = "Only these databases; repeatable.")
    List<String> neonDatabases = new ArrayList<>();

    @Option(names = "--databases-file", paramLabel = "FILE", description = "The fleet is this file's databases (NAME=URL or URL per line, as backup reads it);"
            + " only their names go into the plan.")
    Path databasesFile;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "0",
            description = "Legs of the matrix, 1 to " + FleetPlan.MAX_SHARDS + "; 0: as many as keep each leg's estimate under --leg-target (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1", description = "Databases each leg dumps at a time (its backup --jobs; default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--leg-target", paramLabel = "DURATION", defaultValue = "45m",
            description = "With --shards 0: the estimated time each leg should stay under, e.g. 45m, 2h (default: ${DEFAULT-VALUE}).")
    String legTarget;

    @Option(names = "--drills-per-night", paramLabel = "N", defaultValue = "1",
            description = "Restore drills a night, at least (more when needed so that every database is drilled every --drill-every-days; default: ${DEFAULT-VALUE}).")
    int drillsPerNight;

    @Option(names = "--drill-every-days", paramLabel = "DAYS", defaultValue = "7", description = "Every database is drilled at least this often (default: ${DEFAULT-VALUE}).")
    int drillEveryDays;

    @Option(names = "--plan-file", paramLabel = "FILE", defaultValue = "fleet-plan.json", description = "Where to write the plan (default: ${DEFAULT-VALUE}).")
    Path planFile;

    @Mixin StorageOptions storage = new StorageOptions();
    @Mixin OutputOptions output = new OutputOptions();

    /** A discovered fleet: its names, what each leg needs to find them (Neon ids; none for a file), what could not be read. */
    record Fleet(List<String> names, Map<String, Map<String, String>> sources, List<Map<String, Object>> problems) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        storage.validate();
        if (neon == (databasesFile != null)) throw Failure.usage("give the fleet: --neon (the Neon API, with NEON_API_KEY) or --databases-file FILE");
        if (!neon && (neonOrg != null || !neonProjects.isEmpty() || !neonBranches.isEmpty() || !neonDatabases.isEmpty())) {
            throw Failure.usage("--neon-org, --neon-project, --neon-branch and --neon-database go with --neon");
        }
        if (shards < 0 || shards > FleetPlan.MAX_SHARDS) throw Failure.usage("--shards must be from 0 (automatic) to " + FleetPlan.MAX_SHARDS);
        if (jobs < 1) throw Failure.usage("--jobs must be at least 1");
        Duration target = duration("--leg-target", legTarget);
        DrillRotation.perNight(1, drillEveryDays, drillsPerNight); // checks both

        Fleet fleet = neon ? neonFleet(err) : fileFleet();
        String bucket = storage.bucket(), prefix = storage.prefix();
        FleetHistory.History history;
        try (S3Client s3 = AwsClients.s3(storage.aws)) {
            history = FleetHistory.read(s3, bucket, prefix, fleet.names(), 16);
        }
        FleetPlan.Plan plan = FleetPlan.plan(fleet.names(), history.backups(), shards, jobs, target);
        List<DrillRotation.Candidate> candidates = DrillRotation.candidates(fleet.names(), history);
        Instant now = Instant.now();
        List<String> drill = DrillRotation.tonight(candidates, drillEveryDays, drillsPerNight, now);
        int overdue = DrillRotation.overdue(candidates, drill, drillEveryDays, now);
        List<String> warnings = new ArrayList<>(plan.warnings());
        if (overdue > 0) warnings.add(overdue + " database(s) are overdue for a restore drill and wait for a later night: raise --drills-per-night");

        writePlanFile(plan, fleet, drill);
        githubOutput(plan.matrixJson(), Json.MAPPER.writer().withoutFeatures(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(drill));
        int exit = fleet.problems().isEmpty() ? Exit.OK : Exit.PARTIAL;

        String headline = String.format(Locale.ROOT, "plan: %d databases (%d with a past backup) in %d shard(s) of --jobs %d; drill tonight: %d",
                plan.databases(), plan.measured(), plan.shards().size(), jobs, drill.size());
        err.println(headline);
        err.println(String.format(Locale.ROOT, "plan: largest shard %.2fx the mean by time, %.2fx by size; written to %s",
                plan.byTime().ratio(), plan.bySize().ratio(), planFile));
        for (String w : warnings) err.println("plan: warning: " + w);
        for (Map<String, Object> p : fleet.problems()) err.println("plan: error: " + p.get("what") + ": " + p.get("reason"));
        err.flush();
        Markdown md = new Markdown().heading("pgdump-s3 fleet plan: " + plan.databases() + " databases in " + plan.shards().size() + " shard(s)");
        md.line(headline);
        for (String w : warnings) md.line("⚠️ " + w);
        if (!fleet.problems().isEmpty()) {
            Markdown.Table t = md.table("ll", "could not be read", "reason");
            for (Map<String, Object> p : fleet.problems()) t.row(String.valueOf(p.get("what")), String.valueOf(p.get("reason")));
            t.end();
        }
        StepSummary.append(md.toString());
        if (output.json) {
            JsonDocument.of(exit).put("databases", plan.databases()).put("measured", plan.measured()).put("shards", plan.shards())
                    .put("bySize", plan.bySize()).put("byTime", plan.byTime()).put("drill", drill).put("warnings", warnings)
                    .put("problems", fleet.problems()).put("planFile", planFile.toString()).print(spec.commandLine().getOut());
        }
        return exit;
    }

    private Fleet neonFleet(PrintWriter err) {
        NeonApi api = NeonApi.fromEnvironment(System.getenv(), NeonApi.Policy.standard(), w -> {
            synchronized (err) {
                err.println("plan: warning: " + w);
                err.flush();
            }
        });
        NeonFleet.Discovery d = NeonFleet.discover(api, new NeonFleet.Selection(neonOrg, neonProjects, neonBranches, neonDatabases), 8, msg -> {
            err.println("plan: " + msg);
            err.flush();
        });
        List<String> names = new ArrayList<>();
        Map<String, Map<String, String>> sources = new LinkedHashMap<>();
        for (NeonFleet.Member m : d.databases()) {
            names.add(m.name());
            sources.put(m.name(), m.identity());
        }
        List<Map<String, Object>> problems = new ArrayList<>();
        for (NeonFleet.Problem p : d.problems()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", p.projectId() == null ? "the Neon selection" : "Neon project " + p.projectId()
                    + (p.projectName() == null ? "" : " (" + NeonApi.showable(p.projectName()) + ")"));
            m.put("reason", p.reason());
            m.put("exitCode", p.exitCode());
            problems.add(m);
        }
        return new Fleet(names, sources, problems);
    }

    private Fleet fileFleet() throws IOException {
        List<String> names = BackupTarget.named(FleetFile.read(databasesFile, System.getenv()), null).stream().map(BackupTarget::name).toList();
        return new Fleet(names, Map.of(), List.of());
    }

    /** The plan file: FleetPlan's document, plus tonight's drill sample and the discovery's problems. Written whole or not at all. */
    private void writePlanFile(FleetPlan.Plan plan, Fleet fleet, List<String> drill) throws IOException {
        ObjectNode doc = (ObjectNode) Json.MAPPER.readTree(plan.documentJson(fleet.sources()));
        doc.put("kind", fleet.sources().isEmpty() ? "databases-file" : "neon");
        ArrayNode d = doc.putArray("drill");
        drill.forEach(d::add);
        doc.set("problems", Json.MAPPER.valueToTree(fleet.problems()));
        Path target = planFile.toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".fleet-plan-", ".json");
        try {
            Files.writeString(tmp, Json.MAPPER.writeValueAsString(doc), StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** matrix= and drill= for the next jobs, when run under GitHub Actions. */
    private static void githubOutput(String matrix, String drill) throws IOException {
        String file = System.getenv("GITHUB_OUTPUT");
        if (file == null || file.isBlank()) return;
        Files.writeString(Path.of(file), "matrix=" + matrix + "\ndrill=" + drill + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,6})(s|m|h)");

    static Duration duration(String option, String raw) {
        Matcher m = DURATION.matcher(raw == null ? "" : raw.strip().toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) throw Failure.usage(option + " '" + raw + "' is not a duration: use e.g. 45m or 2h");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
