import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.concurrent.atomic.AtomicReference;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * A backup's table of contents read from S3 without downloading the backup: custom format puts the TOC first,
 * so we read the object from its start until the TOC ends (decrypting on the way when it is encrypted: age
 * authenticates each 64 KiB chunk, so the TOC read is authentic too) and abort the rest of the transfer. What
 * restore --list-contents shows, and what a selective restore checks the names against, before the download.
 */
final class RemoteToc {
    static ArchiveToc read(S3Client s3, String bucket, String key, Manifest.Encryption encryption, Age.Identities identities) {
        ResponseInputStream<GetObjectResponse> in;
        try {
            // "bytes=0-": the whole object, read only up to the TOC's end; the Range says so in logs (a download asks without one,
            // and resumes from an offset above 0).
            in = s3.getObject(b -> b.bucket(bucket).key(key).range("bytes=0-"));
        } catch (RuntimeException e) {
            throw Errors.classify(e);
        }
        try {
            if (encryption == null) return ArchiveToc.read(in);
            return decrypted(in, key, encryption, identities);
        } finally {
            in.abort(); // the rest of the object is not needed
            try {
                in.close();
            } catch (IOException | RuntimeException ignored) {
                // aborted
            }
        }
    }

    private static ArchiveToc decrypted(InputStream ciphertext, String key, Manifest.Encryption encryption, Age.Identities identities) {
        if (identities == null) throw new IllegalStateException("encrypted backup without identities");
        PipedInputStream plain = new PipedInputStream(1 << 20);
        PipedOutputStream sink;
        try {
            sink = new PipedOutputStream(plain);
        } catch (IOException e) {
            throw new Failure(Exit.FAILED, "cannot read the archive's table of contents: " + e.getMessage());
        }
        Age.Decrypting decrypting = new Age.Decrypting(sink, identities, "backup " + key, encryption.recipients());
        AtomicReference<RuntimeException> feedFailure = new AtomicReference<>();
        Thread feeder = Threads.start("toc-feed", () -> {
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = ciphertext.read(buf)) > 0; ) decrypting.write(buf, 0, n);
                decrypting.finish();
                sink.close();
            } catch (IOException | RuntimeException e) {
                feedFailure.set(e instanceof RuntimeException r ? r : new Failure(Exit.UNAVAILABLE, "reading the backup from S3 failed: " + e.getMessage()));
                try {
                    sink.close();
                } catch (IOException ignored) {
                    // the reader sees the end
                }
            }
        });
        try {
            return ArchiveToc.read(plain);
        } catch (Failure f) {
            RuntimeException first = feedFailure.get(); // a wrong key or a broken download says more than "cut short"
            if (first instanceof Failure ff) throw ff;
            throw f;
        } finally {
            try {
                plain.close();
            } catch (IOException ignored) {
                // closed
            }
            decrypting.close();
            feeder.interrupt();
        }
    }

    private RemoteToc() {}
}
