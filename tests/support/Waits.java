import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting for a condition in tests that drive a running script: polled, bounded, and cut short when the script ends first. */
final class Waits {
    /** Polls {@code condition} every 100 ms for up to 90 s; fails when {@code run} (may be null) ends first, saying how. */
    static void until(String what, CompletableFuture<?> run, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!condition.getAsBoolean()) {
            if (run != null && run.isDone()) throw new AssertionError("the run ended before " + what + ": " + run.join());
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    private Waits() {}
}
