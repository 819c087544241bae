package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 keys in integer form (the vector engine: per 32-value group, int8 codes times the fp32 query,
 * then times the group's fp16 scale) against the float reference (the scalar engine: each key
 * dequantised, {@code code * scale}, then dotted). The query is not quantised, so the only difference
 * is fp32 rounding order. With {@code u = 2^-24} and {@code gamma(n) = n u / (1 - n u)}, both scores of
 * slot t are within {@code gamma(headDim + 3) * S_t} of the exact dot product of the dequantised key,
 * {@code S_t = sum_i |q_i| |k_ti| / sqrt(headDim)}, so they differ by at most {@code E = 2 gamma(headDim + 3)
 * max_t S_t}; a softmax weight moves by at most a factor {@code e^(2E)}, and the two softmax sums of T
 * positive terms differ by at most {@code 2 gamma(T)} relative (plus a few ulps of exp). The property checks
 * every weight above 1e-30 against that bound.
 */
class Q8_0KeyDotProperties {

    @Test
    void q8_0WeightsFromIntegerFormKeysAreWithinTheFp32RoundingBoundOfTheDequantisedReference() {
        Property.forAll(Gens.zip(Gens.ints(1, 3), Gens.ints(1, 4), Gens.ints(1, 3), Gens.ints(1, 120),
                (kv, g, n, t) -> new int[] {kv, g, n, t}), Gens.longs(0, Long.MAX_VALUE)).check((c, seed) -> {
                    int kvHeads = c[0];
                    int group = c[1];
                    int groups = c[2];
                    int tokens = c[3];
                    int headDim = 32 * groups;
                    ModelShape shape = ModelShape.of("q8", 1, kvHeads * group, kvHeads, headDim);
                    CacheLayout layout = new CacheLayout(shape, KvDType.Q8_0, 16);
                    try (ScatteredBlocks s = new ScatteredBlocks(layout, tokens, new SplittableRandom(seed))) {
                        float[] q = PagedAttentionTest.randomQuery(new SplittableRandom(~seed), shape);
                        int qh = shape.queryHeads();
                        float[] wRef = new float[qh * tokens];
                        float[] wInt = new float[qh * tokens];
                        PagedAttention.scalar(layout).decode(s.view(), tokens, 0, q, 0, new float[q.length], 0, wRef);
                        PagedAttention.vectorized(layout).decode(s.view(), tokens, 0, q, 0, new float[q.length], 0, wInt);
                        double u = 0x1p-24;
                        double gammaDot = (headDim + 3) * u / (1 - (headDim + 3) * u);
                        double gammaSum = tokens * u / (1 - tokens * u);
                        for (int h = 0; h < qh; h++) {
                            int kvh = h / group;
                            double maxS = 0;
                            for (int t = 0; t < tokens; t++) {
                                double st = 0;
                                for (int i = 0; i < headDim; i++) {
                                    st += Math.abs(q[h * headDim + i]) * Math.abs(s.keys[0][(t * kvHeads + kvh) * headDim + i]);
                                }
                                maxS = Math.max(maxS, st / Math.sqrt(headDim));
                            }
                            double bound = 4 * gammaDot * maxS + 2 * gammaSum + 1e-6;
                            for (int t = 0; t < tokens; t++) {
                                double ref = wRef[h * tokens + t];
                                double got = wInt[h * tokens + t];
                                if (ref > 1e-30 && got > 1e-30) {
                                    double diff = Math.abs(Math.log(got / ref));
                                    assertTrue(diff <= bound, "head " + h + " slot " + t + ": |ln(w_int / w_ref)| = " + diff
                                            + " > bound " + bound + " (" + shape + ", tokens " + tokens + ")");
                                } else {
                                    assertTrue(Math.abs(got - ref) <= 1e-29, "head " + h + " slot " + t + ": " + got + " vs " + ref);
                                }
                            }
                        }
                    }
                });
    }
}
