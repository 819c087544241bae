package io.pagedkv.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.AttentionPattern;
import io.pagedkv.model.ModelPresets;
import io.pagedkv.model.ModelShape;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {

    private static final long GIB = 1L << 30;

    private static MemoryPlan plan(ModelShape shape, KvDType dtype, long context) {
        return MemoryPlan.of(shape, dtype, WeightFormat.F16, 1L << 50, context, 1);
    }

    @Test
    void llama31_70bAt131072TokensInF16Needs40GiB() {
        MemoryPlan p = plan(ModelPresets.LLAMA_3_1_70B, KvDType.F16, 131_072);
        assertEquals(327_680, p.bytesPerToken());
        assertEquals(42_949_672_960L, p.cacheBytesPerRequest());
        assertEquals(40 * GIB, p.cacheBytesPerRequest());
    }

    @Test
    void llama31_70bWithout_gqaWouldNeed320GiB() {
        ModelShape mha = new ModelShape("llama-3.1-70b-mha", 80, 64, 64, 128, 0, AttentionPattern.GLOBAL, 0);
        assertEquals(320 * GIB, plan(mha, KvDType.F16, 131_072).cacheBytesPerRequest());
    }

    @Test
    void llama3_8bInF16Needs131072BytesPerToken() {
        assertEquals(131_072, plan(ModelPresets.LLAMA_3_8B, KvDType.F16, 1).bytesPerToken());
        assertEquals(16 * 131_072, plan(ModelPresets.LLAMA_3_8B, KvDType.F16, 1).bytesPerBlock());
    }

    @Test
    void q8_0CostsEightAndAHalfBitsPerValueNotEight() {
        MemoryPlan f16 = plan(ModelPresets.LLAMA_3_1_70B, KvDType.F16, 131_072);
        MemoryPlan q8 = f16.withKvDtype(KvDType.Q8_0);
        // 34 bytes per 32 values: 128 values of a head take 136 bytes, not 128.
        assertEquals(80L * 2 * 8 * 136, q8.bytesPerToken());
        assertEquals(q8.cacheBytesPerRequest() * 32, f16.cacheBytesPerRequest() * 17);
        assertEquals(q8.bytesPerToken() * 32, f16.bytesPerToken() * 17);
        assertEquals(80L * 2 * 8 * 72, f16.withKvDtype(KvDType.Q4_0).bytesPerToken());
    }

    @Test
    void aPartialBlockCostsAWholeBlock() {
        MemoryPlan p = plan(ModelPresets.LLAMA_3_8B, KvDType.F16, 17);
        assertEquals(32 * 131_072, p.cacheBytesPerRequest());
        assertEquals(0, p.cacheBytesPerRequest(0));
        assertEquals(16 * 131_072, p.cacheBytesPerRequest(1));
    }

    @Test
    void gemma2SlidingLayersCapAtTheirWindow() {
        MemoryPlan p = plan(ModelPresets.GEMMA_2_9B, KvDType.F16, 8192);
        // 21 global layers hold 8192 tokens, 21 sliding layers 4096 + one block of 16 (the grouped cache's
        // ceil(4096 / 16) + 1 blocks), each 2 * 8 * 256 * 2 bytes per token.
        assertEquals(8192L * (21 * 8192 + 21 * (4096 + 16)), p.cacheBytesPerRequest());
        assertEquals(42L * 8192 * 4096, p.cacheBytesPerRequest(4096));
        assertEquals(8192L * (21 * 4112 + 21 * 4112), p.cacheBytesPerRequest(4097), "the window's first block is partly in");
    }

    @Test
    void mistralSlidesOnEveryLayerSoItsCacheStopsGrowing() {
        MemoryPlan p = plan(ModelPresets.MISTRAL_7B, KvDType.F16, 32_768);
        assertEquals((4096L + 16) * 131_072, p.cacheBytesPerRequest());
        assertEquals(4096L * 131_072, p.cacheBytesPerRequest(4096));
        assertEquals(p.cacheBytesPerRequest(4097), p.cacheBytesPerRequest(1_000_000));
        assertEquals(MemoryPlan.UNLIMITED, p.maxContext());
    }

    @Test
    void weightsAreParametersTimesBitsPerWeight() {
        long params = ModelPresets.LLAMA_3_1_70B.parameters();
        assertEquals(params * 2, WeightFormat.F16.bytesFor(params));
        assertEquals(params * 17 / 16, WeightFormat.Q8_0.bytesFor(params));
        // 70,553,706,496 * 4.84 / 8 = 42,684,992,430.08, rounded up
        assertEquals(42_684_992_431L, WeightFormat.Q4_K_M.bytesFor(params));
    }

    @Test
    void seventyBAt128kWithFourQ8RequestsDoesNotFit80GiB() {
        MemoryPlan p = new MemoryPlan(ModelPresets.LLAMA_3_1_70B, KvDType.Q8_0, 16, WeightFormat.Q4_K_M, GIB,
                80 * GIB, 131_072, 4, 512);
        assertEquals(22_817_013_760L, p.cacheBytesPerRequest());
        assertEquals(GIB + 42_684_992_431L + 4 * 22_817_013_760L, p.totalBytes());
        assertFalse(p.fits());
        assertEquals(80 * GIB - p.totalBytes(), p.headroomBytes());
        assertEquals(1, p.maxConcurrency());
        assertEquals(60_512, p.maxContext());
        assertTrue(p.withContext(60_512).fits());
        assertFalse(p.withContext(60_513).fits());
        assertTrue(p.withConcurrency(1).fits());
        assertFalse(p.withConcurrency(2).fits());
    }

    @Test
    void weightsLargerThanMemoryLeaveNoContextAndNoConcurrency() {
        MemoryPlan p = MemoryPlan.of(ModelPresets.LLAMA_3_1_405B, KvDType.F16, WeightFormat.F16, 80 * GIB, 1024, 1);
        assertEquals(MemoryPlan.NONE, p.maxContext());
        assertEquals(0, p.maxConcurrency());
        assertFalse(p.fits());
    }

    @Test
    void prefillTransientIsAVisibleSeparateTerm() {
        MemoryPlan p = new MemoryPlan(ModelPresets.LLAMA_3_1_8B, KvDType.F16, 16, WeightFormat.F16, 0, 24 * GIB,
                8192, 1, 512, AttentionKernel.EAGER);
        assertEquals(32L * 512 * 8192 * 4, p.prefillAttentionScratchBytes());
        assertEquals(512L * 4096 * MemoryPlan.ACTIVATION_WIDTHS * 4, p.prefillActivationBytes());
        assertEquals(p.totalBytes() + p.prefillTransientBytes(), p.peakBytes());
        assertEquals(p.peakBytes() <= p.memoryBytes(), p.fitsWithPrefill());
    }

    @Test
    void flashPrefillKeepsTwoFloatsPerQueryRowWhereEagerKeepsTheWholeScoreMatrix() {
        MemoryPlan eager = new MemoryPlan(ModelPresets.LLAMA_3_1_70B, KvDType.Q8_0, 16, WeightFormat.Q4_K_M, GIB,
                80 * GIB, 131_072, 4, 512, AttentionKernel.EAGER);
        MemoryPlan flash = eager.withAttention(AttentionKernel.FLASH);
        assertEquals(64L * 512 * 131_072 * 4, eager.prefillAttentionScratchBytes()); // 16 GiB
        assertEquals(64L * 512 * 2 * 4, flash.prefillAttentionScratchBytes());        // 256 KiB
        assertEquals(eager.prefillActivationBytes(), flash.prefillActivationBytes());
        assertEquals(eager.totalBytes(), flash.totalBytes());
        assertEquals(AttentionKernel.FLASH, new MemoryPlan(ModelPresets.LLAMA_3_1_8B, KvDType.F16, 16,
                WeightFormat.F16, 0, GIB, 1, 1, 512).attention());
        assertEquals(AttentionKernel.EAGER, AttentionKernel.parse(" Eager "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionKernel.parse("sdpa"));
        assertEquals("attention: sdpa (expected: flash or eager)", e.getMessage());
    }

    @Test
    void hugeContextsSaturateInsteadOfOverflowing() {
        MemoryPlan p = MemoryPlan.of(ModelPresets.LLAMA_3_1_405B, KvDType.F32, WeightFormat.F32, 80 * GIB,
                TokenCount.MAX, Long.MAX_VALUE / 2);
        assertEquals(Long.MAX_VALUE, p.totalBytes());
        assertFalse(p.fits());
    }

    @Test
    void bytesPerTokenAndBlockAgreeWithCacheLayoutForEveryPresetAndDtype() {
        for (ModelShape shape : ModelPresets.all()) {
            for (KvDType d : KvDType.values()) {
                if (!d.supports(shape.headDim())) {
                    continue;
                }
                io.pagedkv.cache.CacheLayout layout = io.pagedkv.cache.CacheLayout.of(shape, d);
                MemoryPlan p = plan(shape, d, 1);
                assertEquals(layout.bytesPerToken(), p.bytesPerToken(), shape.name() + " " + d);
                assertEquals(layout.bytesPerBlock(), p.bytesPerBlock(), shape.name() + " " + d);
            }
        }
    }

    @Test
    void badTermsAreRejectedWithTheirValue() {
        ModelShape tiny = ModelShape.of("tiny", 1, 1, 1, 8);
        var e = assertThrows(IllegalArgumentException.class, () -> plan(tiny, KvDType.Q8_0, 1));
        assertTrue(e.getMessage().contains("head dim 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MemoryPlan.of(tiny, KvDType.F16, WeightFormat.F16, GIB, 1, 0));
        assertTrue(e.getMessage().contains("concurrency: 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MemoryPlan.of(tiny, KvDType.F16, WeightFormat.F16, 0, 1, 1));
        assertTrue(e.getMessage().contains("memoryBytes: 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MemoryPlan.of(tiny, KvDType.F16, WeightFormat.F16, GIB, -1, 1));
        assertTrue(e.getMessage().contains("contextTokens: -1"), e.getMessage());
    }
}
