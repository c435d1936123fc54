import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Progress while pg_restore runs (design.md section 3: a live line on a terminal, a plain line at most every
 * 10 s without one): objects done of the list's total, counted from {@code pg_restore --verbose}'s per-object
 * lines ("creating TABLE ...", "processing data for table ...", "executing SEQUENCE SET ..."); the archive's
 * bytes read so far (Linux: the file position of pg_restore's descriptor on the archive, /proc/PID/fdinfo),
 * which is what moves during one big table's COPY; the object being restored; elapsed time.
 */
final class RestoreProgress implements AutoCloseable {
    private final String label;
    private final PrintWriter err;
    private final int total;
    private final Path archive;
    private final long archiveSize;
    private final boolean tty;
    private final long startNanos = System.nanoTime();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicReference<String> current = new AtomicReference<>("");
    private volatile Process process;
    private volatile long lastRead = -1;
    private volatile long lastMeasured;
    private final Thread ticker;
    private volatile boolean closed;
    private boolean printedOnTty;

    /** {@code total}: objects pg_restore will report on; {@code archive}: the file it reads (null: a pipe, no bytes). */
    RestoreProgress(String label, PrintWriter err, int total, Path archive, boolean tty) {
        this(label, err, total, archive, tty, tty ? 1_000 : 10_000);
    }

    /** The same, a line every {@code intervalMillis}. */
    RestoreProgress(String label, PrintWriter err, int total, Path archive, boolean tty, long intervalMillis) {
        this.label = label;
        this.err = err;
        this.total = total;
        this.archive = archive == null ? null : archive.toAbsolutePath();
        long size = -1;
        try {
            if (archive != null) size = Files.size(archive);
        } catch (IOException ignored) {
            // no size: no percentage
        }
        this.archiveSize = size;
        this.tty = tty;
        long interval = intervalMillis;
        this.ticker = Threads.start("restore-progress", () -> {
            try {
                while (!closed) {
                    Thread.sleep(interval);
                    if (!closed) print(false);
                }
            } catch (InterruptedException ignored) {
                // closed
            }
        });
    }

    RestoreProgress(String label, PrintWriter err, int total, Path archive) {
        this(label, err, total, archive, System.console() != null);
    }

    /** How many objects pg_restore --verbose reports on when it restores {@code entries} (not the session settings; no ACLs with --no-acl). */
    static int objects(java.util.Collection<ArchiveToc.Entry> entries, boolean noAcl) {
        int n = 0;
        for (ArchiveToc.Entry e : entries) {
            String d = e.desc();
            if (d.equals("ENCODING") || d.equals("STDSTRINGS") || d.equals("SEARCHPATH") || d.equals("DATABASE") || d.equals("DATABASE PROPERTIES")) continue;
            if (noAcl && (d.equals("ACL") || d.equals("DEFAULT ACL"))) continue;
            if (!e.hadDumper() && (e.defn() == null || e.defn().isEmpty())) continue; // nothing to run
            n++;
        }
        return n;
    }

    /** The pg_restore (or its watcher: its descendants are searched) whose reading of the archive is shown. */
    void watch(Process p) { this.process = p; }

    /** One line of pg_restore --verbose's stderr. */
    void line(String line) {
        String what = objectOf(line);
        if (what != null) {
            done.incrementAndGet();
            current.set(what);
            long now = System.nanoTime();
            if (now - lastMeasured > 200_000_000L) { // at most 5 looks into /proc a second, however many objects
                lastMeasured = now;
                bytesRead();
            }
        }
    }

    int done() { return done.get(); }

    /** The object a verbose line reports ("TABLE public.accounts", "data public.accounts"), null for other lines. */
    static String objectOf(String line) {
        if (line == null || !line.startsWith("pg_restore: ")) return null;
        String s = line.substring("pg_restore: ".length());
        if (s.startsWith("creating ")) return s.substring(9).replace("\"", "");
        if (s.startsWith("processing data for table ")) return "data " + s.substring(26).replace("\"", "");
        if (s.startsWith("executing ")) return s.substring(10).replace("\"", "");
        if (s.startsWith("processing ") && !s.startsWith("processing item") && !s.startsWith("processing missed item")) {
            return s.substring(11).replace("\"", ""); // "processing BLOBS": the large objects' entry
        }
        return null;
    }

    /** Whether a stderr line is one of --verbose's progress lines, not a message about a problem. */
    static boolean isVerboseLine(String line) {
        if (objectOf(line) != null) return true;
        if (line == null || !line.startsWith("pg_restore: ")) return false;
        String s = line.substring(12);
        return s.startsWith("connecting to") || s.startsWith("processing item") || s.startsWith("launching item")
                || s.startsWith("finished item") || s.startsWith("entering main parallel loop") || s.startsWith("finished main parallel loop")
                || s.startsWith("entering restore_toc_entries") || s.startsWith("processing missed item") || s.startsWith("implied data-only")
                || s.startsWith("dropping ") || s.startsWith("restoring large object") || s.startsWith("restored ");
    }

    /** pg_restore's stderr without the --verbose progress lines: what an error message should quote. */
    static String problems(String stderr) {
        if (stderr == null) return "";
        return stderr.lines().filter(l -> !isVerboseLine(l)).collect(Collectors.joining("\n"));
    }

    String describe() {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        int d = total > 0 ? Math.min(done.get(), total) : done.get();
        StringBuilder b = new StringBuilder(label).append(": ").append(d);
        if (total > 0) b.append(" of ").append(total);
        b.append(" objects");
        if (total > 0) b.append(String.format(Locale.ROOT, " (%.0f%%)", 100.0 * d / total));
        long read = bytesRead();
        if (read >= 0) {
            b.append(", ").append(Progress.size(read));
            if (archiveSize > 0) b.append(" of ").append(Progress.size(archiveSize)).append(" read");
            else b.append(" read");
        }
        b.append(String.format(Locale.ROOT, ", %.0f s", secs));
        String now = current.get();
        if (!now.isEmpty()) b.append(", ").append(now.length() > 80 ? now.substring(0, 77) + "..." : now);
        return b.toString();
    }

    private synchronized void print(boolean last) {
        String line = describe();
        if (tty) {
            err.print("\r" + line + "\u001b[K" + (last ? "\n" : ""));
            printedOnTty = true;
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** How far pg_restore has read the archive (the last position seen once it is gone), -1 when that cannot be seen (no file, not Linux). */
    long bytesRead() {
        Process p = process;
        if (archive == null || p == null) return lastRead;
        long best = -1;
        List<ProcessHandle> procs = Stream.concat(Stream.of(p.toHandle()), p.toHandle().descendants()).toList();
        for (ProcessHandle h : procs) best = Math.max(best, position(h.pid()));
        if (best > lastRead) lastRead = best;
        return lastRead;
    }

    private long position(long pid) {
        Path fds = Path.of("/proc", String.valueOf(pid), "fd");
        try (Stream<Path> list = Files.list(fds)) {
            for (Path fd : list.toList()) {
                try {
                    if (!Files.readSymbolicLink(fd).equals(archive)) continue;
                    for (String l : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "fdinfo", fd.getFileName().toString()))) {
                        if (l.startsWith("pos:")) return Long.parseLong(l.substring(4).strip());
                    }
                } catch (IOException | RuntimeException ignored) {
                    // closed meanwhile
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    /** Stops the periodic lines. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ticker.interrupt();
        synchronized (this) {
            if (tty && printedOnTty) {
                err.print("\r\u001b[K");
                err.flush();
            }
        }
    }

    /** pg_restore finished: stops the periodic lines and prints the final count (on a terminal in place of the live line). */
    void finished() {
        close();
        print(true);
    }
}
