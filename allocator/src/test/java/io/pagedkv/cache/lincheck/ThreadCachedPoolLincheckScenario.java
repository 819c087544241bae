package io.pagedkv.cache.lincheck;

import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.PoolThreading;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;

/**
 * The operations of {@link BlockPoolLincheckTest} on a {@link PoolThreading#THREAD_CACHES} pool with
 * caches of 2 blocks. With thread caches, which free id an allocation gets depends on the thread (its
 * own cache first), while Lincheck's sequential specification (this class on one thread) is
 * deterministic; so the pool has one block, whose id every allocation must return: a block freed on
 * one thread sits in that thread's cache, and an allocation on another thread must take it from there
 * (or answer {@code -1} only when the block is really allocated). The sequential specification knows no
 * caches: linearizability means a cached block is free for every count and every allocation, and the
 * lock-free reads ({@code freeBlocks}, {@code refCount}, {@code sharedBlocks}) agree with the changes.
 * {@code allocateTwo} can never succeed here; {@link ThreadCachedExhaustionLincheckScenario} checks
 * all-or-nothing allocations on three blocks.
 */
@Param(name = "id", gen = IntGen.class, conf = "0:0")
public class ThreadCachedPoolLincheckScenario {

    private final BlockPool pool = BlockPool.builder(1, 8).threading(PoolThreading.THREAD_CACHES)
            .threadCacheBlocks(2).build();

    @Operation
    public int allocate() {
        return pool.allocate();
    }

    @Operation
    public String allocateTwo() {
        int[] out = new int[2];
        return pool.allocate(2, out) ? out[0] + "," + out[1] : "none";
    }

    @Operation
    public String retain(@Param(name = "id") int id) {
        try {
            pool.retain(id);
            return "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation
    public String release(@Param(name = "id") int id) {
        try {
            return pool.release(id) ? "freed" : "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation
    public String free(@Param(name = "id") int id) {
        try {
            pool.free(id);
            return "freed";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    @Operation
    public int refCount(@Param(name = "id") int id) {
        return pool.refCount(id);
    }

    @Operation
    public int sharedBlocks() {
        return pool.sharedBlocks();
    }
}
