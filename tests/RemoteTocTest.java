import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** A backup's TOC read from the start of the S3 object (plain and age-encrypted), without downloading the backup. */
class RemoteTocTest {
    @Test
    void readsTheTocFromTheObjectsStartPlainAndEncrypted() throws Exception {
        PgServer pg = PgServer.get();
        S3Server s3 = S3Server.get();
        String src = SampleDatabase.create(pg, "remotetoc");
        byte[] dump = TestBackups.dump(pg, src);
        ArchiveToc local = ArchiveToc.read(new java.io.ByteArrayInputStream(dump));
        String bucket = s3.createBucket("remotetoc");
        TestBackups.putObject(bucket, "pg-backups/x/plain.dump", dump);

        Age.KeyPair key = Age.generate();
        Path dir = Files.createTempDirectory("remotetoc");
        Path plain = dir.resolve("p.dump"), enc = dir.resolve("p.age");
        Files.write(plain, dump);
        Proc.run(List.of("age", "-r", key.recipient(), "-o", enc.toString(), plain.toString()), java.util.Map.of(), 60);
        TestBackups.putObject(bucket, "pg-backups/x/enc.dump", Files.readAllBytes(enc));

        try (S3Client c = s3.s3()) {
            ArchiveToc remote = RemoteToc.read(c, bucket, "pg-backups/x/plain.dump", null, null);
            assertEquals(ids(local), ids(remote));
            ArchiveToc decrypted = RemoteToc.read(c, bucket, "pg-backups/x/enc.dump", new Manifest.Encryption("age", List.of(key.recipient())),
                    Age.Identities.parse(key.identity(), "test key"));
            assertEquals(ids(local), ids(decrypted));
            assertTrue(decrypted.entries.stream().anyMatch(e -> e.tag().equals("Täbelle ✓") && "Ünïcødé schema".equals(e.namespace())));
            Age.KeyPair other = Age.generate();
            Failure wrong = org.junit.jupiter.api.Assertions.assertThrows(Failure.class, () -> RemoteToc.read(c, bucket, "pg-backups/x/enc.dump",
                    new Manifest.Encryption("age", List.of(key.recipient())), Age.Identities.parse(other.identity(), "other key")));
            assertEquals(Exit.DATA_INVALID, wrong.exitCode, wrong.getMessage());
        }
    }

    private static List<String> ids(ArchiveToc toc) {
        return toc.entries.stream().map(e -> e.dumpId() + " " + e.desc() + " " + e.namespace() + " " + e.tag()).toList();
    }
}
