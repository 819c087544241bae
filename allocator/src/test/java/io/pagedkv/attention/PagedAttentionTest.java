package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PagedAttentionTest {

    @Test
    void matchesTheContiguousOracleWithin1e5OnRandomShapesIncludingBlockBoundaries() {
        SplittableRandom r = new SplittableRandom(17);
        for (int trial = 0; trial < 200; trial++) {
            int kvHeads = 1 + r.nextInt(3);
            int group = 1 + r.nextInt(3);
            int headDim = 2 * (1 + r.nextInt(12));
            int blockSize = 1 + r.nextInt(9);
            int tokens = switch (trial % 4) {
                case 0 -> r.nextInt(2);
                case 1 -> blockSize * (1 + r.nextInt(4));
                case 2 -> blockSize * (1 + r.nextInt(4)) + 1;
                default -> r.nextInt(60);
            };
            ModelShape shape = ModelShape.of("t", 2, kvHeads * group, kvHeads, headDim);
            CacheLayout layout = new CacheLayout(shape, KvDType.F32, blockSize);
            for (PagedAttention a : new PagedAttention[] {PagedAttention.scalar(layout), PagedAttention.vectorized(layout)}) {
                try (ScatteredBlocks s = new ScatteredBlocks(layout, tokens, r.split())) {
                    int layer = r.nextInt(2);
                    float[] q = randomQuery(r, shape);
                    float[] expected = new float[q.length];
                    float[] expectedWeights = new float[shape.queryHeads() * tokens];
                    ContiguousAttention.decode(shape.queryHeads(), kvHeads, headDim, q, 0, s.keys[layer],
                            s.values[layer], tokens, expected, 0, new float[tokens], expectedWeights);
                    float[] actual = new float[q.length];
                    float[] weights = new float[shape.queryHeads() * tokens];
                    a.decode(s.view(), tokens, layer, q, 0, actual, 0, weights);
                    String where = a.loops() + " " + shape + " blockSize " + blockSize + " tokens " + tokens;
                    assertClose(expected, actual, 1e-5f, where);
                    assertClose(expectedWeights, weights, 1e-5f, where + " weights");
                    for (int h = 0; h < shape.queryHeads() && tokens > 0; h++) {
                        double total = 0;
                        for (int t = 0; t < tokens; t++) {
                            total += weights[h * tokens + t];
                        }
                        assertEquals(1.0, total, 1e-5, "weights of head " + h + " sum to 1: " + where);
                    }
                }
            }
        }
    }

    @Test
    void aWalkPastTheEarlyTouchThresholdStillMatchesTheContiguousOracle() {
        // F32, head dim 64, one KV head: 2,051 blocks of 16 slots, each layer's K/V 8 KiB, so the walk reads
        // just over 16 MiB of K/V and touches blocks ahead; a touch out of a block would throw. Layer 1
        // checks the touches' layer offsets.
        SplittableRandom r = new SplittableRandom(29);
        ModelShape shape = ModelShape.of("t", 2, 2, 1, 64);
        int tokens = 2_050 * 16 + 7;
        CacheLayout layout = new CacheLayout(shape, KvDType.F32, 16);
        PagedAttention a = PagedAttention.vectorized(layout);
        assertTrue(a.touchesAhead(tokens), "a walk of " + tokens + " slots touches ahead");
        assertTrue(!a.touchesAhead(tokens / 4), "a quarter of it does not");
        try (ScatteredBlocks s = new ScatteredBlocks(layout, tokens, r.split())) {
            for (int layer = 0; layer < 2; layer++) {
                float[] q = randomQuery(r, shape);
                float[] expected = new float[q.length];
                ContiguousAttention.decode(shape.queryHeads(), 1, 64, q, 0, s.keys[layer], s.values[layer],
                        tokens, expected, 0, new float[tokens], new float[shape.queryHeads() * tokens]);
                float[] actual = new float[q.length];
                a.decode(s.view(), tokens, layer, q, 0, actual, 0, new float[shape.queryHeads() * tokens]);
                assertClose(expected, actual, 1e-4f, a.loops() + " layer " + layer);
            }
        }
    }

    @Test
    void prefillEqualsDecodeAppliedTokenByToken() {
        SplittableRandom r = new SplittableRandom(23);
        for (int trial = 0; trial < 60; trial++) {
            int kvHeads = 1 + r.nextInt(2);
            int group = 1 + r.nextInt(3);
            int headDim = 2 * (1 + r.nextInt(8));
            int blockSize = 1 + r.nextInt(7);
            int tokens = 1 + r.nextInt(40);
            int start = r.nextInt(tokens);
            int count = tokens - start;
            ModelShape shape = ModelShape.of("t", 1, kvHeads * group, kvHeads, headDim);
            CacheLayout layout = new CacheLayout(shape, KvDType.F32, blockSize);
            PagedAttention a = trial % 2 == 0 ? PagedAttention.scalar(layout) : PagedAttention.vectorized(layout);
            try (ScatteredBlocks s = new ScatteredBlocks(layout, tokens, r.split())) {
                int width = shape.queryHeads() * headDim;
                float[] q = new float[count * width];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) (r.nextDouble() * 2 - 1);
                }
                float[] chunk = new float[q.length];
                a.prefill(s.view(), start, count, 0, q, 0, chunk, 0);
                float[] one = new float[q.length];
                for (int i = 0; i < count; i++) {
                    a.decode(s.view(), start + i + 1, 0, q, i * width, one, i * width, null);
                }
                assertClose(one, chunk, 1e-6f, shape + " blockSize " + blockSize + " start " + start);
            }
        }
    }

    @Test
    void emptyContextGivesZerosAndOneTokenGivesItsValue() {
        ModelShape shape = ModelShape.of("t", 1, 4, 2, 4);
        CacheLayout layout = new CacheLayout(shape, KvDType.F32, 4);
        PagedAttention a = PagedAttention.create(layout);
        try (ScatteredBlocks s = new ScatteredBlocks(layout, 1, new SplittableRandom(1))) {
            float[] q = randomQuery(new SplittableRandom(2), shape);
            float[] out = new float[q.length];
            java.util.Arrays.fill(out, 9f);
            a.decode(s.view(), 0, 0, q, 0, out, 0, null);
            for (float v : out) {
                assertEquals(0f, v);
            }
            a.decode(s.view(), 1, 0, q, 0, out, 0, null);
            for (int qh = 0; qh < 4; qh++) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(s.values[0][(qh / 2) * 4 + i], out[qh * 4 + i], 1e-6f);
                }
            }
        }
    }

    @Test
    void rejectsBadArgumentsNamingTheValueAndTheLimit() {
        ModelShape shape = ModelShape.of("t", 2, 4, 2, 4);
        PagedAttention a = PagedAttention.create(new CacheLayout(shape, KvDType.F32, 4));
        float[] q = new float[16];
        float[] out = new float[16];
        BlockTableView none = BlockTableView.of(() -> 3, i -> {
            throw new AssertionError("no block may be read for a rejected call");
        });
        IndexOutOfBoundsException layer = assertThrows(IndexOutOfBoundsException.class,
                () -> a.decode(none, 1, 2, q, 0, out, 0, null));
        assertTrue(layer.getMessage().contains("layer: 2 (expected: 0 <= layer < 2)"), layer.getMessage());
        IllegalArgumentException tokens = assertThrows(IllegalArgumentException.class,
                () -> a.decode(none, -1, 0, q, 0, out, 0, null));
        assertTrue(tokens.getMessage().contains("tokens: -1 (expected: >= 0)"), tokens.getMessage());
        IndexOutOfBoundsException shortQ = assertThrows(IndexOutOfBoundsException.class,
                () -> a.decode(none, 1, 0, new float[15], 0, out, 0, null));
        assertTrue(shortQ.getMessage().contains("q: offset 0 + length 16 (expected: within the array of 15)"),
                shortQ.getMessage());
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                () -> a.decode(none, 3, 0, q, 0, out, 0, new float[11]));
        assertTrue(w.getMessage().contains("weights: 11 floats (expected: >= queryHeads x tokens = 12)"), w.getMessage());
    }

    static float[] randomQuery(SplittableRandom r, ModelShape shape) {
        float[] q = new float[shape.queryHeads() * shape.headDim()];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return q;
    }

    static void assertClose(float[] expected, float[] actual, float tolerance, String where) {
        assertEquals(expected.length, actual.length, where);
        for (int i = 0; i < expected.length; i++) {
            float bound = tolerance * Math.max(1f, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= bound,
                    where + ": index " + i + " expected " + expected[i] + " but was " + actual[i]);
        }
    }
}
