package io.pagedkv.testfixtures;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;

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
}
