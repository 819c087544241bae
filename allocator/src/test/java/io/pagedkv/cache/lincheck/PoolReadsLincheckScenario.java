package io.pagedkv.cache.lincheck;

import io.pagedkv.cache.BlockPool;
import org.jetbrains.lincheck.datastructures.Operation;

/**
 * Few operations, so that model checking reaches the interleavings between a state change and the
 * lock-free reads quickly: allocate, free block 0, and the reads {@code refCount(0)},
 * {@code freeBlocks()}, {@code sharedBlocks()}.
 */
public class PoolReadsLincheckScenario {

    private final BlockPool pool = new BlockPool(BlockPoolLincheckTest.BLOCKS, 8, BlockPoolLincheckTest.BLOCKS);

    @Operation
    public int allocate() {
        return pool.allocate();
    }

    @Operation
    public String retain0() {
        try {
            pool.retain(0);
            return "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation
    public String release0() {
        try {
            return pool.release(0) ? "freed" : "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation
    public int refCount0() {
        return pool.refCount(0);
    }

    @Operation
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    @Operation
    public int sharedBlocks() {
        return pool.sharedBlocks();
    }
}
