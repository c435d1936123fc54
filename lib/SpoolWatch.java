import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Which files of pg_dump's output directory pg_dump has finished with, so that backup --parallel can upload and
 * delete each one while the dump goes on.
 *
 * <p>The rule: a file is finished when no process of pg_dump's tree (the leader and its -j workers, which are its
 * children) has it open. pg_dump's directory format writes every file exactly once: a worker creates
 * {@code NNNN.dat[.gz|.lz4|.zst]} (or a large-object file), writes it to the end and closes it, and never opens it
 * again. So the order of the two looks matters, and is: list the directory first, then read every process's open
 * files ({@code /proc/PID/fd}); a file that was listed and is not open afterwards was closed for good (a file created
 * between the two looks is not in the listing: it waits for the next round). {@code toc.dat} is the exception:
 * pg_dump writes and closes it before any data, so it is never taken from here; backup uploads it after pg_dump
 * exited 0, last.
 *
 * <p>Why not inotify's CLOSE_WRITE: the JDK's WatchService does not report it, and a close seen by inotify cannot
 * tell a file being finished from one reopened later; /proc needs no native code. It needs Linux (or a /proc like
 * it): {@link #available} says whether this machine has it, and backup refuses --parallel (exit 78) otherwise.
 */
final class SpoolWatch {
    static final String TOC = "toc.dat";
    private static final Path PROC = Path.of("/proc");

    private final Path dir;
    private final ProcessHandle root;
    private final Set<String> taken = new HashSet<>();

    SpoolWatch(Path dir, ProcessHandle root) {
        this.dir = dir;
        this.root = root;
    }

    /** Whether open files can be seen per process here (Linux /proc, our own process as the probe). */
    static boolean available() {
        return Files.isDirectory(PROC.resolve(Long.toString(ProcessHandle.current().pid())).resolve("fd"));
    }

    /**
     * The files closed since the last call (each returned once), never toc.dat. With {@code exited} (pg_dump has
     * exited), every remaining file but toc.dat: nothing can hold them open any more.
     */
    List<Path> closed(boolean exited) throws IOException {
        List<Path> listed = list();
        Set<String> open = exited ? Set.of() : openNames();
        List<Path> closed = new ArrayList<>();
        for (Path p : listed) {
            String name = p.getFileName().toString();
            if (name.equals(TOC) || taken.contains(name) || open.contains(name)) continue;
            taken.add(name);
            closed.add(p);
        }
        return closed;
    }

    private List<Path> list() throws IOException {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dir)) return files; // pg_dump has not created it yet
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (Files.isRegularFile(p)) files.add(p);
        }
        files.sort(null);
        return files;
    }

    /** The names of files in {@link #dir} that any process of pg_dump's tree has open now. */
    Set<String> openNames() {
        Set<String> names = new HashSet<>();
        try (Stream<ProcessHandle> tree = Stream.concat(Stream.of(root), root.descendants())) {
            tree.forEach(p -> {
                Path fds = PROC.resolve(Long.toString(p.pid())).resolve("fd");
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
                    for (Path fd : ds) {
                        try {
                            Path target = Files.readSymbolicLink(fd);
                            if (dir.equals(target.getParent())) names.add(target.getFileName().toString());
                        } catch (NoSuchFileException closedMeanwhile) {
                            // that descriptor closed while we looked
                        } catch (IOException ignored) {
                            // not a link we can read: not one of the spool's files
                        }
                    }
                } catch (NoSuchFileException exited) {
                    // the process ended while we looked: it holds nothing open
                } catch (IOException e) { // never guess "closed" about a file we cannot see: fail the backup instead

                    throw new java.io.UncheckedIOException("cannot read " + fds, e);
                }
            });
        }
        return names;
    }
}
