import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's small rules without a bucket: which names must have backups (--expect, --names-file, the --state
 * file and what it becomes), the healthchecks.io /fail URL, and GitHub annotations that a message cannot break.
 */
class WatchedNamesTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    @Test
    void expectedNamesFromOptionsAndAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("names.txt");
        Files.writeString(file, "# the fleet\nshop\n\n  Billing  \nshop\n");
        assertEquals(List.of("a", "b", "c", "shop", "billing"), List.copyOf(WatchedNames.given(List.of("a,b c", "a"), file)));
        assertEquals(Set.of(), WatchedNames.given(null, null));

        // A pasted URL is refused and never echoed (it may hold a password).
        Failure url = assertThrows(Failure.class, () -> WatchedNames.given(List.of("postgresql://u:s3cret@host/db"), null));
        assertEquals(Exit.USAGE, url.exitCode);
        assertFalse(url.getMessage().contains("s3cret"), url.getMessage());
        Files.writeString(file, "shop\nhttps://hooks.example/s3cret\n");
        Failure inFile = assertThrows(Failure.class, () -> WatchedNames.given(null, file));
        assertTrue(inFile.getMessage().contains("names.txt line 2") && !inFile.getMessage().contains("s3cret"), inFile.getMessage());
        Failure missing = assertThrows(Failure.class, () -> WatchedNames.given(null, dir.resolve("nope.txt")));
        assertEquals(Exit.USAGE, missing.exitCode);
    }

    @Test
    void theStateFileRemembersNamesUntilIgnored(@TempDir Path dir) {
        Path file = dir.resolve("state.json");
        WatchedNames.State first = WatchedNames.read(file, "bucket", "pg-backups");
        assertEquals(List.of(), WatchedNames.remembered(first), "no file yet: nothing remembered");

        BackupHealth shop = health("shop", true), gone = health("gone", true);
        WatchedNames.write(file, WatchedNames.next(first, List.of(shop, gone), Set.of(), NOW));
        WatchedNames.State second = WatchedNames.read(file, "bucket", "pg-backups");
        assertEquals(List.of("gone", "shop"), WatchedNames.remembered(second));

        // gone has no backup now: still remembered (it stays missing); retired is ignored: forgotten.
        WatchedNames.State third = WatchedNames.next(second, List.of(shop, health("gone", false)), Set.of(), NOW);
        assertEquals(List.of("gone", "shop"), WatchedNames.remembered(third));
        assertEquals(List.of("shop"), WatchedNames.remembered(WatchedNames.next(third, List.of(shop), Set.of("gone"), NOW)));
    }

    @Test
    void aStateFileThatIsNotOursOrOfAnotherBucketIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state.json");
        WatchedNames.write(file, WatchedNames.next(WatchedNames.State.empty("bucket", "pg-backups"), List.of(health("shop", true)), Set.of(), NOW));
        Failure other = assertThrows(Failure.class, () -> WatchedNames.read(file, "other-bucket", "pg-backups"));
        assertEquals(Exit.USAGE, other.exitCode);
        assertTrue(other.getMessage().contains("remembers s3://bucket/pg-backups/, not s3://other-bucket/pg-backups/"), other.getMessage());

        Files.writeString(file, "{\"something\": \"else\"}");
        assertEquals(Exit.CONFIG, assertThrows(Failure.class, () -> WatchedNames.read(file, "bucket", "pg-backups")).exitCode);
        Files.writeString(file, "not json");
        assertEquals(Exit.CONFIG, assertThrows(Failure.class, () -> WatchedNames.read(file, "bucket", "pg-backups")).exitCode);
        Files.writeString(file, "{\"formatVersion\": 99, \"bucket\": \"bucket\", \"prefix\": \"pg-backups\", \"names\": {}}");
        Failure newer = assertThrows(Failure.class, () -> WatchedNames.read(file, "bucket", "pg-backups"));
        assertTrue(newer.getMessage().contains("newer"), newer.getMessage());
    }

    @Test
    void theFailUrlKeepsItsQueryAndNoUrlIsEchoed() {
        assertEquals(URI.create("https://hc-ping.com/KEY/shop/fail?create=1"), Pings.fail(URI.create("https://hc-ping.com/KEY/shop?create=1")));
        assertEquals(URI.create("https://hc-ping.com/uuid/fail"), Pings.fail(URI.create("https://hc-ping.com/uuid/")));
        assertEquals("hc-ping.com", HttpPost.where(URI.create("https://hc-ping.com/KEY/shop")));
        Failure bad = assertThrows(Failure.class, () -> Pings.check(List.of("ftp://hc-ping.com/s3cretkey/{name}")));
        assertEquals(Exit.USAGE, bad.exitCode);
        assertFalse(bad.getMessage().contains("s3cretkey"), bad.getMessage());
    }

    @Test
    void annotationsCannotBeEndedOrForgedByAMessage() {
        String a = GitHubAnnotations.error("backup stale", "shop: 100% gone\n::warning::forged");
        assertEquals("::error title=backup stale::shop: 100%25 gone%0A::warning::forged", a);
        assertEquals("::warning title=a%3A b%2C c::x", GitHubAnnotations.warning("a: b, c", "x"));
    }

    /** A name with a complete backup (or none), as the judge makes it. */
    static BackupHealth health(String name, boolean hasBackup) {
        List<BackupListing.Entry> entries = hasBackup ? List.of(BackupHealthTest.complete(name, Duration.ofHours(3), 1000, false)) : List.of();
        return BackupHealth.judge(name, entries, List.of("listed"), e -> null, BackupHealthTest.DEFAULTS, BackupHealthTest.NOW);
    }
}
