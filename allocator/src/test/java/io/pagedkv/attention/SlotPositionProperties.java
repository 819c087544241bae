package io.pagedkv.attention;

import static io.pagedkv.attention.PagedAttentionTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * Both engines (Vector API and scalar reference) against the oracle over exactly the visible slots,
 * on random dtypes, head dims (those that divide the vector width, those that need a masked last
 * chunk, and multiples of it), block sizes, and slot positions with holes, as an evicting sequence
 * leaves them: holes get weight 0, and prefill's causal mask compares positions, not slot indices.
 */
class SlotPositionProperties {

    /**
     * One case.
     *
     * @param dtype cache dtype
     * @param kvHeads KV heads
     * @param group query heads per KV head
     * @param headDim head dimension
     * @param blockSize tokens per block
     * @param slots slots of the sequence
     * @param holes whether positions are shuffled with holes (else null: slot = position)
     * @param seed data seed
     */
    record Case(KvDType dtype, int kvHeads, int group, int headDim, int blockSize, int slots, boolean holes, long seed) {
        ModelShape shape() {
            return ModelShape.of("slots", 2, kvHeads * group, kvHeads, headDim);
        }
    }

    static Gen<Integer> headDims(KvDType dtype) {
        if (dtype.isBlockQuantized()) {
            return Gens.ints(1, 3).map(k -> 32 * k);
        }
        return Gens.choose(Gens.ints(1, 20), Gens.oneOf(8, 16, 24, 32, 40, 48, 64));
    }

    static Gen<Case> cases() {
        return Gens.oneOf(KvDType.values()).flatMap(dtype -> Gens.zip(headDims(dtype), Gens.ints(1, 3), Gens.ints(1, 4),
                Gens.choose(Gens.ints(1, 17), Gens.oneOf(16, 32)), (hd, kv, g, bs) -> new int[] {hd, kv, g, bs})
                .flatMap(a -> Gens.zip(PagedAttentionProperties.tokens(a[3]), Gens.booleans(), Gens.longs(0, Long.MAX_VALUE),
                        (t, holes, seed) -> new Case(dtype, a[1], a[2], a[0], a[3], t, holes, seed))));
    }

    /** Positions of {@code slots} slots: a shuffled 0..slots-1 with about a third of the slots holes. */
    static int[] positions(int slots, SplittableRandom r) {
        int[] p = new int[slots];
        for (int i = 0; i < slots; i++) {
            p[i] = i;
        }
        for (int i = slots - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        for (int i = 0; i < slots; i++) {
            if (r.nextInt(3) == 0) {
                p[i] = PagedAttention.HOLE;
            }
        }
        return p;
    }

    static PagedAttention[] kernels(CacheLayout layout) {
        KvScales unit = PagedAttentionProperties.unitScales(layout);
        return new PagedAttention[] {PagedAttention.scalar(layout, unit), PagedAttention.vectorized(layout, unit)};
    }

    @Test
    void decodeOfEveryEngineEqualsTheOracleOverTheNonHoleSlotsAndHolesGetWeightZero() {
        Property.forAll(cases()).check(c -> {
            CacheLayout layout = new CacheLayout(c.shape(), c.dtype(), c.blockSize());
            ModelShape shape = c.shape();
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.slots(), new SplittableRandom(c.seed()))) {
                SplittableRandom r = new SplittableRandom(~c.seed());
                int[] positions = c.holes() ? positions(c.slots(), r) : null;
                int layer = (int) (c.seed() & 1);
                float[] q = PagedAttentionTest.randomQuery(r, shape);
                float[] expected = new float[q.length];
                float[] expectedWeights = new float[shape.queryHeads() * c.slots()];
                SlotOracle.attend(s, layer, c.slots(), positions, Integer.MAX_VALUE, q, 0, expected, 0, expectedWeights);
                for (PagedAttention a : kernels(layout)) {
                    float[] out = new float[q.length];
                    float[] weights = new float[shape.queryHeads() * c.slots()];
                    a.decode(s.view(), c.slots(), positions, layer, q, 0, out, 0, weights);
                    String where = a.loops() + " " + c;
                    assertClose(expected, out, 1e-5f, where);
                    assertClose(expectedWeights, weights, 1e-5f, where + " weights");
                    for (int t = 0; positions != null && t < c.slots(); t++) {
                        for (int h = 0; h < shape.queryHeads(); h++) {
                            if (positions[t] == PagedAttention.HOLE) {
                                assertEquals(0f, weights[h * c.slots() + t], where + " hole " + t);
                            }
                        }
                    }
                }
            }
        });
    }

    @Test
    void prefillByPositionSeesExactlyTheSlotsWhosePositionIsAtMostTheQuerys() {
        Property.forAll(cases(), Gens.ints(0, 1000)).check((c, draw) -> {
            Property.assume(c.slots() > 0);
            CacheLayout layout = new CacheLayout(c.shape(), c.dtype(), c.blockSize());
            ModelShape shape = c.shape();
            int width = shape.queryHeads() * shape.headDim();
            try (ScatteredBlocks s = new ScatteredBlocks(layout, c.slots(), new SplittableRandom(c.seed()))) {
                SplittableRandom r = new SplittableRandom(~c.seed());
                int[] positions = c.holes() ? positions(c.slots(), r) : null;
                int first = draw % c.slots();
                int count = 1 + draw % Math.max(1, Math.min(2 * PagedAttention.QUERY_TILE + 1, c.slots() - first));
                float[] q = new float[count * width];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) (r.nextDouble() * 4 - 2);
                }
                float[] expected = new float[q.length];
                for (int i = 0; i < count; i++) {
                    SlotOracle.attend(s, 1, c.slots(), positions, first + i, q, i * width, expected, i * width, null);
                }
                for (PagedAttention a : kernels(layout)) {
                    float[] out = new float[q.length];
                    a.prefill(s.view(), c.slots(), positions, first, count, 1, q, 0, out, 0);
                    assertClose(expected, out, 1e-5f, a.loops() + " " + c + " first " + first + " count " + count);
                }
            }
        });
    }
}
