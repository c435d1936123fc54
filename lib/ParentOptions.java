import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Options typed before the subcommand (`restore --bucket b list`) count for it too, as an operator expects;
 * an option of the restore action that the subcommand does not have is a usage error, never silently ignored.
 */
final class ParentOptions {
    /** Copies the options matched before {@code sub} into it, unless given to it as well (the subcommand's own win). */
    static void take(CommandSpec sub) {
        CommandSpec parent = sub.parent();
        if (parent == null || parent.commandLine() == null || parent.commandLine().getParseResult() == null) return;
        ParseResult before = parent.commandLine().getParseResult();
        ParseResult mine = sub.commandLine().getParseResult();
        for (OptionSpec o : before.matchedOptions()) {
            OptionSpec same = sub.findOption(o.longestName());
            if (same == null) {
                throw Failure.usage(o.longestName() + " is an option of the restore action, not of '" + sub.name() + "' (see 'restore " + sub.name() + " --help')");
            }
            if (mine == null || !mine.hasMatchedOption(same)) same.setValue(o.getValue());
        }
    }

    private ParentOptions() {}
}
