import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code backup report}: the last job of the fan-out (workflows/pg-backup-fleet.yml). Merges the legs' backup --json
 * documents against the plan ({@link FleetReport}) into one summary on stderr, GitHub's job summary and --json, and
 * exits red when any database of the plan was not backed up.
 */
@Command(name = "report", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "Merge the fleet's legs' results (the backup --json documents, named ...shard-N....json) into one report: backed up,"
                + " failed, skipped (a planned database no leg answered for), bytes, the slowest, each failure's reason. Exit 0 when every"
                + " database of the plan was backed up, 3 when some were not, 1 when none was.",
        footerHeading = "%nExamples:%n",
        footer = {"  backup report --plan-file fleet-plan.json results/"})
class FleetReportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The directory holding the legs' documents (searched recursively for *.json).")
    Path dir;

    @Option(names = "--plan-file", paramLabel = "FILE",
            description = "The plan (backup plan --plan-file): its databases without a result are reported as skipped, its discovery problems as failed.")
    Path planFile;

    @Mixin OutputOptions output = new OutputOptions();

    @Override
    public Integer call() throws Exception {
        FleetReport.Report report = FleetReport.read(dir, planFile);
        PrintWriter err = spec.commandLine().getErr();
        err.print(report.text());
        err.flush();
        StepSummary.append(report.markdown());
        if (output.json) report.json().print(spec.commandLine().getOut());
        return report.exitCode();
    }
}
