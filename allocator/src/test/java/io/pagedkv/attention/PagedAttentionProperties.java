package io.pagedkv.attention;

import static io.pagedkv.attention.PagedAttentionTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Paged attention against the contiguous oracle on random shapes: heads, KV heads, head dim, block
 * size, and context lengths that favour 0, 1 and block boundaries (a multiple of the block size and
 * one either side). Every case writes its tokens into blocks scattered in the pool.
 */
class PagedAttentionProperties {

    /**
     * One random case.
     *
     * @param kvHeads KV heads
     * @param group query heads per KV head
     * @param headDim head dimension
     * @param blockSize tokens per block
     * @param tokens context length
     * @param seed data seed
     */
    record Case(int kvHeads, int group, int headDim, int blockSize, int tokens, long seed) {
        ModelShape shape() {
            return ModelShape.of("prop", 2, kvHeads * group, kvHeads, headDim);
        }
    }

    /** Context lengths around the block boundaries of {@code blockSize}, plus 0, 1 and anything up to 80. */
    static Gen<Integer> tokens(int blockSize) {
        return Gens.choose(Gens.ints(0, 1),
                Gens.ints(1, 5).map(k -> k * blockSize),
                Gens.ints(1, 5).map(k -> k * blockSize + 1),
                Gens.ints(1, 5).map(k -> k * blockSize - 1),
                Gens.ints(0, 80));
    }

    static Gen<Case> cases(Gen<Integer> headDims) {
        return Gens.zip(Gens.ints(1, 3), Gens.ints(1, 4), headDims, Gens.ints(1, 17), (kv, g, hd, bs) -> new int[] {kv, g, hd, bs})
                .flatMap(a -> Gens.zip(tokens(a[3]), Gens.longs(0, Long.MAX_VALUE),
                        (t, seed) -> new Case(a[0], a[1], a[2], a[3], t, seed)));
    }

    @Test
    void pagedDecodeEqualsTheContiguousOracleWithin1e5ForF32AndItsWeightsSumToOne() {
        Property.forAll(cases(Gens.ints(1, 40).map(h -> 2 * h)), Gens.booleans()).check((c, vector) -> {
            CacheLayout layout = new CacheLayout(c.shape(), KvDType.F32, c.blockSize());
            PagedAttention a = vector ? PagedAttention.vectorized(layout) : PagedAttention.scalar(layout);
            checkAgainstOracle(a, c);
        });
    }

    @Test
    void pagedDecodeOfEveryDtypeEqualsTheOracleOverTheDecodedValuesWithin1e5() {
        Gen<KvDType> dtypes = Gens.oneOf(KvDType.values());
        Property.forAll(cases(Gens.ints(1, 3).map(h -> 32 * h)), dtypes).tries(Math.max(10, tries() / 2)).check((c, dtype) -> {
            CacheLayout layout = new CacheLayout(c.shape(), dtype, c.blockSize());
            checkAgainstOracle(PagedAttention.create(layout, unitScales(layout)), c);
        });
    }

    @Test
    void pagedDecodeOfEveryDtypeStaysWithinTheBoundItsRoundingErrorImplies() {
        // With key error dk and value error dv (largest absolute round-trip error of any element), every
        // score moves by at most D = |q|_1 * dk / sqrt(headDim), so every weight by a factor within
        // e^(+-2D): |out - exact| <= dv + max|v| * (e^(2D) - 1).
        Gen<KvDType> dtypes = Gens.oneOf(KvDType.values());
        Property.forAll(cases(Gens.ints(1, 3).map(h -> 32 * h)), dtypes).tries(Math.max(10, tries() / 2)).check((c, dtype) -> {
            ModelShape shape = c.shape();
            CacheLayout layout = new CacheLayout(shape, dtype, c.blockSize());
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.tokens(), new SplittableRandom(c.seed()))) {
                float[] q = PagedAttentionTest.randomQuery(new SplittableRandom(~c.seed()), shape);
                float[] exact = new float[q.length];
                ContiguousAttention.decode(shape.queryHeads(), shape.kvHeads(), shape.headDim(), q, 0,
                        s.originalKeys[0], s.originalValues[0], c.tokens(), exact, 0, new float[c.tokens()], null);
                float[] out = new float[q.length];
                PagedAttention.create(layout, unitScales(layout)).decode(s.view(), c.tokens(), 0, q, 0, out, 0, null);
                double dk = maxAbsDiff(s.keys[0], s.originalKeys[0]);
                double dv = maxAbsDiff(s.values[0], s.originalValues[0]);
                double maxV = 0;
                for (float v : s.originalValues[0]) {
                    maxV = Math.max(maxV, Math.abs(v));
                }
                for (int h = 0; h < shape.queryHeads(); h++) {
                    double q1 = 0;
                    for (int i = 0; i < shape.headDim(); i++) {
                        q1 += Math.abs(q[h * shape.headDim() + i]);
                    }
                    double d = q1 * dk / Math.sqrt(shape.headDim());
                    double bound = dv + maxV * Math.expm1(2 * d) + 1e-4;
                    for (int i = 0; i < shape.headDim(); i++) {
                        int k = h * shape.headDim() + i;
                        double err = Math.abs(out[k] - exact[k]);
                        assertTrue(err <= bound, dtype + " head " + h + " dim " + i + ": error " + err + " > bound " + bound
                                + " (dk " + dk + ", dv " + dv + ")");
                    }
                }
            }
        });
    }

    @Test
    void prefillOfAChunkEqualsDecodeAppliedTokenByToken() {
        Property.forAll(cases(Gens.ints(1, 16).map(h -> 2 * h)), Gens.ints(0, 1000)).check((c, startDraw) -> {
            Property.assume(c.tokens() > 0);
            CacheLayout layout = new CacheLayout(c.shape(), KvDType.F32, c.blockSize());
            PagedAttention a = startDraw % 2 == 0 ? PagedAttention.scalar(layout) : PagedAttention.vectorized(layout);
            int start = startDraw % c.tokens();
            int count = c.tokens() - start;
            int width = c.shape().queryHeads() * c.shape().headDim();
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.tokens(), new SplittableRandom(c.seed()))) {
                SplittableRandom r = new SplittableRandom(~c.seed());
                float[] q = new float[count * width];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) (r.nextDouble() * 4 - 2);
                }
                float[] chunk = new float[q.length];
                a.prefill(s.view(), start, count, 1, q, 0, chunk, 0);
                float[] single = new float[q.length];
                for (int i = 0; i < count; i++) {
                    a.decode(s.view(), start + i + 1, 1, q, i * width, single, i * width, null);
                }
                assertClose(single, chunk, 1e-6f, c + " start " + start);
            }
        });
    }

    private static void checkAgainstOracle(PagedAttention a, Case c) {
        ModelShape shape = c.shape();
        int tokens = c.tokens();
        try (ScatteredBlocks s = new ScatteredBlocks(a.layout(), tokens, new SplittableRandom(c.seed()))) {
            int layer = (int) (c.seed() & 1);
            float[] q = PagedAttentionTest.randomQuery(new SplittableRandom(~c.seed()), shape);
            float[] expected = new float[q.length];
            float[] expectedWeights = new float[shape.queryHeads() * tokens];
            ContiguousAttention.decode(shape.queryHeads(), shape.kvHeads(), shape.headDim(), q, 0, s.keys[layer],
                    s.values[layer], tokens, expected, 0, new float[tokens], expectedWeights);
            float[] actual = new float[q.length];
            float[] weights = new float[shape.queryHeads() * tokens];
            a.decode(s.view(), tokens, layer, q, 0, actual, 0, weights);
            String where = a.loops() + " " + a.layout().dtype() + " " + c;
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

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    /** Scale 1 everywhere: what {@link ScatteredBlocks} writes, valid for every dtype including FP8. */
    static KvScales unitScales(CacheLayout layout) {
        return KvScales.uniform(layout.shape().layers(), layout.shape().kvHeads(), 1f, 1f);
    }

    private static int tries() {
        return Integer.getInteger("pagedkv.tries", 100);
    }
}
