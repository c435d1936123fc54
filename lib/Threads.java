import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /**
     * Runs {@code tasks} on {@code threads} daemon threads named {@code name} (e.g. reads of small S3 objects, a few at
     * a time) and returns their results in the tasks' order. The first task, in that order, that fails fails the whole
     * as {@link Errors#classify} says (an S3 error keeps its exit code); the others are then cancelled. Interrupted:
     * "interrupted while {@code doing}", exit 1.
     */
    static <T> List<T> all(int threads, String name, String doing, List<? extends Callable<T>> tasks) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), daemons(name));
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) futures.add(pool.submit(task));
            List<T> results = new ArrayList<>(futures.size());
            for (Future<T> f : futures) results.add(f.get());
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(Exit.FAILED, "interrupted while " + doing);
        } catch (ExecutionException e) {
            throw Errors.classify(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private Threads() {}
}
