import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Replaces a file so that a reader sees the old content or the new, never a part: the bytes go to a temporary file in
 * the same directory (a rename is atomic only within one filesystem), are flushed to disk, and the temporary file is
 * renamed over the target. A reader that polls the file (Prometheus' node_exporter textfile collector, the next check
 * reading its state) can never read half a file, and a crash leaves the previous one whole.
 */
final class AtomicFile {
    /** Writes {@code bytes} to {@code target}, readable by all (0644: node_exporter runs as its own user). */
    static void write(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        // A dot-name ending in .tmp: collectors read *.prom files only, and a leftover is recognisably ours.
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // the filesystem's defaults then
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + target + " atomically (" + e.getMessage() + "): write it to a local filesystem", e);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private AtomicFile() {}
}
