import java.io.PrintWriter;
import java.io.Writer;
import java.util.Arrays;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How every script runs its picocli command: the shared exit-code list in --help, usage errors as one line
 * and exit 64, and every failure turned into one line and its exit code ({@link Errors}); the stack trace
 * only with --verbose. With --json, a failure that comes before the command printed its own document still
 * prints one on stdout, {"ok": false, "exitCode": N, "error": {"exitCode": N, "message": "..."}}: a caller that parses stdout
 * always gets a document (docs/architecture.md#cli-conventions), never an empty string.
 */
final class Cli {

    static void main(Object command, String[] args) {
        System.exit(commandLine(command).execute(args));
    }

    static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        addExitCodes(cl);
        StdoutWatch stdout = new StdoutWatch();
        // Under GitHub Actions every error and warning is also an annotation (::error::, ::warning::) on the run's page.
        ActionsAnnotator annotator = GitHubAnnotations.active() ? new ActionsAnnotator() : null;
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine failing = ex.getCommandLine();
            PrintWriter err = failing.getErr();
            String message = Redact.text(ex.getMessage());
            err.println(failing.getCommandSpec().qualifiedName() + ": " + message);
            if (annotator != null) err.println(annotator.error(failing.getCommandSpec().qualifiedName() + ": " + message));
            err.println("Try '" + failing.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            if (Arrays.asList(args).contains("--json")) printErrorDocument(failing.getOut(), Exit.USAGE, message);
            return Exit.USAGE;
        });
        // Watch stdout from the moment the command runs (tests replace the writers after this method returns).
        cl.setExecutionStrategy(parseResult -> {
            stdout.written = false;
            CommandLine top = parseResult.commandSpec().commandLine();
            top.setOut(stdout.watch(annotator == null ? top.getOut() : annotator.watch(top.getOut(), false)));
            if (annotator != null) top.setErr(annotator.watch(top.getErr(), true));
            return new CommandLine.RunLast().execute(parseResult);
        });
        cl.setExecutionExceptionHandler((ex, failing, parseResult) -> {
            Failure failure = Errors.classify(ex);
            PrintWriter err = failing.getErr();
            err.println(failing.getCommandSpec().qualifiedName() + ": error: " + failure.getMessage());
            if (annotator != null) err.println(annotator.error(failing.getCommandSpec().qualifiedName() + ": " + failure.getMessage()));
            if (parseResult.originalArgs().contains("--verbose")) {
                ex.printStackTrace(err);
            }
            err.flush();
            if (jsonRequested(parseResult) && !stdout.written) {
                printErrorDocument(failing.getOut(), failure.exitCode, failure.getMessage());
            }
            return failure.exitCode;
        });
        return cl;
    }

    /** Whether --json was given as an option (of the command or of its subcommand), not merely as some option's value. */
    private static boolean jsonRequested(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            if (pr.hasMatchedOption("--json")) return true;
        }
        return false;
    }

    /** The document --json prints when the command failed before printing its own (the envelope of lib/JsonDocument). */
    private static void printErrorDocument(PrintWriter out, int exitCode, String message) {
        JsonDocument.failure(exitCode, message).print(out);
    }

    /** Whether anything was written to stdout since {@link #watch} wrapped it. */
    private static final class StdoutWatch {
        volatile boolean written;

        PrintWriter watch(PrintWriter target) {
            return new PrintWriter(new Writer() {
                @Override public void write(char[] buf, int off, int len) {
                    if (len > 0) written = true;
                    target.write(buf, off, len);
                }
                @Override public void flush() { target.flush(); }
                @Override public void close() { target.close(); }
            }, true);
        }
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

/** Markdown appended to GitHub Actions' job summary when GITHUB_STEP_SUMMARY is set (docs/architecture.md#cli-conventions). */
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
