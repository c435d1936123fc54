import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long transfer (docs/architecture.md#cli-conventions): on a terminal, one line redrawn every second; without
 * one (CI logs), a plain line at most every 10 seconds. Thread-safe; cheap enough to call per buffer.
 */
final class Progress {
    private final String label;
    private final PrintWriter err;
    private final long total; // -1 when unknown
    private final boolean tty;
    private final long intervalNanos;
    private final long startNanos = System.nanoTime();
    private long bytes;
    private long lastPrint = System.nanoTime();
    private boolean printedOnTty;

    Progress(String label, PrintWriter err, long total) {
        this(label, err, total, System.console() != null);
    }

    Progress(String label, PrintWriter err, long total, boolean tty) {
        this.label = label;
        this.err = err;
        this.total = total;
        this.tty = tty;
        this.intervalNanos = tty ? 1_000_000_000L : 10_000_000_000L;
    }

    synchronized void add(long n) {
        bytes += n;
        long now = System.nanoTime();
        if (now - lastPrint >= intervalNanos) {
            lastPrint = now;
            print(false);
        }
    }

    /** Ends a TTY line; prints nothing more in CI (the caller prints its own summary). */
    synchronized void done() {
        if (tty && printedOnTty) {
            print(true);
        }
    }

    private void print(boolean last) {
        double secs = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        String line = String.format(Locale.ROOT, "%s: %s%s, %s/s, %.0f s", label, size(bytes),
                total > 0 ? String.format(Locale.ROOT, " of %s (%.0f%%)", size(total), 100.0 * bytes / total) : "", size((long) (bytes / secs)), secs);
        if (tty) {
            err.print("\r" + line + (last ? "\n" : ""));
            printedOnTty = true;
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** 1536 → "1.5 KiB". */
    static String size(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
    }
}
