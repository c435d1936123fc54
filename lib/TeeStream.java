import java.io.IOException;
import java.io.OutputStream;

/** Writes everything to two streams (the download into two pg_restore processes). */
final class TeeStream extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    TeeStream(OutputStream a, OutputStream b) {
        this.a = a;
        this.b = b;
    }

    @Override
    public void write(int x) throws IOException { write(new byte[] {(byte) x}, 0, 1); }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        a.write(buf, off, len);
        b.write(buf, off, len);
    }

    @Override
    public void flush() throws IOException {
        a.flush();
        b.flush();
    }
}
