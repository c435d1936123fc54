import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The table of contents of a pg_dump custom-format archive, read directly from its first bytes (the TOC comes
 * before any data, so a prefix of the stream is enough). {@code pg_restore --list} prints the same entries, but
 * as one line each whose schema, name and owner are separated by spaces that the names themselves may contain,
 * and without the dependencies and the SQL; here every field is exact: what a selective restore and the roles
 * check need. The layout is pg_dump's (pg_backup_archiver.c, ReadHead/ReadToc; pg_backup_custom.c for the data
 * offsets), archive versions 1.12 (PostgreSQL 9.5) to 1.16 (17, 18).
 */
final class ArchiveToc {
    /** One TOC entry. {@code namespace}, {@code owner} may be null; {@code deps} are dump ids. */
    record Entry(int dumpId, boolean hadDumper, long tableOid, long oid, String tag, String desc, int section, String defn,
                 String namespace, String owner, List<Integer> deps, long dataOffset) {
        /** "TABLE public.accounts", as an operator reads it. */
        String describe() {
            return desc + " " + (namespace == null || namespace.isEmpty() ? "" : namespace + ".") + tag;
        }
    }

    static final int SECTION_PRE_DATA = 2, SECTION_DATA = 3, SECTION_POST_DATA = 4;

    final String archiveVersion;   // "1.16"
    final String database;
    final String serverVersion;    // "15.18 (Debian ...)"
    final String pgDumpVersion;    // "18.6 (Debian ...)"
    final List<Entry> entries;
    /** Directory format only: each entry's data file as toc.dat names it ("3362.dat", "blobs.toc"), by dump id. */
    final Map<Integer, String> dataFiles;
    private final Map<Integer, Entry> byId = new LinkedHashMap<>();

    private ArchiveToc(String archiveVersion, String database, String serverVersion, String pgDumpVersion, List<Entry> entries,
                       Map<Integer, String> dataFiles) {
        this.dataFiles = Collections.unmodifiableMap(dataFiles);
        this.archiveVersion = archiveVersion;
        this.database = database;
        this.serverVersion = serverVersion;
        this.pgDumpVersion = pgDumpVersion;
        this.entries = Collections.unmodifiableList(entries);
        for (Entry e : entries) byId.put(e.dumpId(), e);
    }

    Entry get(int dumpId) { return byId.get(dumpId); }

    /** The major version of the pg_dump that wrote the archive (18 for "18.6 (Debian 18.6-3)"). */
    int pgDumpMajor() { return PgTools.majorOf(pgDumpVersion); }

    static ArchiveToc read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        } catch (IOException e) {
            throw new Failure(Exit.FAILED, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Reads the header and TOC from the start of {@code in}; reads no further. Not an archive (or cut short): exit 65. */
    static ArchiveToc read(InputStream raw) {
        try {
            return new Reader(new BufferedInputStream(raw, 64 * 1024)).read();
        } catch (EOFException e) {
            throw new Failure(Exit.DATA_INVALID, "the archive ends inside its table of contents: the dump is cut short");
        } catch (IOException e) {
            throw new Failure(Exit.FAILED, "cannot read the archive's table of contents: " + e.getMessage());
        }
    }

    private static final class Reader {
        private final InputStream in;
        private int vmaj, vmin, intSize, offSize, format;
        private final Map<Integer, String> files = new LinkedHashMap<>();

        Reader(InputStream in) { this.in = in; }

        ArchiveToc read() throws IOException {
            byte[] magic = bytes(5);
            if (!"PGDMP".equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new Failure(Exit.DATA_INVALID, "not a pg_dump custom-format archive (it does not start with PGDMP)");
            }
            vmaj = byteValue();
            vmin = byteValue();
            byteValue(); // revision
            if (vmaj != 1 || vmin < 12 || vmin > 16) {
                throw new Failure(Exit.DATA_INVALID, "archive version " + vmaj + "." + vmin + " is not one this tool reads (1.12 to 1.16):"
                        + " use pg_restore directly, or a newer pgdump-s3");
            }
            intSize = byteValue();
            offSize = byteValue();
            format = byteValue();
            // 1 custom; 3 directory (backup --parallel's toc.dat: each entry names its data file instead of an offset)
            if (format != 1 && format != 3) throw new Failure(Exit.DATA_INVALID, "not a custom-format archive (format " + format + "): pg_dump -Fc writes those");
            if (vmin >= 15) byteValue(); // compression algorithm
            else readInt();              // compression level
            for (int i = 0; i < 7; i++) readInt(); // creation time: sec, min, hour, mday, mon, year, isdst
            String database = readStr();
            String server = readStr();
            String dumper = readStr();
            int count = readInt();
            if (count < 0 || count > 50_000_000) throw new Failure(Exit.DATA_INVALID, "the archive's TOC claims " + count + " entries: the dump is corrupt");
            List<Entry> entries = new ArrayList<>(Math.min(count, 100_000));
            for (int i = 0; i < count; i++) entries.add(entry());
            return new ArchiveToc(vmaj + "." + vmin, database, server, dumper, entries, files);
        }

        private Entry entry() throws IOException {
            int dumpId = readInt();
            if (dumpId <= 0) throw new Failure(Exit.DATA_INVALID, "TOC entry id " + dumpId + " out of range: the dump is corrupt");
            boolean hadDumper = readInt() != 0;
            long tableOid = parseOid(readStr());
            long oid = parseOid(readStr());
            String tag = readStr();
            String desc = readStr();
            int section = readInt();
            String defn = readStr();
            readStr(); // dropStmt
            readStr(); // copyStmt
            String namespace = readStr();
            readStr(); // tablespace
            if (vmin >= 14) readStr(); // table access method
            if (vmin >= 16) readInt(); // relkind
            String owner = readStr();
            readStr(); // "false": WITH OIDS
            List<Integer> deps = new ArrayList<>();
            for (String d; (d = readStr()) != null; ) deps.add(Integer.parseInt(d.strip()));
            if (format == 3) { // directory format's extra: the entry's data file name (null: no data)
                String file = readStr();
                if (file != null && !file.isEmpty()) files.put(dumpId, file);
                return new Entry(dumpId, hadDumper, tableOid, oid, tag == null ? "" : tag, desc == null ? "" : desc, section, defn, namespace,
                        owner, List.copyOf(deps), -1);
            }
            // custom format's extra: whether and where the entry's data block is (1 not set: written to a pipe, 2 set, 3 no data)
            int flag = byteValue();
            long pos = 0;
            for (int i = 0; i < offSize; i++) pos |= (long) byteValue() << (8 * i);
            return new Entry(dumpId, hadDumper, tableOid, oid, tag == null ? "" : tag, desc == null ? "" : desc, section, defn, namespace,
                    owner, List.copyOf(deps), flag == 2 ? pos : -1);
        }

        private static long parseOid(String s) {
            try {
                return s == null ? 0 : Long.parseLong(s.strip());
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        private int byteValue() throws IOException {
            int b = in.read();
            if (b < 0) throw new EOFException();
            return b;
        }

        private byte[] bytes(int n) throws IOException {
            byte[] b = in.readNBytes(n);
            if (b.length < n) throw new EOFException();
            return b;
        }

        /** pg_dump's int: a sign byte, then intSize bytes, least significant first. */
        private int readInt() throws IOException {
            int sign = byteValue();
            long v = 0;
            for (int i = 0; i < intSize; i++) v |= (long) byteValue() << (8 * i);
            return (int) (sign != 0 ? -v : v);
        }

        /** pg_dump's string: its length as an int (-1: NULL), then the bytes. */
        private String readStr() throws IOException {
            int len = readInt();
            if (len < 0) return null;
            if (len > (64 << 20)) throw new Failure(Exit.DATA_INVALID, "a TOC string of " + len + " bytes: the dump is corrupt");
            return new String(bytes(len), StandardCharsets.UTF_8);
        }
    }
}
