package io.pagedkv.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelShape;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every input that changes a block's bytes changes the fingerprint; equal inputs give equal fingerprints. */
class LayoutFingerprintTest {

    static final ModelShape SHAPE = ModelShape.of("m", 4, 8, 2, 64);

    @Test
    void eachComponentThatChangesTheBytesChangesTheFingerprint() {
        CacheLayout base = new CacheLayout(SHAPE, KvDType.FP8_E4M3, 16);
        KvScales ones = KvScales.uniform(4, 2, 1f, 1f);
        float[][] k = {{1, 1}, {1, 1}, {1, 1}, {1, 1}};
        float[][] v = {{1, 1}, {1, 1}, {1, 1}, {1, 1.0000001f}};
        List<LayoutFingerprint> all = List.of(
                LayoutFingerprint.of("m", base, null),
                LayoutFingerprint.of("other-weights", base, null),
                LayoutFingerprint.of("m", new CacheLayout(SHAPE, KvDType.FP8_E5M2, 16), null),
                LayoutFingerprint.of("m", new CacheLayout(SHAPE, KvDType.FP8_E4M3, 32), null),
                LayoutFingerprint.of("m", new CacheLayout(ModelShape.of("m", 5, 8, 2, 64), KvDType.FP8_E4M3, 16), null),
                LayoutFingerprint.of("m", new CacheLayout(ModelShape.of("m", 4, 8, 4, 64), KvDType.FP8_E4M3, 16), null),
                LayoutFingerprint.of("m", new CacheLayout(ModelShape.of("m", 4, 8, 2, 32), KvDType.FP8_E4M3, 16), null),
                LayoutFingerprint.of("m", new CacheLayout(ModelShape.of("m", 4, 4, 2, 64), KvDType.FP8_E4M3, 16), null),
                LayoutFingerprint.of("m", new CacheLayout(new ModelShape("m", 4, 8, 2, 64, 128,
                        AttentionPattern.ALTERNATING_SLIDING_GLOBAL, 0), KvDType.FP8_E4M3, 16), null),
                LayoutFingerprint.of("m", base.withOrder(BlockOrder.TOKEN_RUNS), null),
                LayoutFingerprint.of("m", base, ones),
                LayoutFingerprint.of("m", base, KvScales.of(k, v)));
        Set<Long> values = new HashSet<>();
        for (LayoutFingerprint f : all) {
            values.add(f.value());
        }
        assertEquals(all.size(), values.size(), "distinct fingerprints: " + all);
    }

    @Test
    void equalInputsGiveEqualFingerprints() {
        CacheLayout a = new CacheLayout(SHAPE, KvDType.F16, 16);
        CacheLayout b = new CacheLayout(ModelShape.of("m", 4, 8, 2, 64), KvDType.F16, 16);
        assertEquals(LayoutFingerprint.of(a), LayoutFingerprint.of(b));
        assertTrue(LayoutFingerprint.of(a).description().contains("dtype=f16 blockSize=16 layers=4"),
                LayoutFingerprint.of(a).description());
    }

    @Test
    void theDefaultHeadRunsOrderKeepsTheFingerprintOfLayoutsBeforeTheOrderExistedAndTokenRunsIsNamed() {
        CacheLayout a = new CacheLayout(SHAPE, KvDType.F16, 16);
        assertEquals(LayoutFingerprint.of(a), LayoutFingerprint.of(a.withOrder(BlockOrder.HEAD_RUNS)));
        assertEquals("pagedkv-layout/1 model=m dtype=f16 blockSize=16 layers=4 queryHeads=8 kvHeads=2 headDim=64"
                + " window=0 pattern=GLOBAL scales=none", LayoutFingerprint.of(a).description());
        assertTrue(LayoutFingerprint.of(a.withOrder(BlockOrder.TOKEN_RUNS)).description().endsWith(" order=token-runs"),
                LayoutFingerprint.of(a.withOrder(BlockOrder.TOKEN_RUNS)).description());
    }

    @Test
    void badInputNamesTheValue() {
        CacheLayout a = new CacheLayout(SHAPE, KvDType.FP8_E4M3, 16);
        assertThrows(IllegalArgumentException.class, () -> LayoutFingerprint.of(" ", a, null));
        var e = assertThrows(IllegalArgumentException.class,
                () -> LayoutFingerprint.of("m", a, KvScales.uniform(3, 2, 1f, 1f)));
        assertTrue(e.getMessage().contains("3 layers"), e.getMessage());
    }
}
