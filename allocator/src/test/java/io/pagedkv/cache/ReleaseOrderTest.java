package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/**
 * The order in which freed blocks come back: {@link BlockPool#releaseAll} puts a released table back so
 * that the next allocations hand it out in the table's own order, in every threading mode, whether the
 * next taker allocates one block at a time (decode) or all at once (prefill). A sequence's blocks taken
 * from a fresh pool are ascending in memory, so the request that follows a finished one walks its blocks
 * forward in memory too (the attention kernel reads a forward run of blocks faster than a backward one:
 * {@code DecodeAttentionBenchmark} {@code layout=recycled}).
 */
class ReleaseOrderTest {

    /**
     * Up to 40 ids, past a thread cache's default 32: under {@code LOCKED} and {@code OWNER} every table comes
     * back in order. Under {@code THREAD_CACHES} only a table the releasing thread's cache can take (here up
     * to 16 ids): a larger one goes to the shared stack, and the thread's next allocations take the ids its
     * cache still holds first (the cache's purpose), so the order is not kept for those.
     */
    private static int[] sizes(PoolThreading mode) {
        return mode == PoolThreading.THREAD_CACHES ? new int[] {1, 8, 16} : new int[] {1, 8, 40};
    }

    @Test
    void releaseAllHandsTheIdsBackInTheCallersOrderToSingleAllocations() {
        roundTripsInOrder(false);
    }

    @Test
    void releaseAllHandsTheIdsBackInTheCallersOrderToOneBulkAllocation() {
        roundTripsInOrder(true);
    }

    /** In every mode and size: take n ids, release them in one call, take n again: the same ids in the same order. */
    private static void roundTripsInOrder(boolean bulk) {
        for (PoolThreading mode : PoolThreading.values()) {
            for (int n : sizes(mode)) {
                try (BlockPool pool = BlockPool.builder(64, 16).threading(mode).build()) {
                    int[] first = take(pool, n, bulk);
                    assertEquals(n, pool.releaseAll(first, n), mode + ", " + n + " blocks: all freed");
                    assertArrayEquals(first, take(pool, n, bulk), mode + ", " + n + " blocks, bulk " + bulk);
                }
            }
        }
    }

    private static int[] take(BlockPool pool, int n, boolean bulk) {
        int[] ids = new int[n];
        if (bulk) {
            assertTrue(pool.allocate(n, ids));
        } else {
            for (int i = 0; i < n; i++) {
                ids[i] = pool.allocate();
            }
        }
        return ids;
    }

    @Test
    void theSequenceAfterAClosedOneGetsItsBlocksInTheSameAscendingOrder() {
        CacheLayout layout = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 4);
        try (PagedKvCache cache = new PagedKvCache(layout, 64)) {
            int blocks = 20;
            int[] firstTable = new int[blocks];
            try (Sequence earlier = cache.openSequence()) {
                for (int b = 0; b < blocks; b++) {
                    earlier.append(4); // decode-like growth: one block at a time
                }
                for (int b = 0; b < blocks; b++) {
                    firstTable[b] = earlier.blockId(b);
                }
            }
            for (int b = 1; b < blocks; b++) {
                assertTrue(firstTable[b] > firstTable[b - 1], "a fresh pool hands out ascending ids: " + firstTable[b - 1]
                        + " then " + firstTable[b]);
            }
            try (Sequence next = cache.openSequence()) {
                for (int b = 0; b < blocks; b++) {
                    next.append(4);
                }
                for (int b = 0; b < blocks; b++) {
                    assertEquals(firstTable[b], next.blockId(b), "block " + b + " of the next sequence");
                }
            }
        }
    }
}
