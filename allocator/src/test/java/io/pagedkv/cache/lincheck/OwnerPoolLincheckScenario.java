package io.pagedkv.cache.lincheck;

import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.PoolThreading;
import org.jetbrains.lincheck.datastructures.Operation;

/**
 * An {@link PoolThreading#OWNER} pool of 3 blocks: the changes (and the owner's own reads) form one
 * non-parallel group, which Lincheck runs on one thread, the pool's owner (the first to change it);
 * other threads only read the free count, the one quantity a scheduler's monitor reads. Under
 * Lincheck's sequentially consistent interleavings a single such read is linearizable (the owner
 * changes it with one store); two reads of different quantities from another thread are not promised
 * to agree (see {@link BlockPool}, "Reads"), so they are not modelled here.
 */
public class OwnerPoolLincheckScenario {

    private final BlockPool pool = BlockPool.builder(BlockPoolLincheckTest.BLOCKS, 8)
            .blocksPerChunk(BlockPoolLincheckTest.BLOCKS).threading(PoolThreading.OWNER).build();

    @Operation(nonParallelGroup = "owner")
    public int allocate() {
        return pool.allocate();
    }

    @Operation(nonParallelGroup = "owner")
    public String allocateTwo() {
        int[] out = new int[2];
        return pool.allocate(2, out) ? out[0] + "," + out[1] : "none";
    }

    @Operation(nonParallelGroup = "owner")
    public String retain0() {
        try {
            pool.retain(0);
            return "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation(nonParallelGroup = "owner")
    public String release0() {
        try {
            return pool.release(0) ? "freed" : "ok";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation(nonParallelGroup = "owner")
    public String free1() {
        try {
            pool.free(1);
            return "freed";
        } catch (IllegalStateException e) {
            return "error";
        }
    }

    @Operation(nonParallelGroup = "owner")
    public int ownerRefCount0() {
        return pool.refCount(0);
    }

    @Operation
    public int freeBlocks() {
        return pool.freeBlocks();
    }
}
