import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Counts the archive's table of contents on the way, without a temp file: custom format written to a pipe
 * puts its whole TOC first, and {@code pg_restore --list} reading stdin exits as soon as it has read the TOC.
 * So we feed pg_restore the first bytes of the stream until it stops reading (or at most 256 MiB), and
 * count the entries it lists. Best effort: no pg_restore or an odd archive gives a warning and no count.
 */
final class TocCounter {
    private static final long MAX_FEED = 256L << 20;
    private final PgTools.Streaming proc;
    private final Thread reader;
    private final AtomicInteger entries = new AtomicInteger();
    private boolean feeding = true;
    private long fed;

    private TocCounter(PgTools.Streaming proc) {
        this.proc = proc;
        this.reader = Threads.start("toc-count", () -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.stdout(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) if (TocEntries.isEntry(line)) entries.incrementAndGet();
            } catch (IOException ignored) {
                // pg_restore gone: finish() looks at its exit status
            }
        });
    }

    static TocCounter start(PgTools.Tool pgDump, Consumer<String> warn) {
        try {
            Path sibling = pgDump.path().resolveSibling("pg_restore");
            PgTools.Tool pgRestore = Files.isExecutable(sibling) ? PgTools.probe(sibling) : PgTools.select("pg_restore", null, pgDump.major());
            return new TocCounter(PgTools.start(List.of(pgRestore.path().toString(), "--list"), Map.of()));
        } catch (Failure f) {
            warn.accept("no TOC entry count in the manifest: " + f.getMessage());
            return null;
        }
    }

    void feed(byte[] buf, int off, int len) {
        if (!feeding) return;
        try {
            proc.stdin().write(buf, off, len);
            proc.stdin().flush();
            fed += len;
            if (fed >= MAX_FEED) closeInput();
        } catch (IOException e) {
            feeding = false; // pg_restore has read the TOC and exited: the normal end
        }
    }

    private void closeInput() {
        feeding = false;
        try {
            proc.stdin().close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    Integer finish(Consumer<String> warn) throws InterruptedException {
        closeInput();
        if (!proc.process().waitFor(60, TimeUnit.SECONDS)) {
            proc.close();
            warn.accept("pg_restore --list did not finish; no TOC entry count in the manifest");
            return null;
        }
        int exit = proc.waitFor();
        reader.join(10_000);
        if (exit != 0) { // 0 entries is a valid count: an empty database lists none
            warn.accept("pg_restore --list could not read the archive's TOC (exit " + exit + ": " + Errors.lastLines(proc.stderr(), 3)
                    + "); no TOC entry count in the manifest");
            return null;
        }
        return entries.get();
    }

    void close() {
        closeInput();
        proc.close();
    }
}
