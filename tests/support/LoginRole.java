import java.util.UUID;

/**
 * A throwaway login role for a test class (a backup's role that is not a superuser): a unique name, and a password
 * with URL-special characters (encoded in {@link #url}) registered as a secret, so SecretScanTest looks for it in
 * everything the suite captured. {@link #close} drops it.
 */
record LoginRole(PgServer pg, String name, String password) implements AutoCloseable {
    static LoginRole create(PgServer pg, String label) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        LoginRole r = new LoginRole(pg, label + "_" + suffix, Secrets.register(label + " p@ss:w/?#&%'" + suffix));
        pg.sql("postgres", "create role " + r.name + " login password '" + r.password.replace("'", "''") + "'");
        return r;
    }

    /** A URL for this role to {@code database} on {@code host}:{@code port}. */
    String url(String host, int port, String database) {
        return "postgresql://" + name + ":" + ConnInfo.encode(password) + "@" + host + ":" + port + "/" + database;
    }

    /** A URL for this role to {@code database} on the server. */
    String url(String database) { return url(pg.host, pg.port, database); }

    @Override
    public void close() { pg.sql("postgres", "drop role if exists " + name); }
}
