package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedKvCache;
import io.pagedkv.cache.GroupedSequence;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

/**
 * The planner's sliding-layer bound against the cache that holds the blocks: a {@link MemoryPlan} of a
 * context of {@code T} tokens never counts fewer blocks per sliding layer than a {@link GroupedKvCache}
 * sequence holds between decode steps at any length up to {@code T}, and counts exactly
 * {@link LayerGroups#maxWindowBlocks} once the context is past the window.
 */
class SlidingWindowPlanTest {

    /** Blocks the plan counts per sliding layer for {@code tokens} (every layer of the shape slides). */
    static long plannedBlocks(MemoryPlan p, long tokens) {
        return p.cacheBytesPerRequest(tokens) / (p.shape().layers() * (long) p.blockSize() * p.bytesPerTokenPerLayer());
    }

    @Test
    void thePlanCountsWhatTheGroupedCacheHoldsBetweenStepsPerSlidingLayer() {
        int checked = 0;
        for (int block : new int[] {1, 2, 4, 16}) {
            for (int window : new int[] {1, 2, 3, 6, 8, 16, 17, 33}) {
                ModelShape shape = new ModelShape("sliding", 2, 1, 1, 8, window, AttentionPattern.SLIDING, 0);
                LayerGroups groups = LayerGroups.of(shape);
                MemoryPlan plan = new MemoryPlan(shape, KvDType.F32, block, WeightFormat.F16, 0, 1L << 40, 0, 1,
                        MemoryPlan.DEFAULT_PREFILL_CHUNK);
                int tokens = window + 4 * block + 3;
                try (GroupedKvCache cache = new GroupedKvCache(new CacheLayout(shape, KvDType.F32, block), groups,
                        tokens / block + 8)) {
                    GroupedSequence s = cache.openSequence();
                    int most = 0;
                    for (int t = 1; t <= tokens; t++) {
                        assertTrue(s.tryAppend(1));
                        s.releaseOutsideWindow(); // between steps
                        most = Math.max(most, s.blockCount(0));
                        long planned = plannedBlocks(plan, t);
                        String where = "window " + window + ", block " + block + ", " + t + " tokens";
                        assertTrue(planned >= most, where + ": planned " + planned + " < held " + most);
                        assertEquals(Math.min(Math.ceilDiv(t, block), groups.maxWindowBlocks(0, block)), planned, where);
                        if (block > 2 && (window % block == 0 || window % block > 2)) {
                            // otherwise the cache stays a block (two for blocks of 1 token) below its bound
                            assertEquals(most, planned, where + ": the bound is reached");
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 1000);
    }
}
