import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which server and database a connection reaches, by identity rather than by how a URL spells the host, so that a
 * restore never writes over the database its backup came from (docs/architecture.md#safety-rules): the cluster's
 * {@code system_identifier} (pg_control_system(), when the role may run it) and the database's OID; else the
 * addresses the host names resolve to, and the port. {@code localhost} and {@code 127.0.0.1}, a CNAME and its
 * target, a DNS name that moved to another address: all are told apart or recognised by what they reach.
 *
 * <p>Neon's host names are the exception to comparing addresses: every endpoint of a region resolves to the same
 * proxy, which routes by the name (the endpoint ID), so there the name is the identity ({@code -pooler} and the
 * direct name being the same endpoint).
 *
 * @param systemIdentifier pg_control_system().system_identifier, null when this role may not read it
 * @param serverAddress    the address the server answered on (inet_server_addr()), null over a Unix socket
 */
record ServerIdentity(String systemIdentifier, Long databaseOid, String database, String serverAddress, Integer serverPort) {

    static final int DEFAULT_PORT = 5432;

    /** Reads the identity of {@code conn}'s server and database (two small queries; no superuser needed). */
    static ServerIdentity of(PgTools.Tool psql, ConnInfo conn) {
        JsonNode row;
        try {
            row = Json.MAPPER.readTree(PgTools.query(psql, conn, "select json_build_object('oid', d.oid, 'db', current_database(),"
                    + " 'addr', host(inet_server_addr()), 'port', inet_server_port(),"
                    + " 'control', has_function_privilege('pg_catalog.pg_control_system()', 'execute'))"
                    + " from pg_catalog.pg_database d where d.datname = current_database()"));
        } catch (IOException e) {
            throw new Failure(Exit.FAILED, "cannot read the identity of the server at " + conn.host() + ": " + e.getMessage());
        }
        String sid = null;
        if (row.path("control").asBoolean(false)) {
            // Not in the query above: a subquery on pg_control_system() fails on permissions even where CASE would skip it.
            sid = PgTools.query(psql, conn, "select system_identifier::text from pg_catalog.pg_control_system()").strip();
            if (sid.isEmpty()) sid = null;
        }
        return new ServerIdentity(sid, row.path("oid").isNull() ? null : row.path("oid").asLong(), row.path("db").asText(null),
                row.path("addr").isNull() ? null : row.path("addr").asText(), row.path("port").isNull() ? null : row.path("port").asInt());
    }

    /**
     * How we know {@code target} (with this identity) is the database {@code m} was dumped from, or null when it is not.
     * The same cluster (system identifier; else the same address and port) and the same database (its OID, which a
     * rename keeps, or its name).
     */
    static String sameAsSource(Manifest m, ConnInfo target, ServerIdentity t) {
        Manifest.Source s = m.source();
        String sourceDb = s != null && s.database() != null ? s.database() : m.database();
        if (sourceDb == null) return null;
        String sameServer;
        if (s != null && s.systemIdentifier() != null && t.systemIdentifier() != null) {
            if (!s.systemIdentifier().equals(t.systemIdentifier())) return null; // another cluster, whatever its name or address
            sameServer = "the same server (system identifier " + s.systemIdentifier() + ")";
        } else {
            List<Endpoint> source = endpoints(s != null && s.host() != null ? s.host() : m.host(), s == null ? null : s.port());
            List<Endpoint> reached = new ArrayList<>(endpoints(target.host(), portParam(target)));
            if (t.serverAddress() != null && t.serverPort() != null) reached.add(new Endpoint(t.serverAddress(), t.serverPort()));
            Endpoint match = firstMatch(source, reached);
            if (match == null) return null;
            sameServer = "the same server (" + match.host() + ":" + match.port() + ")";
        }
        if (s != null && s.databaseOid() != null && t.databaseOid() != null && s.databaseOid().equals(t.databaseOid())) {
            return sameServer + " and the same database (OID " + s.databaseOid() + (sourceDb.equals(t.database()) ? "" : ", since renamed to " + t.database()) + ")";
        }
        return sourceDb.equals(t.database()) ? sameServer + " and the same database name" : null;
    }

    /** One host and port; {@code host} lowercased, without brackets or a trailing dot. */
    record Endpoint(String host, int port) {}

    /** "h1:5432,[::1]:5433,h2" (as libpq and manifests write it), ports defaulting to {@code port} or 5432. */
    static List<Endpoint> endpoints(String spec, Integer port) {
        List<Endpoint> out = new ArrayList<>();
        if (spec == null) return out;
        int fallback = port != null ? port : DEFAULT_PORT;
        for (String part : spec.split(",")) {
            String p = part.strip().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) continue;
            String host = p;
            String portText = null;
            if (p.startsWith("[")) {
                int close = p.indexOf(']');
                host = close > 0 ? p.substring(1, close) : p;
                if (close > 0 && p.length() > close + 2 && p.charAt(close + 1) == ':') portText = p.substring(close + 2);
            } else if (p.indexOf(':') == p.lastIndexOf(':') && p.indexOf(':') > 0) {
                host = p.substring(0, p.indexOf(':'));
                portText = p.substring(p.indexOf(':') + 1);
            }
            if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
            int n = fallback;
            try {
                if (portText != null && !portText.isEmpty()) n = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                // keep the default: an unreadable port in an old manifest
            }
            out.add(new Endpoint(host, n));
        }
        return out;
    }

    /** The first source endpoint that any reached endpoint is: same port, and the same name or an address in common. */
    static Endpoint firstMatch(List<Endpoint> source, List<Endpoint> reached) {
        for (Endpoint a : source) {
            for (Endpoint b : reached) {
                if (a.port() != b.port()) continue;
                if (neon(a.host()) || neon(b.host())) {
                    if (neonEndpoint(a.host()).equals(neonEndpoint(b.host()))) return a;
                    continue;
                }
                if (a.host().equals(b.host())) return a;
                Set<String> common = addresses(a.host());
                common.retainAll(addresses(b.host()));
                if (!common.isEmpty()) return a;
            }
        }
        return null;
    }

    /**
     * What a host name reaches: its addresses, every loopback address and Unix socket directory counting as one
     * ("local": the same machine, told apart by port). A name that does not resolve stands for itself.
     */
    static Set<String> addresses(String host) {
        Set<String> out = new HashSet<>();
        if (host.startsWith("/") || host.startsWith("@")) {
            out.add("local");
            return out;
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) out.add(a.isLoopbackAddress() ? "local" : a.getHostAddress());
        } catch (UnknownHostException | SecurityException e) {
            out.add("name:" + host);
        }
        return out;
    }

    private static boolean neon(String host) { return host.endsWith(".neon.tech"); }

    /** Neon's -pooler endpoint is the same database as the direct one (their naming rule). */
    private static String neonEndpoint(String host) { return host.replaceFirst("^([^.]+)-pooler\\.", "$1."); }

    private static Integer portParam(ConnInfo c) {
        String p = c.param("port");
        if (p == null || p.isBlank() || p.contains(",")) return null;
        try {
            return Integer.parseInt(p.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
