import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The manifest written after a dump object is complete (docs/architecture.md#manifest). A backup exists only when
 * its manifest exists. Readers ignore unknown fields; a change of meaning bumps {@link #CURRENT_FORMAT}.
 *
 * @param sha256      hex SHA-256 of the exact bytes stored in {@code dumpKey} (after encryption, if any)
 * @param compression what pg_dump was asked for, e.g. "zstd:3", "gzip:6", "none"
 * @param encryption  null, or the scheme and the public recipients (never a private key)
 * @param tocEntries  number of entries in the archive's table of contents (pg_restore --list)
 * @param tables      per-table statistics at dump time, for restore drills
 * @param source      which server and database the dump came from (null in manifests written before it existed):
 *                    one backup name holds one source's history
 */
record Manifest(
        int formatVersion,
        String tool,
        String toolVersion,
        String name,
        String database,
        String host,
        String dumpKey,
        String startedAt,
        String finishedAt,
        long sizeBytes,
        String sha256,
        String pgDumpVersion,
        String serverVersion,
        String format,
        String compression,
        Encryption encryption,
        Integer tocEntries,
        List<TableStat> tables,
        List<String> pgDumpArgs,
        Source source) {

    static final int CURRENT_FORMAT = 1;

    /**
     * The largest manifest (or drill record) any script reads: a manifest takes ~100 bytes per table, so 8 MiB holds
     * some 75,000 tables. Anything larger is not a manifest we wrote and is refused unread (issue 15: a 200 MB one took
     * `restore list` to ~1 GB of memory and `verify --json` to an OutOfMemoryError); backup leaves the table statistics
     * out rather than write one this large.
     */
    static final int MAX_BYTES = 8 << 20;

    /** As written before {@code source} existed (readers of old manifests see it as null). */
    Manifest(int formatVersion, String tool, String toolVersion, String name, String database, String host, String dumpKey,
             String startedAt, String finishedAt, long sizeBytes, String sha256, String pgDumpVersion, String serverVersion,
             String format, String compression, Encryption encryption, Integer tocEntries, List<TableStat> tables,
             List<String> pgDumpArgs) {
        this(formatVersion, tool, toolVersion, name, database, host, dumpKey, startedAt, finishedAt, sizeBytes, sha256,
                pgDumpVersion, serverVersion, format, compression, encryption, tocEntries, tables, pgDumpArgs, null);
    }

    /**
     * The dumped database's identity. {@code host}/{@code port} as the URL named them; {@code systemIdentifier}
     * (pg_control_system(), null when the role may not read it) and {@code databaseOid} survive a DNS change.
     *
     * @param timelineId Neon's timeline (neon.timeline_id: one per branch, where the server shows it), else null
     * @param movedFrom  the source of the backup before this one, when the user said this is the same database moved
     *                   (backup --source-moved), else null
     */
    record Source(String host, Integer port, String database, String systemIdentifier, Long databaseOid, String timelineId, Source movedFrom) {
        Source(String host, Integer port, String database, String systemIdentifier, Long databaseOid) {
            this(host, port, database, systemIdentifier, databaseOid, null, null);
        }
    }

    record Encryption(String scheme, List<String> recipients) {}

    /**
     * @param rowEstimate pg_class.reltuples at dump time (-1 when never analysed)
     * @param rowCount    exact count(*) in the dump's own snapshot when it was measured, else null
     * @param archiveRows rows the archive itself holds for this table (counted in its data), else null
     */
    record TableStat(String schema, String table, long rowEstimate, Long rowCount, Long archiveRows) {
        TableStat(String schema, String table, long rowEstimate, Long rowCount) { this(schema, table, rowEstimate, rowCount, null); }
    }

    String toJson() { return Json.write(this); }

    /** The same manifest without per-table statistics (a drill then checks the TOC and presence only). */
    Manifest withoutTables() {
        return new Manifest(formatVersion, tool, toolVersion, name, database, host, dumpKey, startedAt, finishedAt, sizeBytes, sha256,
                pgDumpVersion, serverVersion, format, compression, encryption, tocEntries, null, pgDumpArgs, source);
    }

    /**
     * Reads a small JSON object of ours from S3 (a manifest, a drill record) as text, refusing one larger than
     * {@link #MAX_BYTES} without reading it: invalid backup data (65). A cut-off read is retried like any other call.
     * S3 errors (NoSuchKey included) are the caller's.
     */
    static String fetchSmall(S3Client s3, String bucket, String key, String what) {
        byte[] bytes = s3.getObject(b -> b.bucket(bucket).key(key), (response, in) -> {
            Long length = response.contentLength();
            try {
                byte[] read = length != null && length > MAX_BYTES ? null : in.readNBytes(MAX_BYTES + 1);
                if (read == null || read.length > MAX_BYTES) {
                    in.abort(); // do not read the rest just to reuse the connection
                    return null;
                }
                return read;
            } catch (IOException e) {
                throw RetryableException.builder().message("reading " + key + " broke off").cause(e).build();
            }
        });
        if (bytes == null) {
            throw "manifest".equals(what) ? tooLarge(key, MAX_BYTES) : new Failure(Exit.DATA_INVALID, what + " " + key + " is too large (more than "
                    + (MAX_BYTES >> 20) + " MiB): it is not one written by " + Version.TOOL + " and is not read");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Parses and checks a manifest; bad JSON or missing essentials are invalid backup data (65). */
    static Manifest parse(String json, String whereFrom) {
        try {
            return checked(Json.MAPPER.readValue(json, Manifest.class), whereFrom);
        } catch (JsonProcessingException e) {
            throw new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /**
     * Reads and checks a manifest from a stream (at most {@code maxBytes}, else invalid). Without {@code tables}
     * the per-table statistics are skipped as they stream past and stay null: a listing holds many manifests at
     * once, and only a drill needs them.
     */
    static Manifest read(java.io.InputStream in, long maxBytes, boolean tables, String whereFrom) {
        Capped capped = new Capped(in, maxBytes);
        try {
            return checked((tables ? Json.MAPPER : WITHOUT_TABLES).readValue(capped, Manifest.class), whereFrom);
        } catch (JsonProcessingException e) {
            if (capped.exceeded) throw tooLarge(whereFrom, maxBytes);
            if (e.getCause() instanceof java.io.IOException io && !(io instanceof JsonProcessingException)) throw new java.io.UncheckedIOException(io);
            throw new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            if (capped.exceeded) throw tooLarge(whereFrom, maxBytes);
            throw new java.io.UncheckedIOException(e); // the transport, not the manifest: never a verdict
        }
    }

    static Failure tooLarge(String whereFrom, long maxBytes) {
        String limit = maxBytes >= 1 << 20 ? (maxBytes >> 20) + " MiB" : maxBytes + " bytes";
        return new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " is too large (more than " + limit + "): it is not one written by "
                + Version.TOOL + " and is not read");
    }

    private static Manifest checked(Manifest m, String whereFrom) {
        if (m == null) throw new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " is empty");
        if (m.formatVersion() > CURRENT_FORMAT) {
            throw new Failure(Exit.CONFIG, "manifest " + whereFrom + " has formatVersion " + m.formatVersion()
                    + ", newer than this " + Version.TOOL + " " + Version.VERSION + " understands (" + CURRENT_FORMAT + "): upgrade " + Version.TOOL);
        }
        if (m.formatVersion() < 1 || m.dumpKey() == null || m.sha256() == null || m.sizeBytes() < 0) {
            throw new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " lacks formatVersion, dumpKey, sha256 or sizeBytes");
        }
        return m;
    }

    /**
     * The same manifest with {@code dumpKey} where the dump actually is: next to the manifest, which for a copy
     * under another prefix or bucket is not where backup wrote it. Every other field is unchanged (copied through
     * JSON, so fields added to this record later come along).
     */
    Manifest relocated(String dumpKey) {
        if (dumpKey.equals(this.dumpKey)) return this;
        com.fasterxml.jackson.databind.node.ObjectNode tree = Json.MAPPER.valueToTree(this);
        tree.put("dumpKey", dumpKey);
        try {
            return Json.MAPPER.treeToValue(tree, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The mapper for listings: per-table statistics skipped as they stream past, never held. */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties({"tables"})
    private interface SkipTables {}

    private static final com.fasterxml.jackson.databind.ObjectMapper WITHOUT_TABLES = Json.MAPPER.copy().addMixIn(Manifest.class, SkipTables.class);

    /** Reads at most {@code max} bytes, then fails (and says so): a manifest is small, a huge one is not ours. */
    private static final class Capped extends java.io.FilterInputStream {
        private final long max;
        private long count;
        boolean exceeded;

        Capped(java.io.InputStream in, long max) {
            super(in);
            this.max = max;
        }

        @Override public int read() throws java.io.IOException {
            int b = super.read();
            if (b >= 0) count(1);
            return b;
        }

        @Override public int read(byte[] b, int off, int len) throws java.io.IOException {
            int n = super.read(b, off, (int) Math.min(len, max + 1 - count));
            if (n > 0) count(n);
            return n;
        }

        private void count(int n) throws java.io.IOException {
            count += n;
            if (count > max) {
                exceeded = true;
                throw new java.io.IOException("more than " + max + " bytes");
            }
        }
    }
}
