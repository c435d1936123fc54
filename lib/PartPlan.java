import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part size of one upload, fixed for all its parts and chosen before the dump starts. Fixed because Cloudflare R2
 * refuses a multipart upload whose non-trailing parts differ in size ("All non-trailing parts must have the same
 * length", at completion, after the whole dump was sent); every other store accepts equal parts too.
 *
 * <p>Planned from what the server says about the database: {@code pg_database_size} times {@value #SAFETY} over S3's
 * {@value #MAX_PARTS} parts, rounded up to a whole MiB, never below {@value #PLANNED_MIN_MIB} MiB and never above
 * {@value #MAX_MIB} MiB. A custom-format dump is usually far smaller than the database on disk (no indexes, no free
 * space, compressed); the factor covers what makes it larger: TOAST-compressed values written out whole, bytea written
 * in hex, --compress none. --part-size overrides the plan.
 *
 * <p>Memory: the upload holds at most 3 part buffers per database being dumped (buffers grow with the data, so a small
 * dump stays small whatever the part size): at most 3 × 1 GiB = 3 GiB of heap at the largest part size, times --jobs.
 * Why 1 GiB and not S3's 5 GiB: a part is one Java array (at most 2 GiB), and three 5 GiB buffers would need a 15 GiB
 * heap. 10,000 parts of 1 GiB still hold a dump of 9.8 TiB.
 */
record PartPlan(long partSize, boolean explicit, long databaseBytes) {
    static final int MAX_PARTS = 10_000;
    static final int SAFETY = 4;
    static final long MIB = 1L << 20;
    static final int PLANNED_MIN_MIB = 8;
    static final int MAX_MIB = 1024;
    /** S3's minimum part size: the smallest --part-size. */
    static final long S3_MIN = 5 * MIB;
    static final long PLANNED_MIN = PLANNED_MIN_MIB * MIB;
    static final long MAX = MAX_MIB * MIB;
    /** When the database's size cannot be read: 32 MiB parts hold 312 GiB. */
    static final long UNKNOWN_SIZE_PART = 32 * MIB;

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);

    /**
     * Test knob, not a user feature: PGDUMP_S3_TEST_MIN_PART_SIZE (bytes) lowers the smallest --part-size below S3's
     * 5 MiB, so that a test can send thousands of parts to an emulator configured to accept them. Unset or invalid: 5 MiB.
     */
    static final long MIN = minimum(System.getenv("PGDUMP_S3_TEST_MIN_PART_SIZE"));

    static long minimum(String value) {
        try {
            long v = value == null ? S3_MIN : Long.parseLong(value.strip());
            return v > 0 && v <= S3_MIN ? v : S3_MIN;
        } catch (NumberFormatException e) {
            return S3_MIN;
        }
    }

    /** --part-size: "auto" (or blank) gives null, the plan decides; else "8MiB", "16M", "5242880" (binary units), 5 MiB to 1 GiB. */
    static Long parse(String text) {
        if (text == null || text.isBlank() || text.strip().equalsIgnoreCase("auto")) return null;
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) throw Failure.usage("invalid --part-size '" + text + "': auto, or a size such as 8MiB, 64MiB");
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; default -> 0; };
        long value;
        try {
            value = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw Failure.usage("invalid --part-size '" + text + "'");
        }
        if (value < MIN || value > MAX) throw Failure.usage("--part-size must be between 5MiB (S3's minimum) and 1GiB, not " + text);
        return value;
    }

    /** The plan for a database of {@code databaseBytes} on disk (negative: unknown), or the given --part-size. */
    static PartPlan of(Long partSize, long databaseBytes) {
        if (partSize != null) return new PartPlan(partSize, true, databaseBytes);
        if (databaseBytes < 0) return new PartPlan(UNKNOWN_SIZE_PART, false, databaseBytes);
        return new PartPlan(planned(databaseBytes), false, databaseBytes);
    }

    /** pg_database_size × SAFETY over 10,000 parts, rounded up to a whole MiB, between 8 MiB and 1 GiB. */
    static long planned(long databaseBytes) {
        long need = ceilDiv(saturatingTimes(databaseBytes, SAFETY), MAX_PARTS);
        return Math.max(PLANNED_MIN, Math.min(MAX, ceilDiv(need, MIB) * MIB));
    }

    /** What the server says about the database: pg_database_size, or -1 when it will not say (the plan then warns). */
    static long databaseSize(PsqlSession session) {
        PsqlSession.Reply r = session.run("select 'size=' || pg_database_size(current_database());");
        try {
            return r.ok() && r.value("size") != null ? Long.parseLong(r.value("size").strip()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Said before the dump starts, or null: when 3 parts of this size need more than {@code share} of Java's maximum heap
     * (the heap divided among the databases dumped at once). Buffers grow only as far as the dump fills them, so a
     * small dump of a large database may never need them: a warning, not a failure.
     */
    String memoryWarning(long maxHeap, int concurrent) {
        long need = saturatingTimes(partSize, 3);
        long share = maxHeap / Math.max(1, concurrent) * 3 / 4;
        if (need <= share) return null;
        long heapMiB = ceilDiv(saturatingTimes(need, Math.max(1, concurrent)) * 4 / 3, MIB) + 256;
        return "the upload may hold 3 parts of " + Progress.size(partSize) + " per database" + (concurrent > 1 ? " (" + concurrent + " at once)" : "")
                + " and Java's heap is " + Progress.size(maxHeap) + ": if it runs out, set JAVA_TOOL_OPTIONS=-Xmx" + heapMiB + "m"
                + (concurrent > 1 ? " or lower --jobs" : "");
    }

    /** The largest dump this plan can store: 10,000 parts. */
    long capacity() { return partSize * MAX_PARTS; }

    /** Whether part {@code partNumber} (1-based) is beyond S3's limit: the dump outgrew the plan. */
    static boolean beyondLimit(int partNumber) { return partNumber > MAX_PARTS; }

    /**
     * Said before the dump starts, or null: an explicit --part-size too small for the database as planned, or a
     * database too large for any part size.
     */
    String warning() {
        if (databaseBytes < 0) {
            return explicit ? null : "the database's size could not be read: parts of " + Progress.size(partSize) + " hold a dump of up to "
                    + Progress.size(capacity()) + "; set --part-size for a larger one";
        }
        long wanted = saturatingTimes(databaseBytes, SAFETY);
        if (wanted <= capacity()) return null;
        if (explicit && partSize < MAX) {
            return "--part-size " + Progress.size(partSize) + " holds a dump of up to " + Progress.size(capacity()) + " in S3's 10,000 parts and the database is "
                    + Progress.size(databaseBytes) + " on disk: if its dump is larger the backup fails when it gets there; --part-size auto would use "
                    + Progress.size(planned(databaseBytes));
        }
        return "the database is " + Progress.size(databaseBytes) + " on disk: a dump larger than " + Progress.size(capacity())
                + " (10,000 parts of 1 GiB) cannot be stored as one S3 object";
    }

    /**
     * The failure when pg_dump has written more than 10,000 parts hold: raised before part 10,001 is sent (S3 would
     * refuse it), naming a --part-size with room for twice the dump so far.
     */
    Failure outgrown(long bytesSoFar) {
        String what = "the dump outgrew its part plan: " + Progress.size(bytesSoFar) + " written, more than S3's 10,000 parts of " + Progress.size(partSize)
                + (explicit ? " (--part-size)" : databaseBytes < 0 ? "" : " (planned for a database of " + Progress.size(databaseBytes) + " on disk)") + " hold";
        if (partSize >= MAX) return new Failure(Exit.FAILED, what + "; a dump this large cannot be stored as one S3 object: exclude table data (-- --exclude-table-data=...)");
        return new Failure(Exit.FAILED, what + "; run it again with --part-size " + suggestion(bytesSoFar) + "; upload aborted, no backup written");
    }

    /** Twice this part size, or more if more than that was written, as a --part-size value (whole MiB, at most 1 GiB). */
    String suggestion(long bytesSoFar) {
        long need = Math.max(saturatingTimes(partSize, 2), ceilDiv(saturatingTimes(bytesSoFar, 3) / 2, MAX_PARTS));
        return Math.min(MAX_MIB, ceilDiv(need, MIB)) + "MiB";
    }

    private static long ceilDiv(long a, long b) { return a <= 0 ? 0 : (a - 1) / b + 1; }

    private static long saturatingTimes(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
