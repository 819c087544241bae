package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The host tier's steady state allocates nothing per put or get (the promise of its class comment):
 * heap bytes allocated by this thread over 40,000 puts (half of them evicting) and 40,000 verified
 * gets, after a warm-up, measured with the JDK's per-thread allocation counter.
 */
class HostTierAllocationTest {

    @Test
    void putsAndGetsOfTheHostTierAllocateNothingInSteadyState() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "needs com.sun.management.ThreadMXBean");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        int keys = 64;
        BlockKey[] k = new BlockKey[keys];
        for (int i = 0; i < keys; i++) {
            k[i] = new BlockKey(3, i, 0);
        }
        int[] tokens = StoreModel.tokens(0);
        try (Arena arena = Arena.ofConfined(); HostMemoryStore store = new HostMemoryStore(32L * 1144, 16, 1024)) {
            MemorySegment payload = Blocks.payload(arena, 5, 1024);
            MemorySegment dst = arena.allocate(1024);
            run(store, k, tokens, payload, dst, 20_000); // warm up (class loading, JIT)
            long before = threads.getCurrentThreadAllocatedBytes();
            long hits = run(store, k, tokens, payload, dst, 40_000);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(hits > 0);
            assertEquals(32, store.stats().entries(), "full: 32 slots of 1,144 bytes for 64 keys");
            assertTrue(allocated < 4096, allocated + " bytes over 80,000 calls (expected: nothing in steady state; "
                    + "4 KiB of slack for the measuring itself)");
        }
    }

    /** Puts key i and gets key i - 16 (a hit while it is among the 32 youngest). */
    private static long run(HostMemoryStore store, BlockKey[] k, int[] tokens, MemorySegment payload,
            MemorySegment dst, int n) {
        long hits = 0;
        for (int i = 0; i < n; i++) {
            store.put(k[i % k.length], 0, tokens, 0, 4, payload);
            if (store.get(k[(i + k.length - 16) % k.length], 0, tokens, 0, 4, dst) > 0) {
                hits++;
            }
        }
        return hits;
    }
}
