import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The S3 object layout (docs/architecture.md#s3-layout): formatting, parsing, sorting, sanitising. */
class BackupKeyTest {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789._-";

    @Test
    void theDesignExample() {
        BackupKey k = new BackupKey("pg-backups", "neondb", Instant.parse("2026-11-23T02:00:00.789Z"));
        assertEquals("pg-backups/neondb/neondb_2026-11-23T02-00-00Z.dump", k.dumpKey());
        assertEquals("pg-backups/neondb/neondb_2026-11-23T02-00-00Z.manifest.json", k.manifestKey());
        assertEquals("pg-backups/neondb/neondb_2026-11-23T02-00-00Z.verify.json", k.verifyKey());
    }

    @Test
    void roundTripsOverManyNamesAndInstants() {
        Random random = new Random(42);
        for (int i = 0; i < 5000; i++) {
            String name = randomName(random);
            Instant at = Instant.ofEpochSecond(random.nextLong(0, 253402300799L)); // years 1970..9999
            String prefix = random.nextBoolean() ? "pg-backups" : "team/" + randomName(random);
            BackupKey key = new BackupKey(prefix, name, at);
            for (BackupKey.Kind kind : BackupKey.Kind.values()) {
                var parsed = BackupKey.parse(prefix, key.key(kind)).orElseThrow(() -> new AssertionError("unparsed: " + key.key(kind)));
                assertEquals(key, parsed.backup());
                assertEquals(kind, parsed.kind());
            }
        }
    }

    @Test
    void keysSortInTimeOrder() {
        Random random = new Random(7);
        List<BackupKey> keys = new ArrayList<>();
        for (int i = 0; i < 2000; i++) keys.add(new BackupKey("p", "db", Instant.ofEpochSecond(random.nextLong(0, 253402300799L))));
        List<BackupKey> byKey = new ArrayList<>(keys);
        byKey.sort((a, b) -> a.dumpKey().compareTo(b.dumpKey()));
        List<BackupKey> byTime = new ArrayList<>(keys);
        byTime.sort((a, b) -> a.startedAt().compareTo(b.startedAt()));
        assertEquals(byTime, byKey);
    }

    @Test
    void foreignKeysAreNotOurs() {
        for (String key : List.of("pg-backups/db/other.dump", "pg-backups/db/db_2026-11-23T02-00-00Z.dump.tmp",
                "pg-backups/db/db2_2026-11-23T02-00-00Z.dump", "pg-backups/db_2026-11-23T02-00-00Z.dump",
                "pg-backups/db/sub/db_2026-11-23T02-00-00Z.dump", "other/db/db_2026-11-23T02-00-00Z.dump",
                "pg-backups/db/db_2026-13-23T02-00-00Z.dump", "pg-backups/DB/DB_2026-11-23T02-00-00Z.dump",
                "pg-backups/db/db_2026-11-23T02:00:00Z.dump", "pg-backups-old/db/db_2026-11-23T02-00-00Z.dump")) {
            assertTrue(BackupKey.parse("pg-backups", key).isEmpty(), key);
        }
    }

    /** Nov 31, Feb 29 of a common year, hour 24, minute 60: a lenient parser turns them into other dates; they are not ours. */
    @Test
    void impossibleDatesAreNotOurs() {
        for (String stamp : List.of("2026-11-31T02-00-00Z", "2026-02-29T02-00-00Z", "2026-11-23T24-00-00Z", "2026-11-23T02-60-00Z",
                "2026-11-23T02-00-60Z", "2026-00-10T02-00-00Z", "2026-11-00T02-00-00Z", "+2026-11-23T02-00-00Z")) {
            for (String suffix : List.of(".dump", ".manifest.json", ".verify.json")) {
                String key = "pg-backups/db/db_" + stamp + suffix;
                assertTrue(BackupKey.parse("pg-backups", key).isEmpty(), key);
            }
            assertThrows(java.time.format.DateTimeParseException.class, () -> BackupKey.parseStamp(stamp), stamp);
        }
        assertTrue(BackupKey.parse("pg-backups", "pg-backups/db/db_2028-02-29T23-59-59Z.dump").isPresent(), "a real leap day");
    }

    /** A manifest names its own dump by NAME and stamp, under any well-formed prefix (a copy elsewhere), never through '..'. */
    @Test
    void aDumpKeyNamesItsBackupByNameAndStampUnderAnyPrefix() {
        BackupKey k = new BackupKey("archive/2026", "app", Instant.parse("2026-11-23T02:00:00Z"));
        for (String own : List.of("pg-backups/app/app_2026-11-23T02-00-00Z.dump", "archive/2026/app/app_2026-11-23T02-00-00Z.dump",
                "x/app/app_2026-11-23T02-00-00Z.dump")) {
            assertTrue(k.isNamedBy(own), own);
        }
        for (String other : List.of("pg-backups/app/app_2026-11-22T02-00-00Z.dump", "pg-backups/shop/shop_2026-11-23T02-00-00Z.dump",
                "pg-backups/shop/app_2026-11-23T02-00-00Z.dump", "pg-backups/app/app_2026-11-23T02-00-00Z.manifest.json",
                "app/app_2026-11-23T02-00-00Z.dump", "/app/app_2026-11-23T02-00-00Z.dump", "pg-backups//app/app_2026-11-23T02-00-00Z.dump",
                "pg-backups/../app/app_2026-11-23T02-00-00Z.dump", "../app/app_2026-11-23T02-00-00Z.dump", "a/./app/app_2026-11-23T02-00-00Z.dump",
                "pg-backups/app/xapp_2026-11-23T02-00-00Z.dump", "pg-backups/app/app_2026-11-23T02-00-00Z.dump.tmp", "")) {
            assertFalse(k.isNamedBy(other), other);
        }
        assertFalse(k.isNamedBy(null));
    }

    @Test
    void namesAreSanitised() {
        assertEquals("sales-db-eu", BackupKey.sanitizeName("Sales DB (EU)"));
        assertEquals("neondb", BackupKey.sanitizeName("neondb"));
        assertEquals("my_app.prod", BackupKey.sanitizeName("My_App.Prod"));
        assertEquals("caf", BackupKey.sanitizeName("Café"));
        Failure f = assertThrows(Failure.class, () -> BackupKey.sanitizeName("Ωμέγα"));
        assertEquals(Exit.USAGE, f.exitCode);
        Random random = new Random(3);
        for (int i = 0; i < 2000; i++) {
            StringBuilder raw = new StringBuilder();
            for (int j = 0; j < 1 + random.nextInt(20); j++) raw.append((char) (32 + random.nextInt(400)));
            try {
                String clean = BackupKey.sanitizeName(raw.toString());
                assertTrue(clean.matches("[a-z0-9][a-z0-9._-]*[a-z0-9]|[a-z0-9]"), clean);
                assertEquals(clean, BackupKey.sanitizeName(clean), "idempotent");
            } catch (Failure expected) {
                assertEquals(Exit.USAGE, expected.exitCode);
            }
        }
    }

    @Test
    void badPrefixesAreUsageErrors() {
        for (String p : List.of("", "/abs", "a/../b", "..", "a//b", "a/./b", "sp ace", "x?y")) {
            Failure f = assertThrows(Failure.class, () -> BackupKey.checkPrefix(p), p);
            assertEquals(Exit.USAGE, f.exitCode);
        }
        assertEquals("a/b", BackupKey.checkPrefix("a/b/"));
    }

    private static String randomName(Random random) {
        StringBuilder sb = new StringBuilder();
        int len = 1 + random.nextInt(30);
        for (int i = 0; i < len; i++) sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        String s = sb.toString();
        return s.equals(".") || s.equals("..") ? "x" + s : s;
    }
}
