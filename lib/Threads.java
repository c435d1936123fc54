import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Background threads, one way: daemons (a stuck helper thread must never keep a finished run's JVM alive),
 * named for what they do so that a thread dump or the benchmark's per-thread CPU says who is who.
 */
final class Threads {
    /** Starts a daemon thread named {@code name}. */
    static Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A factory of daemon threads named name-1, name-2, ... for executors. */
    static ThreadFactory daemons(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private Threads() {}
}
