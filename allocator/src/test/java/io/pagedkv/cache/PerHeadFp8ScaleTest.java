package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A FP8 cache with a K and a V scale per (layer, KV head) stores each head through its own scale:
 * values far below E4M3's smallest normal (head 0, scale 0.01) and far above its largest finite
 * value 448 (head 1, scale 100) come back within E4M3's relative bound 2^-4, where one unscaled
 * cache loses them; bad scales are rejected before anything is allocated.
 */
class PerHeadFp8ScaleTest {

    static final ModelShape SHAPE = ModelShape.of("q", 2, 4, 2, 64);
    static final float[][] K = {{0.01f, 100f}, {0.02f, 50f}};
    static final float[][] V = {{0.005f, 200f}, {0.03f, 80f}};
    static final int TOKENS = 6;

    /** x = scale * r with |r| in [2^-6, 400]: every r is a normal E4M3 value range. */
    static float sample(Random r, float scale) {
        double mag = Math.pow(2, -6 + r.nextDouble() * (Math.log(400) / Math.log(2) + 6));
        return (float) ((r.nextBoolean() ? 1 : -1) * mag * scale);
    }

    /** E4M3 normals round to 3 mantissa bits: half an ulp is 2^-4 of the value, plus float slack. */
    static boolean withinBound(float x, float y) {
        return Math.abs(x - y) <= Math.abs(x) * (0x1p-4 + 1e-6);
    }

    static float[][][][] fill(Sequence s, Random r) {
        int d = SHAPE.headDim();
        int n = SHAPE.kvHeads() * d;
        float[][][][] kv = new float[2][TOKENS][SHAPE.layers()][n];
        for (int p = 0; p < TOKENS; p++) {
            for (int l = 0; l < SHAPE.layers(); l++) {
                for (int h = 0; h < SHAPE.kvHeads(); h++) {
                    for (int i = 0; i < d; i++) {
                        kv[0][p][l][h * d + i] = sample(r, K[l][h]);
                        kv[1][p][l][h * d + i] = sample(r, V[l][h]);
                    }
                }
                s.write(l, p, kv[0][p][l], kv[1][p][l]);
            }
        }
        return kv;
    }

    @Test
    void perHeadScalesRoundTripValuesThatSaturateOrUnderflowWithoutThem() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.FP8_E4M3, 4);
        int d = SHAPE.headDim();
        float[] got = new float[d];
        try (PagedKvCache scaled = new PagedKvCache(layout, 8, KvScales.of(K, V));
                PagedKvCache plain = new PagedKvCache(layout, 8)) {
            Sequence s = scaled.openSequence();
            s.append(TOKENS);
            float[][][][] kv = fill(s, new Random(7));
            Sequence u = plain.openSequence();
            u.append(TOKENS);
            fill(u, new Random(7)); // the same values
            int unscaledMisses = 0;
            for (int p = 0; p < TOKENS; p++) {
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        for (int kind = 0; kind < 2; kind++) {
                            if (kind == 0) {
                                s.readKey(l, h, p, got, 0);
                            } else {
                                s.readValue(l, h, p, got, 0);
                            }
                            for (int i = 0; i < d; i++) {
                                float x = kv[kind][p][l][h * d + i];
                                assertTrue(withinBound(x, got[i]), "layer " + l + " head " + h + " kind " + kind
                                        + " pos " + p + " i " + i + ": " + x + " -> " + got[i]);
                            }
                            if (kind == 0) {
                                u.readKey(l, h, p, got, 0);
                            } else {
                                u.readValue(l, h, p, got, 0);
                            }
                            for (int i = 0; i < d; i++) {
                                if (!withinBound(kv[kind][p][l][h * d + i], got[i])) {
                                    unscaledMisses++;
                                }
                            }
                        }
                    }
                }
            }
            // The values really need the scales: without them many saturate at 448 or underflow.
            assertTrue(unscaledMisses > TOKENS * SHAPE.layers() * SHAPE.kvHeads() * 2 * d / 4, // 1199 of 3072 with seed 7
                    "unscaled misses: " + unscaledMisses);
        }
    }

    @Test
    void pagedAttentionOfTheCacheDecodesEachHeadWithItsScale() {
        CacheLayout fp8 = new CacheLayout(SHAPE, KvDType.FP8_E4M3, 4);
        CacheLayout f32 = new CacheLayout(SHAPE, KvDType.F32, 4);
        int d = SHAPE.headDim();
        try (PagedKvCache scaled = new PagedKvCache(fp8, 8, KvScales.of(K, V));
                PagedKvCache ref = new PagedKvCache(f32, 8)) {
            Sequence s = scaled.openSequence();
            s.append(TOKENS);
            fill(s, new Random(11));
            Sequence t = ref.openSequence();
            t.append(TOKENS);
            float[] buf = new float[d];
            for (int p = 0; p < TOKENS; p++) { // the reference holds exactly what the fp8 cache decodes
                for (int l = 0; l < SHAPE.layers(); l++) {
                    for (int h = 0; h < SHAPE.kvHeads(); h++) {
                        s.readKey(l, h, p, buf, 0);
                        t.writeKey(l, h, p, buf, 0);
                        s.readValue(l, h, p, buf, 0);
                        t.writeValue(l, h, p, buf, 0);
                    }
                }
            }
            Random r = new Random(3);
            float[] q = new float[SHAPE.queryHeads() * d];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) r.nextGaussian() * 0.01f;
            }
            for (int l = 0; l < SHAPE.layers(); l++) {
                float[] want = new float[q.length];
                float[] got = new float[q.length];
                PagedAttention.create(ref).decode(BlockTableView.of(t), TOKENS, l, q, 0, want, 0, null);
                PagedAttention.create(scaled).decode(BlockTableView.of(s), TOKENS, l, q, 0, got, 0, null);
                assertArrayEquals(want, got, 1e-3f * maxAbs(want), "layer " + l);
            }
        }
    }

    private static float maxAbs(float[] a) {
        float m = 0f;
        for (float x : a) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @Test
    void codecPerHeadIsPrecomputedAndCarriesItsScale() {
        CacheLayout layout = new CacheLayout(SHAPE, KvDType.FP8_E5M2, 4);
        try (PagedKvCache cache = new PagedKvCache(layout, 2, KvScales.of(K, V))) {
            assertSame(cache.codec(1, CacheLayout.V, 0), cache.codec(1, CacheLayout.V, 0));
            float[] out = new float[1];
            java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(1);
            cache.codec(1, CacheLayout.V, 1).encode(new float[] {80f}, 0, 1, seg, 0);
            cache.codec(1, CacheLayout.V, 1).decode(seg, 0, 1, out, 0);
            assertEquals(80f, out[0], 0f); // 80 / 80 = 1 is exact in E5M2
            assertThrows(IndexOutOfBoundsException.class, () -> cache.codec(2, CacheLayout.K, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> cache.codec(0, 2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> cache.codec(0, CacheLayout.K, 2));
        }
    }

    @Test
    void badScalesAreRejectedNamingIndexAndValueAndInputIsUntouched() {
        float[][] nan = {{0.01f, 100f}, {0.02f, Float.NaN}};
        var e = assertThrows(IllegalArgumentException.class, () -> KvScales.of(K, nan));
        assertEquals("v[1][1]: NaN (expected: finite and > 0)", e.getMessage());
        assertTrue(Float.isNaN(nan[1][1]) && nan[0][0] == 0.01f);
        float[][] zero = {{0f, 100f}, {0.02f, 50f}};
        e = assertThrows(IllegalArgumentException.class, () -> KvScales.of(zero, V));
        assertEquals("k[0][0]: 0.0 (expected: finite and > 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> KvScales.of(new float[][] {{1f, 1f}, {1f, Float.POSITIVE_INFINITY}}, V));
        assertTrue(e.getMessage().startsWith("k[1][1]: Infinity"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvScales.of(new float[][] {{1f, 1f}, {1f}}, V));
        assertEquals("k[1].length: 1 (expected: 2 kv heads)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvScales.of(new float[][] {{1f, 1f}}, V));
        assertTrue(e.getMessage().startsWith("layers: k 1, v 2"), e.getMessage());
    }

    @Test
    void aCacheRejectsWrongShapeAndNonFp8ScalesBeforeAllocating() {
        CacheLayout fp8 = new CacheLayout(SHAPE, KvDType.FP8_E4M3, 4);
        var e = assertThrows(IllegalArgumentException.class,
                () -> new PagedKvCache(fp8, 2, KvScales.uniform(3, 2, 1f, 1f)));
        assertEquals("scales: 3 layers x 2 kv heads (expected: 2 x 2 of the layout)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new PagedKvCache(fp8, 2, KvScales.uniform(2, 1, 1f, 1f)));
        assertTrue(e.getMessage().contains("2 layers x 1 kv heads"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(fp8, 2, (KvScales) null));
        for (KvDType dtype : new KvDType[] {KvDType.F16, KvDType.BF16, KvDType.F32, KvDType.Q8_0, KvDType.Q4_0}) {
            CacheLayout layout = new CacheLayout(SHAPE, dtype, 4);
            e = assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(layout, 2, KvScales.of(K, V)));
            assertTrue(e.getMessage().startsWith("dtype: " + dtype), e.getMessage());
            try (PagedKvCache ones = new PagedKvCache(layout, 2, KvScales.uniform(2, 2, 1f, 1f))) {
                assertEquals(2, ones.freeBlocks()); // scale 1 everywhere is the plain codec
                assertSame(ones.codec(), ones.codec(1, CacheLayout.V, 1));
            }
        }
    }
}
