import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/** Files only their owner can read (0600): a dump holds the whole database, decrypted or not; a key file is the key. */
final class PrivateFile {
    static final FileAttribute<?> OWNER_ONLY = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /** A new private file; an existing one, or one that cannot be created, is a usage error (64). */
    static void create(Path file) {
        try {
            createFile(file);
        } catch (FileAlreadyExistsException e) {
            throw Failure.usage(file + " exists already: choose a new file name");
        } catch (IOException e) {
            throw Failure.usage("cannot create " + file + ": " + e.getMessage());
        }
    }

    /** A new file only its owner can read (0600), where the file system has POSIX permissions. */
    static void createFile(Path file) throws IOException {
        try {
            Files.createFile(file, OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
    }

    private PrivateFile() {}
}
