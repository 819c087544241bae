package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.BlockOrder;
import io.pagedkv.dtype.KvDType;
import java.io.IOException;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end claim on real trained weights: decoding through pagedkv (F32) picks exactly the
 * contiguous cache's tokens for the model's whole context, with logits within 1e-5 relative; the
 * lossy dtypes report where they first pick another token.
 */
class PagedDecodingTest {

    @Test
    void stories260kThroughThePagedF32CacheMatchesContiguousForAll512Positions() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.STORIES);
        Lockstep.Result r = lockstep(w, KvDType.F32, 16, w.config().seqLen());
        assertEquals(512, r.steps());
        assertTrue(r.identical(), "first divergence at step " + r.firstDivergence());
        assertTrue(r.maxRelativeError() <= 1e-5, "max relative logit error " + r.maxRelativeError());
    }

    @Test
    void aidreams260kThroughThePagedF32CacheMatchesContiguousForAll128Positions() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        for (int blockSize : new int[] {1, 7, 16, 128}) {
            Lockstep.Result r = lockstep(w, KvDType.F32, blockSize, w.config().seqLen());
            assertEquals(128, r.steps());
            assertTrue(r.identical(), "block size " + blockSize + ": first divergence at step " + r.firstDivergence());
            assertTrue(r.maxRelativeError() <= 1e-5, "block size " + blockSize + ": max relative logit error "
                    + r.maxRelativeError());
        }
    }

    @Test
    void tokenRunBlocksDecodeTheSameTokensAndLogitsAsHeadRunBlocksOnBothRealModels() throws IOException {
        // stories260K: 4 KV heads of dim 8 (the vector engine's packed case, read through its scratch when
        // strided); aidreams260K: 4 KV heads of dim 16. Block size 7 puts block edges mid-tile.
        for (String model : new String[] {RealModels.STORIES, RealModels.AIDREAMS}) {
            LlamaWeights w = RealModels.weights(model);
            LlamaConfig c = w.config();
            for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16}) {
                for (int blockSize : new int[] {7, 16}) {
                    try (PagedKvStore heads = new PagedKvStore(c, dtype, blockSize, c.seqLen(), BlockOrder.HEAD_RUNS);
                         PagedKvStore tokens = new PagedKvStore(c, dtype, blockSize, c.seqLen(), BlockOrder.TOKEN_RUNS)) {
                        Lockstep.Result r = Lockstep.run(new LlamaDecoder(w, heads), new LlamaDecoder(w, tokens), c.seqLen());
                        String where = model + " " + dtype + " block size " + blockSize;
                        assertEquals(c.seqLen(), tokens.length(), where);
                        assertTrue(r.identical(), where + ": first divergence at step " + r.firstDivergence());
                        // The same loops over the same values; but a step may run the Vector API's Java fallback in one
                        // store and C2's code in the other (another lane-reduction order): the paged-vs-contiguous bound.
                        assertTrue(r.maxRelativeError() <= 1e-5, where + ": max relative logit error " + r.maxRelativeError());
                    }
                }
            }
        }
    }

    @Test
    void f16CachesOnRealModelsReportTheirFirstDivergenceAndStayWithinOnePercent() throws IOException {
        for (String model : new String[] {RealModels.STORIES, RealModels.AIDREAMS}) {
            LlamaWeights w = RealModels.weights(model);
            Lockstep.Result r = report(model, w, KvDType.F16);
            assertTrue(r.maxRelativeError() > 0, "f16 rounds, so logits must move");
            assertTrue(r.maxRelativeError() < 1e-2, "f16 stays within 1%: " + r.maxRelativeError());
        }
    }

    @Test
    @Tag("slow")
    void lossyCachesWithFewerMantissaBitsDriftMoreOnRealModels() throws IOException {
        for (String model : new String[] {RealModels.STORIES, RealModels.AIDREAMS}) {
            LlamaWeights w = RealModels.weights(model);
            double previous = 0;
            for (KvDType dtype : new KvDType[] {KvDType.F16, KvDType.BF16, KvDType.FP8_E4M3}) {
                Lockstep.Result r = report(model, w, dtype);
                assertTrue(r.maxRelativeError() > previous, dtype + " (fewer mantissa bits) drifts more: "
                        + r.maxRelativeError() + " vs " + previous);
                previous = r.maxRelativeError();
            }
        }
    }

    private static Lockstep.Result report(String model, LlamaWeights w, KvDType dtype) {
        Lockstep.Result r = lockstep(w, dtype, 16, w.config().seqLen());
        System.out.printf(Locale.ROOT, "%s %s: %s, max relative logit error %.3g%n", model, dtype,
                r.identical() ? "identical tokens for " + r.steps() + " steps"
                        : "first divergence at step " + r.firstDivergence(), r.maxRelativeError());
        return r;
    }

    @Test
    void q8_0NeedsAHeadDimOf32SoTheRealModelsRejectItWithTheReason() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PagedKvStore(w.config(), KvDType.Q8_0, 16, 128));
        assertTrue(e.getMessage().contains("headDim: 16") && e.getMessage().contains("group size 32"), e.getMessage());
    }

    @Test
    void q8_0CacheOnASeededModelWithHeadDim32ReportsItsFirstDivergence() {
        LlamaWeights w = SeededWeights.generate(new LlamaConfig(128, 256, 2, 4, 2, 64, 128, false), 8);
        for (KvDType dtype : new KvDType[] {KvDType.Q8_0, KvDType.Q4_0}) {
            Lockstep.Result r = lockstep(w, dtype, 16, 128);
            System.out.printf(Locale.ROOT, "seeded dim 128 head 32 %s: %s, max relative logit error %.3g%n", dtype,
                    r.identical() ? "identical tokens for " + r.steps() + " steps"
                            : "first divergence at step " + r.firstDivergence(), r.maxRelativeError());
            assertTrue(r.maxRelativeError() > 0 && r.maxRelativeError() < 0.5, dtype + ": " + r.maxRelativeError());
        }
    }

    static Lockstep.Result lockstep(LlamaWeights w, KvDType dtype, int blockSize, int steps) {
        LlamaConfig c = w.config();
        try (KvStore ref = new ContiguousKvStore(c, c.seqLen());
             PagedKvStore paged = new PagedKvStore(c, dtype, blockSize, c.seqLen())) {
            Lockstep.Result r = Lockstep.run(new LlamaDecoder(w, ref), new LlamaDecoder(w, paged), steps);
            assertEquals(steps, paged.length());
            assertEquals(c.seqLen() / blockSize + (c.seqLen() % blockSize == 0 ? 0 : 1) >= paged.cache().stats().usedBlocks(),
                    true, "blocks used " + paged.cache().stats().usedBlocks());
            return r;
        }
    }
}
