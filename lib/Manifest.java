import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The manifest written after a dump object is complete (design.md section 2). A backup exists only when
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
     */
    record Source(String host, Integer port, String database, String systemIdentifier, Long databaseOid) {}

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
            throw new Failure(Exit.DATA_INVALID, what + " " + key + " is too large (more than " + (MAX_BYTES >> 20) + " MiB): it is not one"
                    + " written by " + Version.TOOL + " and is not read");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Parses and checks a manifest; bad JSON or missing essentials are invalid backup data (65). */
    static Manifest parse(String json, String whereFrom) {
        Manifest m;
        try {
            m = Json.MAPPER.readValue(json, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new Failure(Exit.DATA_INVALID, "manifest " + whereFrom + " is not valid JSON: " + e.getOriginalMessage());
        }
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
}
