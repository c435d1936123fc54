///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
// C1 only and the serial GC: the proxy shares the cores with what it measures, and C2 would spend seconds compiling.
//JAVA_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
// A TCP proxy that adds network latency, for bench/run.sh's MODE=parallel (a remote database, e.g. Neon across regions).
//
//   jbang bench/LatencyProxy.java LISTEN_PORT TARGET_HOST:PORT RTT_MS WINDOW_BYTES      (or: java bench/LatencyProxy.java ...)
//   e.g. jbang bench/LatencyProxy.java 6543 127.0.0.1:5432 20 1048576
//
// Why not tc netem: it needs the sch_netem kernel module (absent on this machine's kernel: "Specified qdisc kind is
// unknown") and root in a network namespace; this runs anywhere, as any user, and only the connections made to it see
// the latency. What it models, per connection and per direction:
//  - one-way delay RTT/2 for every chunk, pipelined: a chunk read at t is written at t + RTT/2 whatever is queued ahead
//    of it (a link's propagation delay, not a queue that serialises);
//  - at most WINDOW bytes in flight: a chunk's bytes count from when they are read until RTT/2 after they were written
//    (the acknowledgement's way back), so one connection moves at most WINDOW / RTT bytes per second, like TCP with that
//    window. That is what makes a single-connection pg_dump from a remote server slow, and N connections ~N times faster.
// Request/response exchanges (psql, libpq's protocol) pay one RTT each, as they would.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class LatencyProxy {
    private static final int CHUNK = 256 * 1024; // fewer, larger chunks: each costs thread wake-ups, and the proxy shares the cores
    private static final ScheduledExecutorService ACKS = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "acks"));
    private static final AtomicInteger CONNECTIONS = new AtomicInteger();

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: LatencyProxy LISTEN_PORT TARGET_HOST:PORT RTT_MS WINDOW_BYTES");
            System.exit(64);
        }
        int listen = Integer.parseInt(args[0]);
        String host = args[1].substring(0, args[1].lastIndexOf(':'));
        int port = Integer.parseInt(args[1].substring(args[1].lastIndexOf(':') + 1));
        long oneWayNanos = Math.round(Double.parseDouble(args[2]) * 1e6 / 2);
        int window = Integer.parseInt(args[3]);
        if (window < 1) throw new IllegalArgumentException("WINDOW_BYTES must be positive");
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("127.0.0.1", listen));
            System.err.printf("LatencyProxy: 127.0.0.1:%d -> %s:%d, RTT %s ms, window %d bytes per direction%n", listen, host, port, args[2], window);
            while (true) {
                SocketChannel client = server.accept();
                int id = CONNECTIONS.incrementAndGet();
                daemon(() -> {
                    try {
                        SocketChannel target = SocketChannel.open(new InetSocketAddress(host, port));
                        for (SocketChannel c : new SocketChannel[] {client, target}) c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        AtomicInteger finished = new AtomicInteger();
                        Direction up = new Direction(client, target, oneWayNanos, window, finished);
                        Direction down = new Direction(target, client, oneWayNanos, window, finished);
                        up.start("up-" + id);
                        down.start("down-" + id);
                    } catch (IOException e) {
                        close(client);
                    }
                }, "connect-" + id).start();
            }
        }
    }

    /**
     * One direction of one connection: a reader that stamps chunks, a writer that releases them on time. Direct
     * buffers, reused: the bytes are copied only by the kernel, in and out (the proxy shares the cores it measures).
     */
    private static final class Direction {
        private record Chunk(ByteBuffer data, long due) {}

        private static final Chunk EOF = new Chunk(null, 0);
        private final SocketChannel from;
        private final SocketChannel to;
        private final ConcurrentLinkedQueue<ByteBuffer> spare = new ConcurrentLinkedQueue<>();
        private final long delay;
        private final int window;
        private final Semaphore inFlight;
        private final LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        private final AtomicInteger finished; // directions of this connection that have passed their end on

        Direction(SocketChannel from, SocketChannel to, long delayNanos, int window, AtomicInteger finished) {
            this.finished = finished;
            this.from = from;
            this.to = to;
            this.delay = delayNanos;
            this.window = window;
            this.inFlight = new Semaphore(window);
        }

        void start(String name) {
            daemon(this::read, name + "-read").start();
            daemon(this::write, name + "-write").start();
        }

        private void read() {
            try {
                while (true) {
                    int room = Math.min(CHUNK, window);
                    inFlight.acquire(room); // wait for window, then read at most what it allows
                    ByteBuffer buf = spare.poll();
                    if (buf == null) buf = ByteBuffer.allocateDirect(CHUNK);
                    buf.clear().limit(room);
                    int n = from.read(buf); // what has arrived, up to room: one chunk
                    if (n < 0) {
                        inFlight.release(room);
                        break;
                    }
                    inFlight.release(room - n);
                    queue.put(new Chunk(buf.flip(), System.nanoTime() + delay));
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended: the writer closes both sides after what is queued
            }
            queue.add(EOF);
        }

        private void write() {
            try {
                while (true) {
                    Chunk c = queue.take();
                    if (c == EOF) break;
                    long wait = c.due() - System.nanoTime();
                    if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                    int n = c.data().remaining();
                    while (c.data().hasRemaining()) to.write(c.data());
                    spare.offer(c.data());
                    if (delay > 0) ACKS.schedule(() -> inFlight.release(n), delay, TimeUnit.NANOSECONDS);
                    else inFlight.release(n);
                }
                to.shutdownOutput(); // pass the half-close on, after every queued byte
                if (finished.incrementAndGet() < 2) return; // the other direction still flows
            } catch (IOException | InterruptedException e) {
                // a reset or an error: the whole connection goes
                inFlight.release(window); // a reader waiting for window wakes up and finds the channel closed
            }
            close(from);
            close(to);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void close(SocketChannel s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
