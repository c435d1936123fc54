import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The --databases-file format: NAME=URL or URL per line, and no line that may hold a URL is ever echoed. */
class FleetFileTest {
    @Test
    void fleetFile() {
        List<BackupTarget> targets = FleetFile.parse(List.of(
                "# production",
                "  app=postgresql://u:p@h1/app?sslmode=require  ",
                "",
                "postgresql://u@h2/Sales%20DB",
                "neon=${NEON_URL}"), "fleet.txt", Map.of("NEON_URL", "postgresql://u:pw@ep-x.aws.neon.tech/neondb?sslmode=require&channel_binding=require"));
        assertEquals(3, targets.size());
        assertEquals("app", targets.get(0).name());
        assertEquals("app", targets.get(0).conn().database());
        assertEquals(null, targets.get(1).name()); // named later, after its database
        assertEquals("Sales DB", targets.get(1).conn().database());
        assertEquals("neon", targets.get(2).name());
        assertEquals("postgresql://u@ep-x.aws.neon.tech/neondb?sslmode=require&channel_binding=require", targets.get(2).conn().withoutPassword());

        for (List<String> bad : List.of(List.of("just words"), List.of("Bad Name=postgresql://u@h/db"), List.of("x=${UNSET_VAR}"),
                List.of("x=mysql://u:secret@h/db"), List.of("# only a comment"))) {
            Failure f = assertThrows(Failure.class, () -> FleetFile.parse(bad, "fleet.txt", Map.of()), bad.toString());
            assertEquals(Exit.USAGE, f.exitCode);
            assertTrue(!f.getMessage().contains("secret"), f.getMessage());
        }
    }

    /** The forms a fleet line arrives in from editors and secret stores: a BOM, quotes, spaces around '='. */
    @Test
    void fleetFileForgivesBomAndQuotes() {
        List<BackupTarget> targets = FleetFile.parse(List.of(
                "\uFEFFapp=postgresql://u:pw@h1/app",
                "\"postgresql://u:pw@h2/sales\"",
                "neon = 'postgresql://u:pw@ep-x.aws.neon.tech/neondb?sslmode=require'",
                "crm=\"${CRM_URL}\""), "fleet.txt", Map.of("CRM_URL", "postgresql://u:pw@h3/crm"));
        assertEquals(List.of("app", "-", "neon", "crm"), targets.stream().map(t -> t.name() == null ? "-" : t.name()).toList());
        assertEquals(List.of("postgresql://u@h1/app", "postgresql://u@h2/sales", "postgresql://u@ep-x.aws.neon.tech/neondb?sslmode=require", "postgresql://u@h3/crm"),
                targets.stream().map(t -> t.conn().withoutPassword()).toList());
    }

    /**
     * Lines that may hold a URL, in any form the parser does not take: never echoed, never made into a name
     * suggestion (the old "e.g." was the password lowercased), whatever the error.
     */
    @Test
    void fleetLinesThatMayHoldAUrlAreNeverEchoed() {
        String secret = "Zq9-Xylo%Vex";
        for (String line : List.of("jdbc:postgresql://app:" + secret + "@host/db?sslmode=require", "postgresql//app:" + secret + "@host/db?sslmode=require",
                "app:" + secret + "@host/db", "\"jdbc:postgresql://app:" + secret + "@host/db\"", secret + "@host/db?sslmode=require",
                "x=postgresql://app:" + secret + "@host/db?sslmdoe=require", "x=postgresql://app:" + secret + "@host:0/db",
                "app " + secret + " = postgresql://u@h/db")) {
            Failure f = assertThrows(Failure.class, () -> FleetFile.parse(List.of(line), "fleet.txt", Map.of()), line);
            assertEquals(Exit.USAGE, f.exitCode, line);
            String m = f.getMessage().toLowerCase(java.util.Locale.ROOT);
            assertTrue(m.startsWith("fleet.txt line 1: "), m);
            assertTrue(!m.contains("xylo") && !m.contains("vex") && !m.contains("host/") && !m.contains("e.g."), "from the line in: " + f.getMessage());
        }
    }
}
