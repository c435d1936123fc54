import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Private libpq connection service files: how a child gets the secret keywords libpq reads from no environment
 * variable (sslpassword, oauth_client_secret, scram_client_key, scram_server_key; the password has PGPASSWORD).
 * The child is started with PGSERVICEFILE=FILE and PGSERVICE={@value #SERVICE}; libpq takes the file's values as
 * defaults for what the URL does not set, and the URL no longer holds them (ConnInfo took them out), so argv stays
 * clean. Each file is 0600 in a 0700 directory of this process, and lives until the JVM exits: libpq reads it at
 * every connection, including pg_restore --jobs workers that connect late. The directory is removed at exit; only
 * a SIGKILL leaves it behind, readable by nobody but its owner.
 */
final class ServiceFile {
    static final String SERVICE = "pgdump-s3";
    /** libpq before 16 reads a service file line into a 256-byte buffer; longer lines are an error there. */
    private static final int MAX_LINE = 250;
    private static Path dir;

    /**
     * A value libpq can read back exactly from a service file line: it strips the line's trailing whitespace and ends
     * it at the line break, so those cannot be represented. Refused as a usage error, naming only the keyword.
     */
    static void checkValue(String keyword, String value) {
        boolean representable = !value.isEmpty() && value.indexOf('\n') < 0 && value.indexOf('\r') < 0 && value.indexOf('\0') < 0
                && !Character.isWhitespace(value.charAt(value.length() - 1))
                && (keyword + "=" + value).getBytes(StandardCharsets.UTF_8).length <= MAX_LINE;
        if (!representable) {
            throw Failure.usage("the " + keyword + " in the database URL is empty, ends with a space, holds a line break or is longer than "
                    + (MAX_LINE - keyword.length() - 1) + " bytes: libpq cannot be given it outside the URL;"
                    + " put it into a service file of your own (PGSERVICEFILE, PGSERVICE) instead");
        }
    }

    /** Writes a new service file holding {@code params} (keyword to value), readable only by us. */
    static synchronized Path write(Map<String, String> params) {
        try {
            if (dir == null || !Files.isDirectory(dir)) {
                dir = Files.createTempDirectory("pgdump-s3-libpq-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Path created = dir;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(created), "delete-service-files"));
            }
            Path file = Files.createTempFile(dir, "service-", ".conf", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            StringBuilder text = new StringBuilder("[" + SERVICE + "]\n");
            for (Map.Entry<String, String> e : params.entrySet()) {
                checkValue(e.getKey(), e.getValue());
                text.append(e.getKey()).append('=').append(e.getValue()).append('\n');
            }
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new Failure(Exit.CONFIG, "cannot write a private libpq service file in " + System.getProperty("java.io.tmpdir") + ": " + e.getMessage()
                    + " (set TMPDIR / -Djava.io.tmpdir to a writable directory)", e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort at exit
        }
    }

    private ServiceFile() {}
}
