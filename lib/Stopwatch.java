/** Elapsed time, one way: monotonic (System.nanoTime, immune to clock changes), reported in seconds. */
final class Stopwatch {
    private final long start = System.nanoTime();

    static Stopwatch start() { return new Stopwatch(); }

    /** Seconds since start, full precision. */
    double seconds() { return (System.nanoTime() - start) / 1e9; }

    /** Seconds since start, rounded to hundredths: what reports and JSON documents show. */
    double rounded() { return Math.round(seconds() * 100) / 100.0; }

    private Stopwatch() {}
}
