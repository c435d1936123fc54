import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Object;

/** What makes a backup complete ({@link BackupStatus}), as pure judgements, and how a manifest is read (bounded, tables skipped). */
class BackupStatusTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    static final BackupKey KEY = new BackupKey("pg-backups", "app", Instant.parse("2026-11-23T02:00:00Z"));

    static Manifest manifest(String dumpKey, long size) {
        return new Manifest(1, "pgdump-s3", "test", "app", "app", "db.example.com", dumpKey, "2026-11-23T02:00:00Z", "2026-11-23T02:01:00Z",
                size, "ab".repeat(32), "15.8", "15.8", "custom", "zstd:3", null, 3,
                List.of(new Manifest.TableStat("public", "orders", 10, 10L)), List.of("--no-comments"));
    }

    static S3Object object(String key, long size, Instant lastModified) {
        return S3Object.builder().key(key).size(size).lastModified(lastModified).build();
    }

    static BackupStatus judge(BackupKey key, S3Object dump, Manifest m, Failure unreadable) {
        return BackupStatus.judge(key, dump, object(key.manifestKey(), 900, key.startedAt().plusSeconds(60)), m, unreadable, false, NOW);
    }

    @Test
    void completeOnlyWithItsOwnDumpOfTheManifestsSize() {
        S3Object dump = object(KEY.dumpKey(), 100, KEY.startedAt().plusSeconds(50));
        assertTrue(judge(KEY, dump, manifest(KEY.dumpKey(), 100), null).complete());
        // written under another prefix, now read as a copy: still itself
        assertTrue(judge(KEY, dump, manifest("old-prefix/team/app/app_2026-11-23T02-00-00Z.dump", 100), null).complete());

        BackupStatus noDump = judge(KEY, null, manifest(KEY.dumpKey(), 100), null);
        assertEquals(BackupStatus.State.NO_DUMP, noDump.state());
        assertTrue(noDump.describe().startsWith("no dump"), noDump.describe());

        BackupStatus size = judge(KEY, dump, manifest(KEY.dumpKey(), 101), null);
        assertEquals(BackupStatus.State.SIZE_DIFFERS, size.state());
        assertTrue(size.describe().startsWith("dump size differs") && size.describe().contains("100 bytes") && size.describe().contains("101"), size.describe());

        for (String other : List.of("pg-backups/app/app_2026-11-22T02-00-00Z.dump", "pg-backups/shop/shop_2026-11-23T02-00-00Z.dump",
                "pg-backups/app/../app/app_2026-11-23T02-00-00Z.dump")) {
            BackupStatus s = judge(KEY, dump, manifest(other, 100), null);
            assertEquals(BackupStatus.State.OTHER_DUMP, s.state(), other);
            assertTrue(s.describe().startsWith("manifest names another dump"), s.describe());
        }

        BackupStatus invalid = judge(KEY, dump, null, new Failure(Exit.DATA_INVALID, "manifest x is not valid JSON"));
        assertEquals(BackupStatus.State.MANIFEST_INVALID, invalid.state());
        assertTrue(invalid.describe().startsWith("manifest invalid"), invalid.describe());
        BackupStatus newer = judge(KEY, dump, null, new Failure(Exit.CONFIG, "manifest x has formatVersion 2"));
        assertEquals(BackupStatus.State.NEWER_FORMAT, newer.state());
        assertEquals(Exit.CONFIG, newer.state().exitCode);

        BackupStatus incomplete = BackupStatus.judge(KEY, dump, null, null, null, false, NOW);
        assertEquals(BackupStatus.State.INCOMPLETE, incomplete.state());
        assertFalse(incomplete.hasManifest());
    }

    /** The key's time may be ahead by a clock's skew (15 min), not more: neither of now nor of S3's LastModified of the manifest. */
    @Test
    void datedInTheFutureBeyondTheSkew() {
        BackupKey future = new BackupKey("pg-backups", "app", Instant.parse("2099-01-01T00:00:00Z"));
        S3Object dump = object(future.dumpKey(), 100, NOW);
        BackupStatus s = BackupStatus.judge(future, dump, object(future.manifestKey(), 900, NOW), manifest(future.dumpKey(), 100), null, false, NOW);
        assertEquals(BackupStatus.State.FUTURE, s.state());
        assertTrue(s.describe().startsWith("dated in the future"), s.describe());

        BackupKey skewed = new BackupKey("pg-backups", "app", NOW.plus(Duration.ofMinutes(14)));
        assertTrue(BackupStatus.judge(skewed, object(skewed.dumpKey(), 100, NOW), object(skewed.manifestKey(), 900, NOW),
                manifest(skewed.dumpKey(), 100), null, false, NOW).complete(), "within the skew");
        BackupKey ahead = new BackupKey("pg-backups", "app", NOW.plus(Duration.ofMinutes(16)));
        assertEquals(BackupStatus.State.FUTURE, BackupStatus.judge(ahead, object(ahead.dumpKey(), 100, NOW), object(ahead.manifestKey(), 900, NOW),
                manifest(ahead.dumpKey(), 100), null, false, NOW).state());
        // Planted yesterday with a stamp of today's evening: later than its own manifest by hours, though not later than the reader's clock + skew.
        BackupKey planted = new BackupKey("pg-backups", "app", NOW.minus(Duration.ofMinutes(5)));
        Instant yesterday = NOW.minus(Duration.ofDays(1));
        assertEquals(BackupStatus.State.FUTURE, BackupStatus.judge(planted, object(planted.dumpKey(), 100, yesterday),
                object(planted.manifestKey(), 900, yesterday), manifest(planted.dumpKey(), 100), null, false, NOW).state());
    }

    @Test
    void aManifestIsReadBoundedAndWithoutTablesForListings() throws Exception {
        Manifest m = manifest(KEY.dumpKey(), 100);
        byte[] json = m.toJson().getBytes(StandardCharsets.UTF_8);
        Manifest full = Manifest.read(new ByteArrayInputStream(json), 1 << 20, true, "m");
        assertEquals(m, full);
        Manifest lean = Manifest.read(new ByteArrayInputStream(json), 1 << 20, false, "m");
        assertNull(lean.tables());
        assertEquals(m.sha256(), lean.sha256());
        assertEquals(m.pgDumpArgs(), lean.pgDumpArgs());

        Failure big = assertThrows(Failure.class, () -> Manifest.read(new ByteArrayInputStream(json), json.length - 1, true, "m"));
        assertEquals(Exit.DATA_INVALID, big.exitCode);
        assertTrue(big.getMessage().contains("too large"), big.getMessage());
        // An endless stream stops at the cap.
        InputStream endless = new InputStream() {
            @Override public int read() { return ' '; }
        };
        assertThrows(Failure.class, () -> Manifest.read(endless, 1 << 16, false, "m"));

        Failure notJson = assertThrows(Failure.class, () -> Manifest.read(new ByteArrayInputStream("{\"formatVersion\": 1, \"dumpKey\": \"pg".getBytes(StandardCharsets.UTF_8)),
                1 << 20, false, "m"));
        assertEquals(Exit.DATA_INVALID, notJson.exitCode);
        Failure newer = assertThrows(Failure.class, () -> Manifest.read(new ByteArrayInputStream(m.toJson().replace("\"formatVersion\" : 1", "\"formatVersion\" : 2")
                .getBytes(StandardCharsets.UTF_8)), 1 << 20, false, "m"));
        assertEquals(Exit.CONFIG, newer.exitCode);
        // A transport fault is no verdict on the manifest.
        InputStream broken = new InputStream() {
            int n;
            @Override public int read() throws java.io.IOException {
                if (n < 10) return json[n++];
                throw new java.io.IOException("Connection reset");
            }
        };
        assertThrows(java.io.UncheckedIOException.class, () -> Manifest.read(broken, 1 << 20, false, "m"));
    }

    @Test
    void aCopyIsReadFromWhereItIsEveryOtherFieldKept() {
        Manifest m = manifest("pg-backups/app/app_2026-11-23T02-00-00Z.dump", 100);
        Manifest moved = m.relocated("archive/app/app_2026-11-23T02-00-00Z.dump");
        assertEquals("archive/app/app_2026-11-23T02-00-00Z.dump", moved.dumpKey());
        assertEquals(m.tables(), moved.tables());
        assertEquals(m.sha256(), moved.sha256());
        assertEquals(m, moved.relocated(m.dumpKey()));
    }
}
