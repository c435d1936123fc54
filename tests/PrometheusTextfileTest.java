import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus textfile: what it says per name, checked with a strict parser of the exposition format
 * (tests/support/PrometheusTextParser), which is itself shown to reject each broken form; and the atomic replacement.
 */
class PrometheusTextfileTest {
    static final java.time.Instant NOW = BackupHealthTest.NOW;

    static List<BackupHealth> fleet() {
        BackupListing.Entry okBackup = BackupHealthTest.complete("shop", Duration.ofHours(3), 123_456, true);
        BackupHealth ok = BackupHealth.judge("shop", List.of(BackupHealthTest.complete("shop", Duration.ofDays(1).plusHours(3), 120_000, false), okBackup),
                List.of("listed"), e -> BackupHealthTest.passed(e), BackupHealthTest.DEFAULTS, NOW);
        BackupHealth stale = BackupHealth.judge("billing", List.of(BackupHealthTest.complete("billing", Duration.ofDays(3), 5000, false)), List.of("listed"),
                e -> null, BackupHealthTest.DEFAULTS, NOW);
        BackupHealth missing = BackupHealth.judge("ghost", List.of(), List.of("expected"), e -> null, BackupHealthTest.DEFAULTS, NOW);
        return List.of(stale, missing, ok);
    }

    @Test
    void theFileParsesAndSaysWhatTheCheckFound() {
        List<BackupHealth> healths = fleet();
        String text = PrometheusTextfile.render("my-bucket", "team/pg", healths, NOW, Duration.ofMillis(2500));
        Map<String, PrometheusTextParser.Family> families = PrometheusTextParser.parse(text, true);
        for (PrometheusTextParser.Family f : families.values()) {
            assertEquals("gauge", f.type, f.name);
            assertTrue(f.help != null && !f.help.isBlank(), "HELP for " + f.name);
            assertTrue(f.name.startsWith("pgdump_s3_"), f.name);
        }
        assertEquals((double) NOW.getEpochSecond(), only(families, "pgdump_s3_check_timestamp_seconds", null).value());
        assertEquals(2.5, only(families, "pgdump_s3_check_duration_seconds", null).value());
        assertEquals(3.0, only(families, "pgdump_s3_check_names", null).value());
        assertEquals(3 * 3600.0, only(families, "pgdump_s3_backup_newest_age_seconds", "shop").value());
        assertEquals(3 * 86400.0, only(families, "pgdump_s3_backup_newest_age_seconds", "billing").value());
        assertEquals(3 * 3600.0, only(families, "pgdump_s3_backup_verified_age_seconds", "shop").value());
        assertEquals(123_456.0, only(families, "pgdump_s3_backup_size_bytes", "shop").value());
        assertEquals(120_000.0, only(families, "pgdump_s3_backup_median_size_bytes", "shop").value());
        // No age, size or proof where there is none: absent, not 0 (which would read as "just now").
        assertTrue(families.get("pgdump_s3_backup_newest_age_seconds").samples.stream().noneMatch(s -> s.labels().get("name").equals("ghost")));
        assertTrue(families.get("pgdump_s3_backup_verified_age_seconds").samples.stream().noneMatch(s -> s.labels().get("name").equals("billing")));

        // The verdict: one series per verdict and name, exactly one of them 1.
        Map<String, String> verdicts = new LinkedHashMap<>();
        for (PrometheusTextParser.Sample s : families.get("pgdump_s3_backup_verdict").samples) {
            assertEquals(Map.of("bucket", "my-bucket", "prefix", "team/pg"), Map.of("bucket", s.labels().get("bucket"), "prefix", s.labels().get("prefix")));
            if (s.value() == 1) assertEquals(null, verdicts.put(s.labels().get("name"), s.labels().get("verdict")), "one current verdict per name");
            else assertEquals(0.0, s.value());
        }
        assertEquals(Map.of("billing", "stale", "ghost", "missing", "shop", "ok"), verdicts);
        assertEquals(3 * BackupHealth.Verdict.values().length, families.get("pgdump_s3_backup_verdict").samples.size());
        assertEquals(0.0, only(families, "pgdump_s3_backup_problems", "shop").value());
        assertTrue(only(families, "pgdump_s3_backup_problems", "billing").value() >= 1);
    }

    static PrometheusTextParser.Sample only(Map<String, PrometheusTextParser.Family> families, String metric, String name) {
        PrometheusTextParser.Family f = families.get(metric);
        assertTrue(f != null, metric + " in " + families.keySet());
        List<PrometheusTextParser.Sample> found = f.samples.stream().filter(s -> name == null || name.equals(s.labels().get("name"))).toList();
        assertEquals(1, found.size(), metric + " " + name + ": " + found);
        return found.get(0);
    }

    /** Label values and HELP text with the characters the format escapes come back as they were. */
    @Test
    void escapingRoundTrips() {
        String nasty = "a\"b\\c\nd}e,f=g";
        String help = "Help with \\ and \nmore";
        String text = "# HELP m " + PrometheusTextfile.escapeHelp(help) + "\n# TYPE m gauge\n" + "m{l=\"" + PrometheusTextfile.escapeLabel(nasty) + "\"} 1\n";
        PrometheusTextParser.Family f = PrometheusTextParser.parse(text, true).get("m");
        assertEquals(nasty, f.samples.get(0).labels().get("l"));
        assertEquals(help, f.help);
        assertEquals("3600", PrometheusTextfile.number(3600));
        assertEquals("2.5", PrometheusTextfile.number(2.5));
        assertEquals("NaN", PrometheusTextfile.number(Double.NaN));
    }

    /** The parser is live: each rule of the format, broken once, is refused. */
    @Test
    void theParserRefusesEachBrokenForm() {
        String good = "# HELP a_x An x.\n# TYPE a_x gauge\na_x{n=\"1\"} 1\na_x{n=\"2\"} 2\n# TYPE b gauge\nb 3\n";
        PrometheusTextParser.parse(good, true);
        Map<String, String> broken = new LinkedHashMap<>();
        broken.put("no final line feed", good.substring(0, good.length() - 1));
        broken.put("TYPE after samples", good + "# TYPE b gauge\n");
        broken.put("family not together", good + "a_x{n=\"3\"} 3\n");
        broken.put("duplicate series", good.replace("n=\"2\"", "n=\"1\""));
        broken.put("second HELP", good.replace("# TYPE a_x gauge\n", "# TYPE a_x gauge\n# HELP a_x Again.\n"));
        broken.put("unknown type", good.replace("gauge\nb", "gage\nb"));
        broken.put("bad escape in a label value", good.replace("n=\"2\"", "n=\"\\t\""));
        broken.put("unquoted label value", good.replace("n=\"2\"", "n=2"));
        broken.put("label twice", good.replace("n=\"2\"", "n=\"2\",n=\"3\""));
        broken.put("reserved label name", good.replace("n=\"2\"", "__n=\"2\""));
        broken.put("bad metric name", good + "9c 1\n");
        broken.put("bad value", good.replace("b 3", "b three"));
        broken.put("timestamp in a textfile", good.replace("b 3", "b 3 1700000000000"));
        broken.put("bad HELP escape", good.replace("An x.", "An \\x."));
        for (var e : broken.entrySet()) {
            assertThrows(PrometheusTextParser.FormatException.class, () -> PrometheusTextParser.parse(e.getValue(), true), e.getKey() + ":\n" + e.getValue());
        }
        PrometheusTextParser.parse(good.replace("b 3", "b 3 1700000000000"), false); // timestamps are the format's; only the textfile refuses them
    }

    /**
     * Replaced, not rewritten: a hard link to the old file (what a reader holding it open sees) keeps the old content
     * whole, the new file is a new inode with the new content, and no temporary file is left behind.
     */
    @Test
    void theFileIsReplacedAtomically(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgdump-s3.prom");
        List<BackupHealth> healths = fleet();
        String first = PrometheusTextfile.render("b1", "p", healths, NOW, Duration.ZERO);
        PrometheusTextfile.write(file, first);
        Path held = dir.resolve("held-by-a-reader");
        Files.createLink(held, file);
        Object inode = Files.getAttribute(file, "unix:ino");

        String second = PrometheusTextfile.render("b2", "p", healths.subList(0, 1), NOW.plusSeconds(3600), Duration.ZERO);
        PrometheusTextfile.write(file, second);
        assertEquals(first, Files.readString(held, StandardCharsets.UTF_8), "the old file was changed in place");
        assertEquals(second, Files.readString(file, StandardCharsets.UTF_8));
        assertFalse(inode.equals(Files.getAttribute(file, "unix:ino")), "the same inode: rewritten, not replaced");
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), "readable by node_exporter");
        try (var files = Files.list(dir)) {
            assertEquals(List.of("held-by-a-reader", "pgdump-s3.prom"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        // A directory that does not exist: a configuration error naming the file, nothing written.
        Failure f = assertThrows(Failure.class, () -> PrometheusTextfile.write(dir.resolve("no-such-dir/x.prom"), second));
        assertEquals(Exit.CONFIG, f.exitCode);
        assertTrue(f.getMessage().contains("--prometheus") && f.getMessage().contains("x.prom"), f.getMessage());
    }
}
