import java.io.IOException;
import java.io.OutputStream;

/** Holds back the last {@code tail} bytes written until {@link #release()}: see {@link TargetRestore#streaming}. */
final class HoldBackStream extends OutputStream {
    static final int TAIL = 64 * 1024;
    private final OutputStream out;
    private final byte[] tail;
    private int held;

    HoldBackStream(OutputStream out, int tail) {
        this.out = out;
        this.tail = new byte[tail];
    }

    @Override
    public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (held + len <= tail.length) {
            System.arraycopy(b, off, tail, held, len);
            held += len;
            return;
        }
        int excess = held + len - tail.length;       // bytes that may go now, oldest first
        int fromTail = Math.min(excess, held);
        out.write(tail, 0, fromTail);
        int fromNew = excess - fromTail;
        out.write(b, off, fromNew);
        System.arraycopy(tail, fromTail, tail, 0, held - fromTail);
        held -= fromTail;
        System.arraycopy(b, off + fromNew, tail, held, len - fromNew);
        held += len - fromNew;
    }

    @Override
    public void flush() throws IOException { out.flush(); }

    void release() throws IOException {
        out.write(tail, 0, held);
        held = 0;
        out.flush();
    }

    @Override
    public void close() throws IOException { out.close(); }
}
