package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.model.ModelShape;
import io.pagedkv.plan.MemoryPlan;
import io.pagedkv.plan.WeightFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cache stores every dtype end to end: a sequence written through {@link PagedKvCache} in any
 * dtype reads back within that dtype's {@link ErrorBound}, and the memory planner's bytes per token
 * are the bytes the pool actually allocates per token.
 */
class CacheDtypeRoundTripTest {

    private static final ModelShape SHAPE = ModelShape.of("roundtrip", 2, 4, 2, 64);
    private static final int TOKENS = 21;  // one full 16-token block and a partial one

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void aSequenceWrittenInEveryDtypeReadsBackWithinItsBound(KvDType dtype) {
        CacheLayout layout = new CacheLayout(SHAPE, dtype, 16);
        SplittableRandom r = new SplittableRandom(dtype.ordinal());
        int width = SHAPE.kvHeads() * SHAPE.headDim();
        float[][][] keys = new float[TOKENS][SHAPE.layers()][width];
        float[][][] values = new float[TOKENS][SHAPE.layers()][width];
        try (PagedKvCache cache = new PagedKvCache(layout, 2)) {
            Sequence seq = cache.openSequence();
            for (int t = 0; t < TOKENS; t++) {
                seq.append(1);
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int i = 0; i < width; i++) {
                        keys[t][l][i] = (float) (r.nextGaussian() * 2);
                        values[t][l][i] = (float) (r.nextGaussian() * 0.05);
                    }
                    seq.write(l, t, keys[t][l], values[t][l]);
                }
            }
            KvCodec codec = KvCodecs.scalar(dtype);
            int headDim = SHAPE.headDim();
            float[] back = new float[headDim];
            int checked = 0;
            for (int t = 0; t < TOKENS; t++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        float[] k = java.util.Arrays.copyOfRange(keys[t][l], h * headDim, (h + 1) * headDim);
                        seq.readKey(l, h, t, back, 0);
                        checked += assertWithin(dtype, codec, k, back, "key t" + t + " l" + l + " h" + h);
                        float[] v = java.util.Arrays.copyOfRange(values[t][l], h * headDim, (h + 1) * headDim);
                        seq.readValue(l, h, t, back, 0);
                        checked += assertWithin(dtype, codec, v, back, "value t" + t + " l" + l + " h" + h);
                    }
                }
            }
            assertEquals(TOKENS * SHAPE.layers() * SHAPE.kvHeads() * 2 * headDim, checked);
            seq.close();
        }
    }

    /** Re-encodes {@code x} (the reference bytes, to read the block scale) and checks each element. */
    private static int assertWithin(KvDType dtype, KvCodec codec, float[] x, float[] back, String what) {
        byte[] bytes = Hex.encode(codec, x);
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs((double) x[i] - back[i]);
            double bound = ErrorBound.of(dtype, x, i, bytes, back[i]);
            assertTrue(err <= bound, dtype + " " + what + "[" + i + "]: " + x[i] + " read back as " + back[i]
                    + ", error " + err + " > bound " + bound);
        }
        return x.length;
    }

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void thePlannersBytesPerTokenAreWhatThePoolAllocates(KvDType dtype) {
        CacheLayout layout = new CacheLayout(SHAPE, dtype, 16);
        MemoryPlan plan = MemoryPlan.of(SHAPE, dtype, WeightFormat.F16, 1L << 40, 4096, 1);
        try (PagedKvCache cache = new PagedKvCache(layout, 4)) {
            long perBlock = cache.pool().bytesPerBlock();
            assertEquals(plan.bytesPerBlock(), perBlock, dtype.label());
            assertEquals(plan.bytesPerToken() * 16, perBlock, dtype.label());
            // By hand: 2 layers x K,V x 2 heads x bytesFor(64) per token.
            long byHand = 2L * 2 * 2 * (64 / dtype.groupSize()) * dtype.bytesPerGroup();
            assertEquals(byHand, plan.bytesPerToken(), dtype.label());
        }
    }
}
