import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One custom-format stream or {@code pg_dump -Fd -j N} for one database (docs/backup.md#choosing-one-stream-or---parallel).
 * {@code --parallel N} (2 or more) forces N workers and {@code --parallel 1} one stream, as asked. Without it (auto), a
 * database smaller than {@code --parallel-above} (pg_database_size) keeps the one stream it always had; a larger one gets
 * {@link #autoWorkers} workers, unless something stands in the way: then one stream, with one line saying why. The
 * rule of auto: a backup that one stream would have made never fails because auto chose the directory format, so
 * every check that could refuse --parallel (a pooler, no /proc, too few free connections, too little spool space) is
 * made here first, for all the databases dumped at once.
 */
final class ParallelChoice {
    /** --parallel's value when not given: choose by size. */
    static final int AUTO = -1;
    /**
     * Measured on this project's 2-core bench (docs/performance.md#choosing---parallel-by-size): below this the
     * directory format's fixed cost (worker connections, one S3 object per table, restore needing every object
     * first) buys little, above it a remote server's latency makes one connection the bottleneck.
     */
    static final String DEFAULT_ABOVE = "1GiB";
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kKmMgGtT]i?[bB]?|[bB])?");

    /** --parallel: auto, or a number of workers (0 and 1: one stream). */
    static int parse(String text) {
        String v = text == null ? "" : text.strip();
        if (v.isEmpty() || v.equalsIgnoreCase("auto")) return AUTO;
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw Failure.usage("invalid --parallel '" + text + "': auto (by size, --parallel-above), 1 (one stream) or a number of pg_dump workers, e.g. 4");
    }

    /** --parallel-above: a size such as 1GiB or 500MiB (binary units; B, KiB, MiB, GiB, TiB, and k/m/g/t alone). */
    static long parseAbove(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) throw Failure.usage("invalid --parallel-above '" + text + "': a database size such as 1GiB, 500MiB or 10GiB");
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; case 't' -> 40; default -> 0; };
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw Failure.usage("invalid --parallel-above '" + text + "': too large");
        }
    }

    /** Workers when auto chooses the directory format: the cores, at least 2 (a remote server's latency) and at most 4. */
    static int autoWorkers(int cores) {
        return Math.max(2, Math.min(4, cores));
    }

    /** What the choice looks at for one database; the suppliers are asked only when the database is large enough. */
    record Facts(long databaseBytes, int concurrent, boolean pooled, boolean procAvailable, Supplier<ConnectionBudget.Free> budget, Path spool,
                 List<UserTables.Table> tables, LongSupplier spoolUsable) {}

    /** The workers to run (0: one custom-format stream); in auto, one line on {@code note} whenever the size asked for more. */
    static int choose(int parallel, long above, Facts f, Consumer<String> note) {
        if (parallel != AUTO) return parallel >= 2 ? parallel : 0;
        if (f.databaseBytes() < above) return 0;
        int workers = autoWorkers(Runtime.getRuntime().availableProcessors());
        String why = "the database is " + Progress.size(f.databaseBytes()) + " on disk, above --parallel-above " + Progress.size(above);
        String obstacle = null;
        if (f.pooled()) {
            obstacle = "the connection goes through a pooler, and pg_dump -j's workers need a direct one (they share one snapshot)";
        } else if (!f.procAvailable()) {
            obstacle = "this system has no /proc to see which files pg_dump has closed";
        }
        if (obstacle == null) {
            try {
                ConnectionBudget.Free free = f.budget().get();
                int fits = free.connections() / f.concurrent() - ConnectionBudget.OVERHEAD; // every database dumped at once needs its own
                if (fits < 2) {
                    obstacle = free.limit() + " leaves " + Math.max(free.connections(), 0) + " free connections" + (f.concurrent() > 1 ? " for "
                            + f.concurrent() + " databases at once" : "") + ", and pg_dump -j 2 needs " + (2 + ConnectionBudget.OVERHEAD);
                } else {
                    workers = Math.min(workers, fits);
                }
            } catch (RuntimeException e) {
                obstacle = "the server's free connections could not be read (" + e.getMessage() + ")";
            }
        }
        if (obstacle == null) {
            long need = ParallelBackup.spoolNeed(workers, f.tables());
            long usable = f.spoolUsable().getAsLong();
            if (usable < need * f.concurrent()) {
                obstacle = "the spool " + f.spool() + " has " + Progress.size(usable) + " free and pg_dump -j " + workers + " may hold up to "
                        + Progress.size(need) + (f.concurrent() > 1 ? " per database, " + f.concurrent() + " at once" : "") + " (point --spool at a larger disk)";
            }
        }
        if (obstacle != null) {
            note.accept("one stream (custom format), not --parallel: " + why + ", but " + obstacle);
            return 0;
        }
        note.accept("pg_dump -Fd -j " + workers + " (--parallel chosen by size): " + why + "; --parallel 1 keeps one stream");
        return workers;
    }

    /** Free space for the spool: of its nearest existing directory (backup creates it later); 0 when that cannot be read. */
    static long usableSpace(Path spool) {
        for (Path p = spool.toAbsolutePath(); p != null; p = p.getParent()) {
            if (!java.nio.file.Files.isDirectory(p)) continue;
            try {
                return java.nio.file.Files.getFileStore(p).getUsableSpace();
            } catch (java.io.IOException e) {
                return 0;
            }
        }
        return 0;
    }

    private ParallelChoice() {}
}
