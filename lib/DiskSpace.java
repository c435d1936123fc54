import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * A full disk while writing a local file (restore's temp dump) is a problem of the machine, not of the backup nor
 * of the restore: exit 78 (environment) with what to do, the same code as the free-space check made up front,
 * instead of "cannot write: No space left on device" and 1. The check up front cannot see other writers filling the
 * disk meanwhile, nor quotas.
 */
final class DiskSpace {
    /** Whether an I/O error is the disk (or the user's quota) being full: ENOSPC or EDQUOT, as the JDK words them. */
    static boolean isFull(IOException e) {
        String msg = e.getMessage();
        return msg != null && (msg.contains("No space left on device") || msg.contains("Disk quota exceeded"));
    }

    /**
     * {@code out}, with a full disk turned into a {@link Failure} (78) naming {@code dir} and {@code whatToDo}. The
     * Failure is unchecked, so callers that wrap their own IOExceptions (as "cannot write") pass it on unchanged.
     */
    static OutputStream guard(OutputStream out, Path dir, String whatToDo) {
        return new FilterOutputStream(out) {
            private long written;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                    written += len;
                } catch (IOException e) {
                    throw translate(e);
                }
            }

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void flush() throws IOException {
                try {
                    out.flush();
                } catch (IOException e) {
                    throw translate(e);
                }
            }

            private IOException translate(IOException e) {
                if (!isFull(e)) return e;
                throw new Failure(Exit.CONFIG, "no space left in " + dir + " after writing " + Progress.size(written) + ": " + whatToDo, e);
            }
        };
    }

    private DiskSpace() {}
}
