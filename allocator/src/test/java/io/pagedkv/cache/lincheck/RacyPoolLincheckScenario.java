package io.pagedkv.cache.lincheck;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;

/** The Lincheck operations of {@link BlockPoolLincheckTest} over the broken {@link RacyBlockPool}. */
@Param(name = "id", gen = IntGen.class, conf = "0:2")
public class RacyPoolLincheckScenario {

    private final RacyBlockPool pool = new RacyBlockPool(BlockPoolLincheckTest.BLOCKS);

    @Operation
    public int allocate() {
        return pool.allocate();
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
    public int freeBlocks() {
        return pool.freeBlocks();
    }
}
