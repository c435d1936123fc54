import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How every script runs its picocli command: the shared exit-code list in --help, usage errors as one line
 * and exit 64, and every failure turned into one line and its exit code ({@link Errors}); the stack trace
 * only with --verbose.
 */
final class Cli {

    static void main(Object command, String[] args) {
        System.exit(execute(command, args));
    }

    static int execute(Object command, String... args) {
        return commandLine(command).execute(args);
    }

    static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        addExitCodes(cl);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine failing = ex.getCommandLine();
            PrintWriter err = failing.getErr();
            err.println(failing.getCommandSpec().qualifiedName() + ": " + Redact.text(ex.getMessage()));
            err.println("Try '" + failing.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return Exit.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, failing, parseResult) -> {
            Failure failure = Errors.classify(ex);
            PrintWriter err = failing.getErr();
            err.println(failing.getCommandSpec().qualifiedName() + ": error: " + failure.getMessage());
            if (parseResult.originalArgs().contains("--verbose")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return failure.exitCode;
        });
        return cl;
    }

    private static void addExitCodes(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(Exit.helpList());
        for (CommandLine sub : cl.getSubcommands().values()) addExitCodes(sub);
    }

    private Cli() {}
}

/** --json and --verbose, the same in every script. */
class OutputOptions {
    @Option(names = "--json", description = "Print one JSON document on stdout (human text goes to stderr).")
    boolean json;

    @Option(names = "--verbose", description = "Show details and stack traces of errors.")
    boolean verbose;
}

/** Markdown appended to GitHub Actions' job summary when GITHUB_STEP_SUMMARY is set (design.md section 3). */
final class StepSummary {
    static void append(String markdown) {
        String file = System.getenv("GITHUB_STEP_SUMMARY");
        if (file == null || file.isBlank()) return;
        try {
            Files.writeString(Path.of(file), Redact.text(markdown) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (Exception e) {
            System.err.println("warning: could not write the GitHub step summary: " + e.getMessage());
        }
    }

    private StepSummary() {}
}
