import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a child so that it does not outlive this JVM, however the JVM ends. Why: a restore killed with SIGKILL (the OOM
 * killer, a CI job cancelled for good) runs no shutdown hook, and its pg_restore, reading a file, went on and committed
 * into the target with nobody left to report it (issue 15).
 *
 * <p>How: /bin/sh starts the command in the background and writes one byte a second to its stdout, a pipe whose only
 * reader is this JVM (the caller drains the child's stdout). When the JVM is gone, that write fails, and the shell
 * sends the command SIGTERM: pg_restore cancels its query and exits, and a single transaction is rolled back. A SIGTERM
 * to the shell itself (Process.destroy) is passed on to the command, and the shell exits with the command's status.
 * The command's stdin (the archive, with --stream) and stderr are its own, unchanged. Without /bin/sh the command runs
 * as it is.
 */
final class Lifeline {
    private static final Path SH = Path.of("/bin/sh");
    private static final String SCRIPT = String.join("\n",
            "exec 3<&0",                                   // a background job's stdin would be /dev/null: keep ours for the command
            "\"$@\" <&3 3<&- &",
            "child=$!",
            "exec 3<&-",
            "trap 'trapped=1; kill -TERM \"$child\" 2>/dev/null' TERM INT HUP",
            "trap '' PIPE",                                // a write to the closed pipe fails instead of killing the shell
            "( trap 'kill \"$nap\" 2>/dev/null; exit 0' TERM", // ended: no sleep left holding the pipe open
            "  while :; do",
            "    sleep 1 & nap=$!",
            "    wait \"$nap\" || exit 0",                 // no sleep to be found: no watch rather than a busy loop
            "    printf . 2>/dev/null || { kill -TERM \"$child\" 2>/dev/null; exit 0; }",
            "  done ) &",
            "beat=$!",
            "status=",
            "while :; do",                                 // a trap cuts wait short: wait again for the command's own status
            "  trapped=",
            "  wait \"$child\"; s=$?",
            "  [ \"$s\" -eq 127 ] && [ -n \"$status\" ] && break",
            "  status=$s",
            "  [ -n \"$trapped\" ] || break",
            "done",
            "kill \"$beat\" 2>/dev/null",
            "exit \"$status\"");

    /** The command to start instead of {@code command}; its stdout carries a byte a second besides the command's own output. */
    static List<String> wrap(List<String> command) {
        if (!Files.isExecutable(SH)) return command;
        List<String> wrapped = new ArrayList<>(List.of(SH.toString(), "-c", SCRIPT, "pgdump-s3-lifeline"));
        wrapped.addAll(command);
        return wrapped;
    }

    private Lifeline() {}
}
