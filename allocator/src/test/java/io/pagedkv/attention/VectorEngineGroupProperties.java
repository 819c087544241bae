package io.pagedkv.attention;

import static io.pagedkv.attention.PagedAttentionTest.assertClose;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Vector API engine against the scalar reference on every GQA group size from 1 to 8 (one, two
 * or three query rows past a block of four: the single-row loops, the dummy rows, and several row
 * blocks per KV head) and head dims from 8 to 128 (packed slots, a masked or partial last block of
 * chunks, several blocks of four chunks whose partial scores add up), for the fused dtypes (F32, Q8_0)
 * and a decoded one (F16), with block sizes that leave tiles of every length, odd ones included (the
 * scoring loop folds slots in pairs). Decode output and weights, and a prefill chunk, must match.
 */
class VectorEngineGroupProperties {

    /**
     * One case.
     *
     * @param dtype cache dtype
     * @param kvHeads KV heads
     * @param group query heads per KV head
     * @param headDim head dimension
     * @param blockSize tokens per block
     * @param tokens context length
     * @param seed data seed
     */
    record Case(KvDType dtype, int kvHeads, int group, int headDim, int blockSize, int tokens, long seed) {
        ModelShape shape() {
            return ModelShape.of("groups", 1, kvHeads * group, kvHeads, headDim);
        }
    }

    static Gen<Case> cases() {
        Gen<KvDType> dtypes = Gens.oneOf(KvDType.F32, KvDType.Q8_0, KvDType.F16);
        Gen<Integer> headDims = Gens.oneOf(8, 16, 24, 32, 40, 48, 64, 96, 128);
        Gen<Integer> blockSizes = Gens.choose(Gens.ints(1, 33), Gens.oneOf(16, 32));
        return dtypes.flatMap(dtype -> Gens.zip(headDims, Gens.ints(1, 2), Gens.ints(1, 8), blockSizes,
                (hd, kv, g, bs) -> new int[] {dtype.isBlockQuantized() ? 32 * ((hd + 31) / 32) : hd, kv, g, bs})
                .flatMap(a -> Gens.zip(PagedAttentionProperties.tokens(a[3]), Gens.longs(0, Long.MAX_VALUE),
                        (t, seed) -> new Case(dtype, a[1], a[2], a[0], a[3], t, seed))));
    }

    @Test
    void vectorDecodeEqualsTheScalarReferenceWithin1e4ForEveryGroupSizeFrom1To8AndHeadDimFrom8To128() {
        Property.forAll(cases()).check(c -> {
            CacheLayout layout = new CacheLayout(c.shape(), c.dtype(), c.blockSize());
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.tokens(), new SplittableRandom(c.seed()))) {
                float[] q = PagedAttentionTest.randomQuery(new SplittableRandom(~c.seed()), c.shape());
                int heads = c.shape().queryHeads();
                float[] expected = new float[q.length];
                float[] expectedWeights = new float[heads * c.tokens()];
                PagedAttention.scalar(layout).decode(s.view(), c.tokens(), 0, q, 0, expected, 0, expectedWeights);
                float[] actual = new float[q.length];
                float[] weights = new float[heads * c.tokens()];
                PagedAttention vector = PagedAttention.vectorized(layout);
                vector.decode(s.view(), c.tokens(), 0, q, 0, actual, 0, weights);
                assertClose(expected, actual, 1e-4f, vector.loops() + " " + c);
                assertClose(expectedWeights, weights, 1e-4f, vector.loops() + " " + c + " weights");
            }
        });
    }

    @Test
    void vectorPrefillEqualsTheScalarReferenceWithin1e4ForEveryGroupSizeFrom1To8AndHeadDimFrom8To128() {
        Property.forAll(cases()).check(c -> {
            Property.assume(c.tokens() > 0);
            CacheLayout layout = new CacheLayout(c.shape(), c.dtype(), c.blockSize());
            int width = c.shape().queryHeads() * c.headDim();
            int count = Math.min(c.tokens(), 1 + (int) (c.seed() >>> 33) % 11); // up to one query tile and a bit
            int start = c.tokens() - count;
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.tokens(), new SplittableRandom(c.seed()))) {
                SplittableRandom r = new SplittableRandom(~c.seed());
                float[] q = new float[count * width];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) (r.nextDouble() * 4 - 2);
                }
                float[] expected = new float[q.length];
                PagedAttention.scalar(layout).prefill(s.view(), start, count, 0, q, 0, expected, 0);
                float[] actual = new float[q.length];
                PagedAttention.vectorized(layout).prefill(s.view(), start, count, 0, q, 0, actual, 0);
                assertClose(expected, actual, 1e-4f, c + " start " + start + " count " + count);
            }
        });
    }
}
