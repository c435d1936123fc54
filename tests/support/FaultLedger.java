import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Counts the fault and bad-input tests of the suite for the summary printed before its final line (issue 9):
 * a test class annotated {@code @ExtendWith(FaultLedger.class)} counts each of its tests as one fault tried
 * (survived when the test passed), or, for a class whose name contains "BadInput", as one bad input tried
 * (rejected cleanly when the test passed).
 */
final class FaultLedger implements TestWatcher {
    record Entry(boolean badInput, String name, boolean ok) {}

    private static final List<Entry> ENTRIES = new CopyOnWriteArrayList<>();
    private static final AtomicBoolean HOOKED = new AtomicBoolean();

    @Override
    public void testSuccessful(ExtensionContext context) { add(context, true); }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) { add(context, false); }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) { add(context, false); }

    private static void add(ExtensionContext context, boolean ok) {
        String cls = context.getRequiredTestClass().getSimpleName();
        ENTRIES.add(new Entry(cls.contains("BadInput"), cls + "." + context.getDisplayName(), ok));
        if (HOOKED.compareAndSet(false, true)) TestRunner.AT_END.add(FaultLedger::print);
    }

    static List<Entry> entries() { return List.copyOf(ENTRIES); }

    static String summary() {
        long faults = ENTRIES.stream().filter(e -> !e.badInput()).count();
        long survived = ENTRIES.stream().filter(e -> !e.badInput() && e.ok()).count();
        long inputs = ENTRIES.stream().filter(Entry::badInput).count();
        long rejected = ENTRIES.stream().filter(e -> e.badInput() && e.ok()).count();
        StringBuilder sb = new StringBuilder("Fault suite: " + faults + " faults injected, " + survived + " survived (full recovery, or a clean error"
                + " with nothing lost); " + inputs + " bad inputs tried, " + rejected + " rejected cleanly (the exit code of design.md, nothing changed).");
        for (Entry e : ENTRIES) if (!e.ok()) sb.append("\n  NOT survived: ").append(e.name());
        return sb.toString();
    }

    private static void print() {
        if (!ENTRIES.isEmpty()) System.out.println(summary());
    }
}
