import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.UnsupportedRecipientStanzaException;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519KeyFactory;
import com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SignatureException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import javax.crypto.spec.SecretKeySpec;

/**
 * Client-side encryption with age (age-encryption.org/v1, X25519 recipients), through jagged, a maintained Java
 * implementation from Maven Central: no crypto of our own. Shared by backup (encrypts) and restore (decrypts).
 *
 * <p>The stored object is a standard age file: {@code age -d -i key.txt} decrypts it without this project, and
 * restore reads files the age CLI wrote. Both directions stream with bounded memory: age cuts the payload into
 * 64 KiB chunks, each authenticated on its own (ChaCha20-Poly1305), the last one flagged as last, so a flipped
 * byte, a truncation or a wrong key is detected, and no unauthenticated plaintext is ever passed on.
 *
 * <p>Private keys (identities) are never printed: nothing here puts one in a message, and {@link Identities}
 * shows only public keys.
 */
final class Age {
    static final String SCHEME = "age";
    /** backup: recipients, comma-separated (public keys: fine in a repository variable). */
    static final String RECIPIENTS_ENV = "BACKUP_AGE_RECIPIENTS";
    /** restore: the private key itself, as a secret (GitHub Actions secrets are values, not files). */
    static final String IDENTITY_ENV = "BACKUP_AGE_IDENTITY";

    private static final String SECRET_PREFIX = "AGE-SECRET-KEY-1";
    private static final Pattern RECIPIENT = Pattern.compile("age1[02-9ac-hj-np-z]{58}");
    private static final Pattern SPLIT = Pattern.compile("[,\\s]+");

    /**
     * Checks and normalises recipients (X25519 public keys, {@code age1...}); comma- or space-separated values
     * are split. A usage error names the bad one, unless it looks like a private key: that is never echoed.
     */
    static List<String> recipients(List<String> given) {
        Set<String> out = new LinkedHashSet<>();
        for (String value : given == null ? List.<String>of() : given) {
            if (value == null) continue;
            for (String r : SPLIT.split(value.strip())) {
                if (r.isEmpty()) continue;
                if (r.toUpperCase(Locale.ROOT).startsWith("AGE-SECRET-KEY-")) {
                    throw Failure.usage("an age PRIVATE key was given as a recipient (--encrypt-to/" + RECIPIENTS_ENV + "): give its public key (age1...),"
                            + " and keep the private key away from the machine that makes backups; consider this one exposed and make a new pair");
                }
                String lower = r.toLowerCase(Locale.ROOT);
                if (r.startsWith("ssh-")) {
                    throw Failure.usage("SSH keys are not supported as recipients; give an age X25519 public key (age1...): restore keygen makes one");
                }
                if (!RECIPIENT.matcher(lower).matches() || !r.equals(lower) && !r.equals(r.toUpperCase(Locale.ROOT))) {
                    throw Failure.usage("invalid age recipient '" + r + "': expected an X25519 public key, age1 followed by 58 characters"
                            + " (restore keygen or age-keygen prints one)");
                }
                try {
                    X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(lower);
                } catch (GeneralSecurityException | RuntimeException e) {
                    throw Failure.usage("invalid age recipient '" + r + "' (" + e.getMessage() + "): check it was copied whole");
                }
                out.add(lower);
            }
        }
        return List.copyOf(out);
    }

    /**
     * An InputStream of the age encryption of {@code plaintext} to {@code recipients}, for a reader that pulls
     * (backup's part uploader). No thread: each read that finds nothing buffered encrypts the next 64 KiB of
     * plaintext, so memory stays at two chunks. {@code plainTap} sees every plaintext byte (backup's TOC count).
     */
    static Encrypting encrypting(InputStream plaintext, List<String> recipients, Tap plainTap) {
        try {
            List<RecipientStanzaWriter> writers = new ArrayList<>();
            for (String r : recipients) writers.add(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(r));
            return new Encrypting(plaintext, writers, plainTap);
        } catch (GeneralSecurityException | IOException e) {
            throw new Failure(Exit.CONFIG, "cannot set up age encryption: " + e.getMessage(), e);
        }
    }

    interface Tap { void bytes(byte[] buf, int off, int len); }

    static final class Encrypting extends InputStream {
        private static final int CHUNK = 64 * 1024;
        private final InputStream plain;
        private final Tap tap;
        private final byte[] in = new byte[CHUNK];
        private final Pending out = new Pending();
        private final WritableByteChannel channel;
        private boolean ended;
        private long plaintextBytes;

        private Encrypting(InputStream plain, List<RecipientStanzaWriter> writers, Tap tap) throws GeneralSecurityException, IOException {
            this.plain = plain;
            this.tap = tap;
            this.channel = new StandardEncryptingChannelFactory().newEncryptingChannel(out, writers); // writes the header into out
        }

        /** Plaintext bytes read so far (the dump's own size). */
        long plaintextBytes() { return plaintextBytes; }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            while (out.size() == 0) {
                if (ended) return -1;
                int n = plain.read(in, 0, in.length);
                if (n < 0) {
                    ended = true;
                    channel.close(); // encrypts the last chunk, flagged as last
                } else if (n > 0) {
                    if (tap != null) tap.bytes(in, 0, n);
                    plaintextBytes += n;
                    channel.write(ByteBuffer.wrap(in, 0, n));
                }
            }
            return out.take(b, off, len);
        }
    }

    /** What the encrypting channel wrote and the reader has not taken yet: at most the header plus one chunk. */
    private static final class Pending implements WritableByteChannel {
        private byte[] buf = new byte[80 * 1024];
        private int start;
        private int end;
        private boolean open = true;

        int size() { return end - start; }

        int take(byte[] b, int off, int len) {
            int n = Math.min(len, size());
            System.arraycopy(buf, start, b, off, n);
            start += n;
            if (start == end) start = end = 0;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            if (end + n > buf.length) {
                byte[] bigger = new byte[Math.max(buf.length * 2, size() + n)];
                System.arraycopy(buf, start, bigger, 0, size());
                end = size();
                start = 0;
                buf = bigger;
            }
            src.get(buf, end, n);
            end += n;
            return n;
        }

        @Override
        public boolean isOpen() { return open; }

        @Override
        public void close() { open = false; }
    }

    // ------------------------------------------------------------------------------------------ identities

    /** Private keys for decryption. Never printed: toString and every message show only their public keys. */
    static final class Identities {
        private final List<RecipientStanzaReader> readers;
        private final List<String> publicKeys;
        private final String source;

        private Identities(List<RecipientStanzaReader> readers, List<String> publicKeys, String source) {
            this.readers = readers;
            this.publicKeys = publicKeys;
            this.source = source;
        }

        /** The matching public keys (age1...), for messages. */
        List<String> publicKeys() { return publicKeys; }

        /** Where they came from: "--identity FILE" or the environment variable. */
        String source() { return source; }

        @Override
        public String toString() { return "age identities from " + source + " (public keys " + String.join(", ", publicKeys) + ")"; }

        /** Reads an identity file as age-keygen writes it: AGE-SECRET-KEY-1... lines, # comments and blank lines ignored. */
        static Identities read(Path file) {
            String text;
            try {
                if (!Files.isRegularFile(file)) throw Failure.usage("--identity " + file + " is not a file");
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw Failure.usage("cannot read --identity " + file + ": " + e.getClass().getSimpleName());
            }
            return parse(text, "--identity " + file);
        }

        /** Parses identities from text (a file's content, or the environment variable holding the key itself). */
        static Identities parse(String text, String source) {
            List<RecipientStanzaReader> readers = new ArrayList<>();
            List<String> publics = new ArrayList<>();
            int lineNo = 0;
            for (String raw : text.split("\r?\n")) {
                lineNo++;
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                String where = source + (text.strip().contains("\n") ? " line " + lineNo : "");
                if (line.startsWith("-----BEGIN AGE ENCRYPTED FILE-----") || line.startsWith("age-encryption.org/")) {
                    throw Failure.usage(where + ": a passphrase-protected identity file is not supported: decrypt it first (age -d) into a 0600 file");
                }
                if (line.startsWith("ssh-") || line.startsWith("-----BEGIN")) {
                    throw Failure.usage(where + ": SSH keys are not supported; use an age X25519 identity (AGE-SECRET-KEY-1..., from restore keygen or age-keygen)");
                }
                if (!line.toUpperCase(Locale.ROOT).startsWith(SECRET_PREFIX)) {
                    // Never echo the line: it may be a mangled private key.
                    throw Failure.usage(where + ": not an age identity (expected a line AGE-SECRET-KEY-1..., as age-keygen writes;"
                            + (line.startsWith("age1") ? " that is a public key, the restore needs the private key" : " lines starting with # are comments") + ")");
                }
                try {
                    readers.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(line));
                    publics.add(publicKeyOf(line));
                } catch (GeneralSecurityException | RuntimeException e) {
                    // No cause attached and no library message: they could quote part of the key.
                    throw Failure.usage(where + ": the age identity is damaged (its checksum does not match): check it was copied whole");
                }
            }
            if (readers.isEmpty()) throw Failure.usage(source + " holds no age identity (a line AGE-SECRET-KEY-1..., as age-keygen writes)");
            return new Identities(List.copyOf(readers), List.copyOf(publics), source);
        }
    }

    /** The recipient (public key) of an identity, as {@code age-keygen -y} prints it. */
    static String publicKeyOf(String identity) throws GeneralSecurityException {
        byte[] encoded = identity.strip().getBytes(StandardCharsets.US_ASCII);
        try {
            return new X25519KeyFactory().translateKey(new SecretKeySpec(encoded, "X25519")).toString();
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    /** A new X25519 key pair. toString shows the public key only. */
    record KeyPair(String identity, String recipient) {
        @Override
        public String toString() { return "age key pair, public key " + recipient; }

        /** The identity file, in age-keygen's format (so the age CLI reads it too). */
        String file(Instant created) {
            return "# created: " + created.truncatedTo(ChronoUnit.SECONDS) + "\n# public key: " + recipient + "\n" + identity + "\n";
        }
    }

    static KeyPair generate() {
        try {
            java.security.KeyPair pair = new X25519KeyPairGenerator().generateKeyPair();
            // jagged's keys render as their Bech32 text: AGE-SECRET-KEY-1... and age1...
            return new KeyPair(pair.getPrivate().toString(), pair.getPublic().toString());
        } catch (GeneralSecurityException e) {
            throw new Failure(Exit.CONFIG, "cannot generate an X25519 key pair with this Java: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------ decryption

    /**
     * An OutputStream that takes ciphertext (the download, as it arrives) and writes the plaintext to {@code plain}.
     * jagged decrypts by pulling from a channel, the download pushes: a worker thread pulls from a small queue
     * (at most {@value #QUEUED} writes, a few MiB) and writes only authenticated chunks on. A decryption failure
     * stops the download at the next write; {@link #finish()} waits for the last chunk and throws what failed.
     * Failures are exit 65 (wrong key, not an age file, damaged or altered), except a plaintext sink that cannot
     * be written (exit 1).
     */
    static final class Decrypting extends OutputStream {
        private static final int QUEUED = 16;
        private static final byte[] EOF = new byte[0];
        private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUED);
        private final AtomicReference<Failure> failure = new AtomicReference<>();
        private final Thread worker;
        private volatile boolean aborted;
        private boolean closed;

        /**
         * @param what       what is decrypted, for messages ("backup NAME_...dump")
         * @param recipients the recipients the manifest lists, for the wrong-key message (may be empty)
         */
        Decrypting(OutputStream plain, Identities identities, String what, List<String> recipients) {
            this.worker = new Thread(() -> run(plain, identities, what, recipients == null ? List.of() : recipients), "age-decrypt");
            worker.setDaemon(true);
            worker.start();
        }

        @Override
        public void write(int b) { write(new byte[] {(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) {
            if (closed) throw new IllegalStateException("closed");
            if (len == 0) return;
            put(Arrays.copyOfRange(b, off, off + len));
        }

        private void put(byte[] chunk) {
            try {
                while (!queue.offer(chunk, 200, TimeUnit.MILLISECONDS)) {
                    throwIfFailed();
                    if (!worker.isAlive()) throw new Failure(Exit.FAILED, "the age decryption stopped unexpectedly");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure(Exit.FAILED, "interrupted while decrypting");
            }
            throwIfFailed();
        }

        @Override
        public void flush() { throwIfFailed(); }

        private void throwIfFailed() {
            Failure f = failure.get();
            if (f != null) throw f;
        }

        /** After the last ciphertext byte: waits until every chunk is decrypted and written; throws the failure if any. */
        void finish() {
            if (!closed) {
                put(EOF);
                closed = true;
            }
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failure(Exit.FAILED, "interrupted while decrypting");
            }
            throwIfFailed();
        }

        /** Stops the worker without a verdict (the download failed): nothing more is written on. */
        @Override
        public void close() {
            if (!worker.isAlive()) return;
            aborted = true;
            worker.interrupt();
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void run(OutputStream plain, Identities identities, String what, List<String> recipients) {
            InputStream ciphertext = new InputStream() {
                private byte[] current = new byte[0];
                private int pos;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) return 0;
                    while (current != EOF && pos == current.length) {
                        try {
                            current = queue.take();
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException("decryption stopped");
                        }
                        pos = 0;
                    }
                    if (current == EOF) return -1;
                    int n = Math.min(len, current.length - pos);
                    System.arraycopy(current, pos, b, off, n);
                    pos += n;
                    return n;
                }
            };
            long chunk = 0;
            try (ReadableByteChannel channel = new StandardDecryptingChannelFactory().newDecryptingChannel(Channels.newChannel(ciphertext), identities.readers)) {
                ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                while (channel.read(buf) >= 0) {
                    buf.flip();
                    try {
                        plain.write(buf.array(), 0, buf.limit());
                    } catch (IOException e) {
                        failure.compareAndSet(null, new Failure(Exit.FAILED, "cannot write the decrypted dump: " + e.getMessage(), e));
                        return;
                    }
                    buf.clear();
                    chunk++;
                }
                try {
                    plain.flush();
                } catch (IOException e) {
                    failure.compareAndSet(null, new Failure(Exit.FAILED, "cannot write the decrypted dump: " + e.getMessage(), e));
                }
            } catch (Exception e) {
                if (aborted) return; // the download failed: its own error is the one reported
                failure.compareAndSet(null, e instanceof GeneralSecurityException gse ? headerFailure(gse, identities, what, recipients)
                        : e instanceof IOException ? new Failure(Exit.DATA_INVALID, what + " is damaged or was altered: age authentication failed"
                                + (chunk > 0 ? " after " + Progress.size(chunk * 64 * 1024) + " of plaintext" : " at its start")
                                + "; choose another backup (restore list)", e)
                        : new Failure(Exit.DATA_INVALID, what + " cannot be decrypted: " + e, e));
            } finally {
                queue.clear(); // unblocks a writer; later writes see the failure
            }
        }

        /** Why the age header could not be read with these identities; all are exit 65. */
        private static Failure headerFailure(GeneralSecurityException e, Identities identities, String what, List<String> recipients) {
            List<Throwable> all = new ArrayList<>();
            all.add(e);
            all.addAll(Arrays.asList(e.getSuppressed()));
            boolean notAge = all.stream().anyMatch(t -> t.getClass().getSimpleName().equals("HeaderDecodingException"));
            boolean headerMac = all.stream().anyMatch(t -> t instanceof SignatureException);
            boolean noX25519 = all.stream().allMatch(t -> t instanceof UnsupportedRecipientStanzaException && String.valueOf(t.getMessage()).contains("Stanzas not found"));
            String keys = String.join(", ", identities.publicKeys()) + " (" + identities.source() + ")";
            String yours = "your key" + (identities.publicKeys().size() == 1 ? " is " : "s are ") + keys;
            if (notAge) {
                return new Failure(Exit.DATA_INVALID, what + " is not a readable age file (" + e.getMessage() + "): its header is damaged,"
                        + " or it was not encrypted with age; choose another backup (restore list)");
            }
            if (headerMac) {
                return new Failure(Exit.DATA_INVALID, what + " was altered: its age header fails authentication; choose another backup (restore list)");
            }
            if (identities.publicKeys().stream().anyMatch(recipients::contains)) {
                return new Failure(Exit.DATA_INVALID, "cannot decrypt " + what + ": its age header is damaged or was altered (your key " + keys
                        + " is one of its recipients); choose another backup (restore list)");
            }
            if (noX25519) {
                return new Failure(Exit.DATA_INVALID, what + " is encrypted to no X25519 recipient (a passphrase or an SSH key?), which restore cannot decrypt;"
                        + " decrypt it with the age CLI and run pg_restore on the result");
            }
            return new Failure(Exit.DATA_INVALID, "cannot decrypt " + what + ": wrong key: it was encrypted to "
                    + (recipients.isEmpty() ? "other recipients" : String.join(", ", recipients)) + ", " + yours
                    + "; give the private key of one of its recipients with --identity FILE or " + IDENTITY_ENV);
        }
    }

    private Age() {}
}
