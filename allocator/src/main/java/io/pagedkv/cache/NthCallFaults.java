package io.pagedkv.cache;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link FaultInjector} that fails chosen calls counted from the moment it is armed: {@code
 * failAllocation(1)} makes the next pool allocation call answer "short", {@code failChunkCommit(2)} the
 * chunk commit after next fail with out-of-memory. Each arming fires once; {@code 0} disarms. Counts
 * every call it sees and every failure it injected, so a test knows whether its fault fired.
 *
 * <p>Thread-safe (atomic counters).
 */
public final class NthCallFaults implements FaultInjector {

    private final AtomicLong allocationCalls = new AtomicLong();
    private final AtomicLong chunkCommitCalls = new AtomicLong();
    private final AtomicLong injected = new AtomicLong();
    private volatile long allocationTarget;
    private volatile long chunkCommitTarget;

    /** An injector that fails nothing until armed. */
    public NthCallFaults() {
    }

    /**
     * Arms the {@code n}-th allocation call from now (1 = the next) to fail; {@code 0} disarms.
     *
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public NthCallFaults failNthAllocation(long n) {
        allocationTarget = n == 0 ? 0 : allocationCalls.get() + checkN(n);
        return this;
    }

    /**
     * Arms the {@code n}-th chunk commit from now (1 = the next) to fail; {@code 0} disarms.
     *
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public NthCallFaults failNthChunkCommit(long n) {
        chunkCommitTarget = n == 0 ? 0 : chunkCommitCalls.get() + checkN(n);
        return this;
    }

    private static long checkN(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 0; 1 = the next call, 0 = disarm)");
        }
        return n;
    }

    @Override
    public boolean failAllocation(int blocks) {
        long call = allocationCalls.incrementAndGet();
        if (call == allocationTarget) {
            injected.incrementAndGet();
            return true;
        }
        return false;
    }

    @Override
    public boolean failChunkCommit(int chunk) {
        long call = chunkCommitCalls.incrementAndGet();
        if (call == chunkCommitTarget) {
            injected.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Allocation calls seen so far. */
    public long allocationCalls() {
        return allocationCalls.get();
    }

    /** Chunk commits seen so far. */
    public long chunkCommitCalls() {
        return chunkCommitCalls.get();
    }

    /** Failures injected so far. */
    public long injectedFailures() {
        return injected.get();
    }

    @Override
    public String toString() {
        return "NthCallFaults[allocations=" + allocationCalls + ", chunkCommits=" + chunkCommitCalls
                + ", injected=" + injected + "]";
    }
}
