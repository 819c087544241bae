package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.StandardPolicy;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 22 item 5: the quality table is computed through the paged evicting path ({@link
 * EvictingKvStore}: SequenceEvictor, slot reuse, PagedAttention over slots with positions and holes,
 * keys re-rotated in place in the cache), and this test ties that path to the masked reference
 * ({@link MaskedReference}: contiguous, slot = position, keys re-rotated from the key as written): on
 * the real aidreams260K and a KJV prompt, for every standard policy and both rotary modes, both make
 * the same eviction decisions at every step and give the same logits up to float rounding.
 */
class PagedQualityTieTest {

    /** Largest {@code max_i |paged_i - masked_i| / max_i |masked_i|} accepted at any step. */
    private static final double LOGIT_TOLERANCE = 1e-5;

    @Test
    void thePagedEvictingPathMakesTheMaskedReferencesDecisionsWithItsLogits() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        List<int[]> prompts = EvalText.prompts(RealModels.aidreamsTokenizer(), 1, 128);
        int[] tokens = prompts.get(0);
        double worst = 0;
        StringBuilder report = new StringBuilder();
        for (int budget : new int[] {16, 40}) {
            for (StandardPolicy sp : StandardPolicy.values()) {
                for (RotaryMode mode : RotaryMode.values()) {
                    String what = sp.label() + " budget " + budget + " " + mode;
                    double err = lockstep(w, sp, budget, mode, tokens, what);
                    worst = Math.max(worst, err);
                    report.append(String.format(java.util.Locale.ROOT, "%s: %.2e%n", what, err));
                }
            }
        }
        System.out.print(report);
        assertTrue(worst <= LOGIT_TOLERANCE, "largest relative logit difference " + worst + "\n" + report);
    }

    /** Runs both paths in lockstep; asserts the kept sets after every step; returns the largest relative logit difference. */
    private static double lockstep(LlamaWeights w, StandardPolicy sp, int budget, RotaryMode mode, int[] tokens, String what) {
        LlamaConfig c = w.config();
        double worst = 0;
        try (MaskedReference ref = new MaskedReference(w, sp.create(budget), tokens.length, mode);
                EvictingKvStore paged = new EvictingKvStore(c, KvDType.F32, 16, tokens.length, sp.create(budget), mode)) {
            LlamaDecoder d = new LlamaDecoder(w, paged);
            for (int t = 0; t < tokens.length; t++) {
                float[] expected = ref.step(tokens[t]);
                float[] actual = d.forward(tokens[t]);
                for (int p = 0; p <= t; p++) {
                    if (ref.store().isLive(p) != paged.isKept(p)) {
                        throw new AssertionError(what + ": step " + t + ", position " + p + " kept by the masked reference: "
                                + ref.store().isLive(p) + ", by the paged path: " + paged.isKept(p));
                    }
                }
                assertEquals(ref.store().liveTokens(), paged.liveTokens(), what + " step " + t);
                double max = 0;
                double diff = 0;
                for (int i = 0; i < expected.length; i++) {
                    max = Math.max(max, Math.abs(expected[i]));
                    diff = Math.max(diff, Math.abs((double) actual[i] - expected[i]));
                }
                worst = Math.max(worst, diff / max);
            }
            assertTrue(paged.peakTokens() <= budget, what + ": peak " + paged.peakTokens());
            assertEquals(budget, paged.liveTokens(), what);
        }
        return worst;
    }
}
