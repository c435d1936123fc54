import java.io.IOException;
import java.io.OutputStream;

/**
 * A sink that stops writing, without failing the download, once the reading process has gone away
 * (pg_restore stopping early on an error): the download still ends with its checksum verdict.
 */
final class TolerantStream extends OutputStream {
    private final OutputStream out;
    private boolean broken;

    TolerantStream(OutputStream out) { this.out = out; }

    boolean broken() { return broken; }

    @Override
    public void write(int b) { write(new byte[] {(byte) b}, 0, 1); }

    @Override
    public void write(byte[] b, int off, int len) {
        if (broken) return;
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            broken = true;
        }
    }

    @Override
    public void flush() {
        if (broken) return;
        try {
            out.flush();
        } catch (IOException e) {
            broken = true;
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            broken = true;
        }
    }
}
