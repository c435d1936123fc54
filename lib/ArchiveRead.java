import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.s3.S3Client;

/** What reading a whole archive found: its table of contents, and the rows of each table's data (null when not counted). */
record ArchiveRead(TocListing listing, Map<List<String>, Long> rows) {
    long total() { return rows == null ? 0 : rows.values().stream().mapToLong(Long::longValue).sum(); }

    /** Reads every data block of {@code file}: `pg_restore --list`, then the whole archive through {@link ArchiveRows}. */
    static ArchiveRead readFile(PgTools.Tool pgRestore, Path file, Manifest m) throws Exception {
        TocListing listing = PgRestoreRun.listFile(pgRestore, file);
        ArchiveRows rows = ArchiveRows.start(pgRestore, pgDumpArgs(m));
        try (InputStream in = Files.newInputStream(file)) {
            in.transferTo(feeding(rows));
        } catch (IOException | RuntimeException e) {
            rows.close();
            throw Errors.classify(e);
        }
        return new ArchiveRead(listing, counted(rows.finish()));
    }

    /**
     * Verify without disk space: downloads the dump while hashing (and decrypting) it into two pg_restore processes,
     * `--list` for the table of contents and {@link ArchiveRows} (pg_restore --data-only) for the data: pg_restore
     * then reads and decompresses every data block (a truncated or corrupt archive fails it), and the rows of each
     * table are counted the way backup counted them for the manifest.
     */
    static ArchiveRead readStreaming(S3Client s3, String bucket, Manifest m, PgTools.Tool pgRestore, Age.Identities identities, String label,
                              PrintWriter err) throws Exception {
        ArchiveRows rows = ArchiveRows.start(pgRestore, pgDumpArgs(m));
        boolean finished = false;
        try (PgTools.Streaming list = PgTools.start(List.of(pgRestore.path().toString(), "--list"), Map.of())) {
            ByteArrayOutputStream listing = new ByteArrayOutputStream();
            Thread listReader = OutputDrain.start(list.stdout(), listing);
            // Its own TolerantStream: --list stops reading after the table of contents, which must not stop the data's reader.
            TolerantStream toList = new TolerantStream(new BufferedOutputStream(list.stdin(), 256 * 1024));
            OutputStream sink = new TeeStream(toList, new BufferedOutputStream(feeding(rows), 256 * 1024));
            Age.Decrypting decrypting = VerifiedDownload.decrypting(m, identities, sink);
            VerifiedDownload.Result got;
            try {
                got = VerifiedDownload.fetch(s3, bucket, m.dumpKey(), m.sizeBytes(), decrypting != null ? decrypting : sink,
                        new Progress("verify: downloading " + label, err, m.sizeBytes()), err);
                if (decrypting != null) {
                    VerifiedDownload.check(m, got); // a checksum mismatch says more than the decryption failure it also causes
                    decrypting.finish();
                }
                sink.flush();
            } finally {
                if (decrypting != null) decrypting.close();
            }
            toList.close();
            int listCode = list.waitFor();
            listReader.join(10_000);
            ArchiveRows.Result data = rows.finish();
            finished = true;
            VerifiedDownload.check(m, got);
            if (listCode != 0) throw PgRestoreRun.unreadable(list.stderr());
            return new ArchiveRead(TocListing.of(listing.toString(StandardCharsets.UTF_8)), counted(data));
        } finally {
            if (!finished) rows.close();
        }
    }

    /** The bytes of an archive into {@link ArchiveRows} (it tolerates a pg_restore that stopped reading). */
    private static OutputStream feeding(ArchiveRows rows) {
        return new OutputStream() {
            @Override
            public void write(int b) { write(new byte[] {(byte) b}, 0, 1); }

            @Override
            public void write(byte[] b, int off, int len) { rows.feed(b, off, len); }
        };
    }

    /** An archive pg_restore cannot read to its end is 65; the rows per table, or null when they could not be counted. */
    private static Map<List<String>, Long> counted(ArchiveRows.Result data) {
        if (!data.readable()) throw new Failure(Exit.DATA_INVALID, "the archive's data cannot be read: " + data.problem() + ": the dump is corrupt or cut short");
        return data.counted() ? data.rows() : null;
    }

    private static List<String> pgDumpArgs(Manifest m) { return m.pgDumpArgs() == null ? List.of() : m.pgDumpArgs(); }

    /**
     * The archive against its manifest: as many TOC entries as it recorded, and each table's rows as backup counted them
     * in the same archive (archiveRows). A difference is invalid backup data (65).
     */
    void check(Manifest m, String backup) {
        if (m.tocEntries() != null && listing.entries() != m.tocEntries()) {
            throw new Failure(Exit.DATA_INVALID, "backup " + backup + ": pg_restore lists " + listing.entries()
                    + " TOC entries, the manifest recorded " + m.tocEntries() + ": the dump is not the one the manifest describes");
        }
        List<String> differ = rowsDiffer(m, rows);
        if (!differ.isEmpty()) {
            throw new Failure(Exit.DATA_INVALID, "backup " + backup + ": " + differ.get(0)
                    + (differ.size() > 1 ? " (and " + (differ.size() - 1) + " more table" + (differ.size() > 2 ? "s" : "") + ")" : "")
                    + ": the dump does not hold the rows the manifest describes; choose another backup (restore list)");
        }
    }

    /** What was counted, for the report: "N rows in T tables; the rows of C tables match the manifest's". */
    String describeRows(Manifest m) {
        long compared = archiveCounted(m);
        return rows == null ? "its rows not counted (the backup's data is INSERT statements)"
                : total() + " rows in " + rows.size() + (rows.size() == 1 ? " table" : " tables")
                + (compared == 0 ? "; the manifest has no per-table archive counts to compare"
                : "; the rows of " + compared + (compared == 1 ? " table match" : " tables match") + " the manifest's");
    }

    /**
     * The archive's rows compared with the manifest's archiveRows (what backup counted in the same archive): one line
     * per table that differs, empty when all agree or the manifest has no such counts.
     */
    static List<String> rowsDiffer(Manifest m, Map<List<String>, Long> rows) {
        List<String> differ = new ArrayList<>();
        if (m.tables() == null) return differ;
        for (Manifest.TableStat t : m.tables()) {
            if (t.archiveRows() == null) continue;
            if (rows == null) {
                differ.add("the archive's rows could not be counted (the manifest recorded them for " + UserTables.quoted(t.schema()) + "."
                        + UserTables.quoted(t.table()) + " and others)");
                break;
            }
            long n = rows.getOrDefault(List.of(t.schema(), t.table()), 0L);
            if (n != t.archiveRows()) {
                differ.add(UserTables.quoted(t.schema()) + "." + UserTables.quoted(t.table()) + ": the archive holds " + n + " rows, the manifest recorded "
                        + t.archiveRows());
            }
        }
        return differ;
    }

    /** Tables whose rows the manifest recorded as the archive's (archiveRows). */
    static long archiveCounted(Manifest m) {
        return m.tables() == null ? 0 : m.tables().stream().filter(t -> t.archiveRows() != null).count();
    }
}
