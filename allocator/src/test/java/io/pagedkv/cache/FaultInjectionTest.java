package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/** The fault injector fires exactly on the armed call, and an injected allocation failure changes nothing. */
class FaultInjectionTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.F32, 4);

    @Test
    void theArmedAllocationCallFailsOnceAndOnlyIt() {
        NthCallFaults faults = new NthCallFaults().failNthAllocation(3);
        try (BlockPool pool = new BlockPool(8, 64, 8, faults)) {
            assertNotEquals(BlockPool.NO_BLOCK, pool.allocate());
            assertTrue(pool.allocate(2, new int[2]));
            int free = pool.freeBlocks();
            assertEquals(BlockPool.NO_BLOCK, pool.allocate(), "third call fails although blocks are free");
            assertEquals(free, pool.freeBlocks(), "an injected failure changes nothing");
            assertNotEquals(BlockPool.NO_BLOCK, pool.allocate(), "fires once");
            assertEquals(4, faults.allocationCalls());
            assertEquals(1, faults.injectedFailures());
        }
    }

    @Test
    void negativeArmingIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new NthCallFaults().failNthAllocation(-1));
        assertThrows(IllegalArgumentException.class, () -> new NthCallFaults().failNthChunkCommit(-2));
    }

    @Test
    void builderRejectsACodecTogetherWithScales() {
        KvScales scales = KvScales.uniform(1, 1, 1f, 1f);
        CacheLayout fp8 = new CacheLayout(ModelShape.of("tiny", 1, 2, 1, 8), KvDType.FP8_E4M3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PagedKvCache.builder(fp8, 4)
                .codec(io.pagedkv.dtype.KvCodecs.of(KvDType.FP8_E4M3)).scales(scales).build());
        assertTrue(e.getMessage().contains("both set"), e.getMessage());
    }
}
