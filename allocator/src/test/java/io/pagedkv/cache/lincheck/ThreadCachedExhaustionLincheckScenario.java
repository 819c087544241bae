package io.pagedkv.cache.lincheck;

import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.PoolThreading;
import org.jetbrains.lincheck.datastructures.Operation;

/**
 * Exhaustion with thread caches: a {@link PoolThreading#THREAD_CACHES} pool of 3 blocks with caches of 2,
 * so a thread's first allocation also refills one block into its cache. Allocations answer only
 * "ok" or "none" (which ids a thread gets depends on its cache, see
 * {@link ThreadCachedPoolLincheckScenario}): an allocation must answer "none" only when the pool as a
 * whole, caches included, has too few free blocks, and {@code freeBlocks()} counts the cached ones.
 */
public class ThreadCachedExhaustionLincheckScenario {

    private final BlockPool pool = BlockPool.builder(BlockPoolLincheckTest.BLOCKS, 8)
            .blocksPerChunk(BlockPoolLincheckTest.BLOCKS).threading(PoolThreading.THREAD_CACHES).threadCacheBlocks(2)
            .build();

    @Operation
    public String allocate() {
        return pool.allocate() == BlockPool.NO_BLOCK ? "none" : "ok";
    }

    @Operation
    public String allocateTwo() {
        return pool.allocate(2, new int[2]) ? "ok" : "none";
    }

    @Operation
    public int freeBlocks() {
        return pool.freeBlocks();
    }
}
