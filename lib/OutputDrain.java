import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** A child process's output read to its end on a thread of its own, so that the child never blocks writing it. */
final class OutputDrain {
    /** Copies {@code in} to {@code to} until the process closes it; the thread ends with it. */
    static Thread start(InputStream in, OutputStream to) {
        return Threads.start("stdout-drain", () -> {
            try (in) {
                in.transferTo(to);
            } catch (IOException ignored) {
                // the process is gone
            }
        });
    }

    private OutputDrain() {}
}
