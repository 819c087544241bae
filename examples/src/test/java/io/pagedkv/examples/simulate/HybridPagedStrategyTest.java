package io.pagedkv.examples.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedSequence;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import io.pagedkv.workload.TraceRequest;
import org.junit.jupiter.api.Test;

/** The hybrid layout over the real grouped cache: the sliding group stops growing at its window. */
class HybridPagedStrategyTest {

    /** Gemma-2-like: 4 layers alternating sliding (window 64) and global. */
    private static final ModelShape SHAPE = new ModelShape("alt-64", 4, 4, 2, 64, 64,
            AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0);
    private static final CacheLayout LAYOUT = new CacheLayout(SHAPE, KvDType.Q8_0, 16);
    private static final LayerGroups GROUPS = LayerGroups.of(SHAPE);

    private static SimRequest request(int id, int prompt, int output) {
        return new SimRequest(new TraceRequest(id, id, 0, prompt, output, output, 0, null));
    }

    @Test
    void theSlidingGroupHoldsAtMostTheWindowsBlocksWhileTheGlobalGroupHoldsAll() {
        long groupBlock = GROUPS.groupLayout(LAYOUT).bytesPerBlock();
        assertEquals(LAYOUT.bytesPerBlock(), 2 * groupBlock, "a group block holds half the layers");
        try (HybridPagedStrategy s = new HybridPagedStrategy(LAYOUT, GROUPS, 100 * groupBlock)) {
            SimRequest r = request(1, 300, 50);
            assertEquals(0, s.admit(r));
            r.admitted(0);
            GroupedSequence seq = s.sequenceOf(r);
            int bound = GROUPS.maxWindowBlocks(0, 16);
            assertEquals(300, seq.length());
            assertEquals(19, seq.blockCount(1), "global: ceil(300 / 16)");
            assertTrue(seq.blockCount(0) <= bound, seq.blockCount(0) + " sliding blocks > " + bound);
            for (int i = 0; i < 50; i++) {
                assertTrue(s.append(r));
                r.generatedOne();
                assertTrue(seq.blockCount(0) <= bound, seq.blockCount(0) + " sliding blocks > " + bound);
            }
            assertEquals(22, seq.blockCount(1), "global: ceil(350 / 16)");
            assertEquals((22L + seq.blockCount(0)) * groupBlock, s.reservedBytes());
            s.release(r);
            r.released();
            s.checkDrained();
        }
    }

    @Test
    void inTheSameMemoryTheHybridLayoutRunsMoreLongRequestsAtOnce() {
        // 8 requests of 500 + 100 tokens in memory for about 1,300 all-global tokens: the all-global paged
        // cache holds 2 at once, the hybrid one (the sliding half keeps ~80 tokens) 3.
        long budget = 82 * LAYOUT.bytesPerBlock();
        java.util.List<TraceRequest> reqs = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            reqs.add(new TraceRequest(i, i, 0, 500, 100, 100, 0, null));
        }
        io.pagedkv.workload.Trace trace = new io.pagedkv.workload.Trace(io.pagedkv.workload.Workload.SHAREGPT, 1, 2048, reqs);
        SimulationResult global;
        try (PagedStrategy paged = new PagedStrategy(LAYOUT, budget)) {
            global = new ServingSimulator(trace, paged, ServingSimulator.Progress.NONE).run();
        }
        SimulationResult hybrid;
        try (HybridPagedStrategy h = new HybridPagedStrategy(LAYOUT, GROUPS, budget)) {
            hybrid = new ServingSimulator(trace, h, ServingSimulator.Progress.NONE).run();
        }
        assertEquals(8, global.finished());
        assertEquals(8, hybrid.finished());
        assertTrue(hybrid.peakConcurrency() > global.peakConcurrency(),
                "hybrid peak " + hybrid.peakConcurrency() + " vs all-global " + global.peakConcurrency());
        assertTrue(hybrid.steps() < global.steps(), "hybrid steps " + hybrid.steps() + " vs " + global.steps());
    }
}
