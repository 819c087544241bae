package io.pagedkv.testfixtures;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * The JVM's per-thread allocation counter, for the tests that hold a path to a number of heap bytes
 * (allocation is counted, never timed). Shared through the allocator's test jar.
 *
 * <p>Static helpers only; the counter they return is the JVM's, safe from any thread.
 */
public final class ThreadAllocation {

    private ThreadAllocation() {
    }

    /**
     * The counter, enabled; skips the calling test (a JUnit assumption, with the reason) on a JVM
     * without {@code com.sun.management.ThreadMXBean} or without per-thread allocation counting.
     */
    public static com.sun.management.ThreadMXBean counterOrSkip() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "needs com.sun.management.ThreadMXBean");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "per-thread allocation counter unsupported");
        threads.setThreadAllocatedMemoryEnabled(true);
        return threads;
    }

    /**
     * Repeats {@code round} until one allocates at most {@code limitBytes} or {@code maxWaitNanos} of
     * wall time have passed, and returns the last round's bytes: how a test waits for C2 before it
     * judges a path that boxes only until it is compiled (Vector API code). The bound is time, not a
     * count of rounds: 60 rounds of codec calls were over in 0.7-0.9 s, before C2 had compiled the Q8_0
     * encoder, and failed a path that allocates nothing once compiled. A path that allocates on every
     * call never reaches a clean round, so the caller's assertion on the returned bytes still fails.
     *
     * @param round runs the path and returns the bytes its measured part allocated
     */
    public static long lastRoundUntilAtMost(long limitBytes, long maxWaitNanos, LongSupplier round) {
        long deadline = System.nanoTime() + maxWaitNanos;
        long bytes;
        do {
            bytes = round.getAsLong();
        } while (bytes > limitBytes && System.nanoTime() - deadline < 0);
        return bytes;
    }
}
