import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Backups in the bucket for the restore tests, written the way design.md section 2 says backup.java writes
 * them: the dump object is pg_dump -Fc's output read from a pipe (not a file: pg_dump then writes no data
 * offsets, exactly like the streaming backup), the manifest carries its SHA-256 and size, the TOC entry count
 * as `pg_restore --list` counts them (non-comment lines), and per-table row estimates from pg_class.reltuples.
 *
 * Also crafts the odd backups a restore must survive: flipped bytes, a missing manifest, a manifest that
 * claims tables or rows the dump lacks.
 */
final class TestBackups {
    /** A backup as put in the bucket. */
    record Made(BackupKey key, Manifest manifest, byte[] dump) {
        String dumpKey() { return key.dumpKey(); }
        String manifestKey() { return key.manifestKey(); }
    }

    /** Dumps {@code db} and uploads it as backup NAME started at {@code at}, manifest included. */
    static Made create(PgServer pg, String bucket, String prefix, String name, String db, Instant at, String... pgDumpArgs) {
        byte[] bytes = dump(pg, db, pgDumpArgs);
        BackupKey key = new BackupKey(prefix, name, at);
        Manifest manifest = manifest(pg, db, key, bytes, pgDumpArgs);
        putObject(bucket, key.dumpKey(), bytes);
        putManifest(bucket, key, manifest);
        return new Made(key, manifest, bytes);
    }

    /**
     * A new database of ~1 MB compressed (table aa_data: 20,000 rows of md5 text, analyzed): large enough for a
     * download to be cut, stalled or held well inside its dump. {@code more}: SQL run before the analyze.
     */
    static String payloadDatabase(PgServer pg, String prefix, String more) {
        String db = pg.createDatabase(prefix);
        pg.sql(db, "create table aa_data (id int primary key, payload text);"
                + " insert into aa_data select g, md5(g::text) || md5((g + 1)::text) from generate_series(1, 20000) g;" + more + " analyze;");
        return db;
    }

    /** A dump object without a manifest: an incomplete (failed or running) backup. */
    static BackupKey createIncomplete(PgServer pg, String bucket, String prefix, String name, String db, Instant at) {
        BackupKey key = new BackupKey(prefix, name, at);
        putObject(bucket, key.dumpKey(), dump(pg, db));
        return key;
    }

    /** pg_dump -Fc to a pipe, read fully. */
    static byte[] dump(PgServer pg, String db, String... extra) {
        ConnInfo conn = pg.conn(db);
        List<String> cmd = new ArrayList<>(List.of(pg.tool("pg_dump").path().toString(), "-Fc", "-d", conn.withoutPassword()));
        cmd.addAll(List.of(extra));
        try (PgTools.Streaming p = PgTools.start(cmd, conn.childEnvironment())) {
            p.stdin().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            p.stdout().transferTo(out);
            int code = p.waitFor();
            if (code != 0) throw new IllegalStateException("pg_dump failed: " + p.stderr());
            return out.toByteArray();
        } catch (Exception e) {
            throw new IllegalStateException("pg_dump of " + db + " failed: " + e, e);
        }
    }

    static Manifest manifest(PgServer pg, String db, BackupKey key, byte[] bytes, String... pgDumpArgs) {
        ConnInfo conn = pg.conn(db);
        PgTools.ServerVersion server = PgTools.serverVersion(pg.psql(), conn);
        String started = key.startedAt().toString();
        return new Manifest(Manifest.CURRENT_FORMAT, Version.TOOL, Version.VERSION, key.name(), db, conn.host(), key.dumpKey(),
                started, key.startedAt().plusSeconds(5).toString(), bytes.length, sha256(bytes), pg.tool("pg_dump").version(),
                server.version(), "custom", "gzip", null, tocEntries(pg, bytes), tables(pg, db), List.of(pgDumpArgs));
    }

    /** Per-table statistics as backup.java records them: reltuples (-1 when never analysed), no exact count. */
    static List<Manifest.TableStat> tables(PgServer pg, String db) {
        String json = pg.sql(db, "select coalesce(json_agg(json_build_object('s', n.nspname, 't', c.relname, 'r', c.reltuples::bigint)"
                + " order by n.nspname, c.relname), '[]') from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                + " where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'");
        try {
            List<Manifest.TableStat> out = new ArrayList<>();
            for (var node : Json.MAPPER.readTree(json)) {
                out.add(new Manifest.TableStat(node.get("s").asText(), node.get("t").asText(), node.get("r").asLong(), null));
            }
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Entries in the archive's table of contents, as `pg_restore --list` prints them (lines not starting with ';'). */
    static int tocEntries(PgServer pg, byte[] bytes) {
        try {
            Path file = Files.createTempFile("toc", ".dump");
            try {
                Files.write(file, bytes);
                PgTools.Result r = PgTools.run(List.of(pg.tool("pg_restore").path().toString(), "--list", file.toString()), Map.of(), null, 120);
                if (r.exitCode() != 0) throw new IllegalStateException("pg_restore --list failed: " + r.stderr());
                return TocEntries.count(r.stdout().lines().toList()); // as backup.java counts them
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void putObject(String bucket, String key, byte[] bytes) {
        try (S3Client s3 = S3Server.get().s3()) {
            s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes));
        }
    }

    static byte[] getObject(String bucket, String key) {
        try (S3Client s3 = S3Server.get().s3()) {
            return s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        }
    }

    static void putManifest(String bucket, BackupKey key, Manifest manifest) {
        putObject(bucket, key.manifestKey(), manifest.toJson().getBytes(StandardCharsets.UTF_8));
    }

    static void deleteObject(String bucket, String key) {
        try (S3Client s3 = S3Server.get().s3()) {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        }
    }

    /** Replaces the dump object with a copy in which the byte at {@code offset} is inverted (same size). */
    static void flipByte(String bucket, String key, int offset) {
        byte[] bytes = getObject(bucket, key);
        bytes[offset] = (byte) ~bytes[offset];
        putObject(bucket, key, bytes);
    }

    /**
     * Replaces the first occurrence of {@code find} in the dump object with {@code replacement} (same length).
     * In an uncompressed dump (-Z0) this changes a value without making the archive unreadable: only the
     * checksum can tell.
     */
    static void replaceBytes(String bucket, String key, String find, String replacement) {
        byte[] f = find.getBytes(StandardCharsets.UTF_8), r = replacement.getBytes(StandardCharsets.UTF_8);
        if (f.length != r.length) throw new IllegalArgumentException("same length only");
        byte[] bytes = getObject(bucket, key);
        int at = indexOf(bytes, f);
        if (at < 0) throw new IllegalStateException("'" + find + "' not in " + key);
        System.arraycopy(r, 0, bytes, at, r.length);
        putObject(bucket, key, bytes);
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    /**
     * The same dump stored again as backup NAME started at {@code at} (a backdated or differently named backup without
     * another pg_dump): the dump bytes under the new key, and a manifest naming them, with the new times.
     */
    static Made copy(String bucket, Made from, String name, Instant at) {
        BackupKey key = new BackupKey(from.key().prefix(), name, at);
        Manifest m = from.manifest();
        Manifest moved = new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), name, m.database(), m.host(), key.dumpKey(), at.toString(),
                at.plusSeconds(5).toString(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(),
                m.encryption(), m.tocEntries(), m.tables(), m.pgDumpArgs(), m.source());
        putObject(bucket, key.dumpKey(), from.dump());
        putManifest(bucket, key, moved);
        return new Made(key, moved, from.dump());
    }

    /**
     * A drill record next to a backup, as restore drill writes it: {@code outcome} "passed" (for the manifest's sha256)
     * or "failed" with reasons. For tests of the readers of records (list, prune, check) that need no real drill.
     */
    static void putDrillRecord(String bucket, Made backup, String outcome, String... reasons) {
        Instant at = backup.key().startedAt().plusSeconds(600);
        VerifyRecord r = new VerifyRecord(VerifyRecord.CURRENT_FORMAT, Version.TOOL, Version.VERSION, "drill", backup.dumpKey(), backup.manifest().sha256(),
                outcome, List.of(reasons), at.toString(), at.plusSeconds(30).toString(), Map.of("total", 30.0), backup.manifest().pgDumpVersion(),
                backup.manifest().serverVersion(), backup.manifest().tocEntries(), backup.manifest().tocEntries(), null, List.of(), null);
        putObject(bucket, backup.key().verifyKey(), r.toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** The same manifest with other table statistics. */
    static Manifest withTables(Manifest m, List<Manifest.TableStat> tables) {
        return new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), m.database(), m.host(), m.dumpKey(), m.startedAt(),
                m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(),
                m.encryption(), m.tocEntries(), tables, m.pgDumpArgs());
    }

    /** The same manifest claiming another source host and database (for the same-source refusal). */
    static Manifest withSource(Manifest m, String host, String database) {
        return new Manifest(m.formatVersion(), m.tool(), m.toolVersion(), m.name(), database, host, m.dumpKey(), m.startedAt(),
                m.finishedAt(), m.sizeBytes(), m.sha256(), m.pgDumpVersion(), m.serverVersion(), m.format(), m.compression(),
                m.encryption(), m.tocEntries(), m.tables(), m.pgDumpArgs());
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private TestBackups() {}
}
