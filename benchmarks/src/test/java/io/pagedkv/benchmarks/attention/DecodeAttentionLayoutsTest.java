package io.pagedkv.benchmarks.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link DecodeAttentionBenchmark}'s pool layouts compare like with like: in every layout (and with runs
 * of blocks) the paged kernel over the block table and the contiguous kernel over the copied segments
 * attend the same keys and values in the same token order, so their outputs agree up to the rounding of
 * a different tile order. A layout whose contiguous copy did not follow the walked table (the shuffled one
 * reorders it) would make the benchmark's ratio compare different work.
 */
class DecodeAttentionLayoutsTest {

    private static DecodeAttentionBenchmark bench(String layout, int runBlocks) {
        DecodeAttentionBenchmark b = new DecodeAttentionBenchmark();
        b.blockSize = 16;
        b.tokens = 200; // 13 blocks, the last one partly filled
        b.dtype = "f32";
        b.headDim = 64;
        b.layout = layout;
        b.blockOrder = "head-runs";
        b.runBlocks = runBlocks;
        return b;
    }

    @Test
    void pagedAndContiguousAttendTheSameKeysAndValuesInEveryLayout() {
        String[][] cases = {{"random", "1"}, {"random", "4"}, {"alternating", "1"}, {"alternating", "3"},
            {"sequential", "1"}, {"shuffled", "1"}, {"recycled", "1"}};
        for (String[] c : cases) {
            DecodeAttentionBenchmark b = bench(c[0], Integer.parseInt(c[1]));
            b.setUp();
            try {
                float paged = b.paged();
                float contiguous = b.contiguous();
                assertTrue(Float.isFinite(paged) && paged != 0f, c[0] + ": paged " + paged);
                assertEquals(contiguous, paged, 1e-4f * Math.max(1f, Math.abs(contiguous)),
                        c[0] + ", runs of " + c[1]);
            } finally {
                b.tearDown();
            }
        }
    }

    @Test
    void anUnknownLayoutOrARunOfNoBlocksIsRefusedWithItsValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bench("zigzag", 1).setUp());
        assertTrue(e.getMessage().contains("zigzag") && e.getMessage().contains("recycled"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bench("random", 0).setUp());
        assertTrue(e.getMessage().contains("runBlocks: 0"), e.getMessage());
    }
}
