package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.eviction.StandardPolicy;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class PolicyQualityTest {

    private static final LlamaConfig SMALL = new LlamaConfig(32, 48, 2, 4, 2, 40, 48, false);

    @Test
    void aMaskedStoreWithNothingEvictedGivesTheContiguousLogits() {
        LlamaWeights w = SeededWeights.generate(SMALL, 9);
        try (KvStore a = new ContiguousKvStore(SMALL, 48); MaskedKvStore b = new MaskedKvStore(SMALL, 48)) {
            LlamaDecoder da = new LlamaDecoder(w, a);
            LlamaDecoder db = new LlamaDecoder(w, b);
            for (int t = 0; t < 20; t++) {
                assertArrayEquals(da.forward(t % 40), db.forward(t % 40), 1e-6f, "step " + t);
            }
        }
    }

    @Test
    void anEvictedTokenGetsNoWeightAndTheRestStillSumToOne() {
        LlamaWeights w = SeededWeights.generate(SMALL, 10);
        try (MaskedKvStore s = new MaskedKvStore(SMALL, 48)) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            d.forward(1);
            d.forward(2);
            s.evict(0);
            d.forward(3);
            for (int l = 0; l < SMALL.layers(); l++) {
                for (int h = 0; h < SMALL.heads(); h++) {
                    float[] wt = s.weights(l);
                    assertEquals(0f, wt[h * 48]);
                    assertEquals(1.0, wt[h * 48 + 1] + wt[h * 48 + 2], 1e-6);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.evict(0));
            assertTrue(e.getMessage().contains("slot: 0 (expected: live"), e.getMessage());
        }
    }

    @Test
    void klDivergenceIsZeroForEqualLogitsAndMatchesAHandComputedPair() {
        assertEquals(0.0, PolicyQuality.klDivergence(new float[] {1, 2, 3}, new float[] {1, 2, 3}), 1e-12);
        // p = (1/2, 1/2), q = softmax(0, ln 3) = (1/4, 3/4): KL = 1/2 ln 2 + 1/2 ln(2/3)
        double expected = 0.5 * Math.log(2) + 0.5 * Math.log(2.0 / 3);
        assertEquals(expected, PolicyQuality.klDivergence(new float[] {0, 0}, new float[] {0, (float) Math.log(3)}), 1e-6);
    }

    @Test
    void aBudgetCoveringTheWholeRunMeasuresNoStepAndLosesNothing() {
        LlamaWeights w = SeededWeights.generate(SMALL, 11);
        PolicyQuality.Row r = PolicyQuality.measure(w, SlidingWindow::new, 40, 40);
        assertEquals(0, r.steps());
        assertEquals(1.0, r.agreement());
    }

    @Test
    void onAidreamsALargerBudgetKeepsMoreAttentionMassAndLowersKl() throws IOException {
        LlamaWeights w = RealModels.weights(RealModels.AIDREAMS);
        PolicyQuality.Row small = PolicyQuality.measure(w, AttentionSinks::new, 16, 128);
        PolicyQuality.Row large = PolicyQuality.measure(w, AttentionSinks::new, 64, 128);
        // before token B is placed the policy evicts one (evict first, then place), so steps B .. 127 are measured
        assertEquals(128 - 16, small.steps());
        assertEquals(128 - 64, large.steps());
        assertTrue(large.recall() > small.recall(), large + " vs " + small);
        assertTrue(large.meanKl() < small.meanKl(), large + " vs " + small);
        assertTrue(small.recall() > 0 && large.recall() < 1, small + " " + large);
    }

    @Test
    void everyStandardPolicyRunsOnAModelAndMeasuresTheStepsPastItsBudget() {
        LlamaWeights w = SeededWeights.generate(SMALL, 15);
        for (StandardPolicy p : StandardPolicy.values()) {
            PolicyQuality.Row r = PolicyQuality.measure(w, p::create, 12, 40);
            assertEquals(40 - 12, r.steps(), p.label());
            assertTrue(r.recall() > 0 && r.recall() < 1, p.label() + " " + r);
        }
    }

    @Test
    void aSlidingWindowMeasuresTheSameInBothRotaryModesBecauseRopeDependsOnlyOnDistance() {
        // A window keeps a contiguous run, so places in the cache shift every position by the same amount.
        LlamaWeights w = SeededWeights.generate(SMALL, 12);
        PolicyQuality.Row original = PolicyQuality.measure(w, SlidingWindow::new, 10, 48, RotaryMode.ORIGINAL);
        PolicyQuality.Row cache = PolicyQuality.measure(w, SlidingWindow::new, 10, 48, RotaryMode.CACHE);
        assertEquals(original.steps(), cache.steps());
        assertEquals(original.agreement(), cache.agreement());
        assertEquals(original.meanKl(), cache.meanKl(), 1e-4);
        assertEquals(original.recall(), cache.recall(), 1e-4);
    }

    @Test
    void sinksWithAGapMeasureDifferentlyOnceKeysMoveToTheirPlacesInTheCache() {
        LlamaWeights w = SeededWeights.generate(SMALL, 13);
        PolicyQuality.Row original = PolicyQuality.measure(w, AttentionSinks::new, 12, 48, RotaryMode.ORIGINAL);
        PolicyQuality.Row cache = PolicyQuality.measure(w, AttentionSinks::new, 12, 48, RotaryMode.CACHE);
        assertTrue(Math.abs(original.meanKl() - cache.meanKl()) > 1e-4, original + " vs " + cache);
    }

    @Test
    void inCacheModeANewTokenIsRotatedAtItsPlaceAmongTheKeptTokens() {
        LlamaWeights w = SeededWeights.generate(SMALL, 14);
        try (MaskedKvStore s = new MaskedKvStore(SMALL, 48, RotaryMode.CACHE)) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            d.forward(1);
            d.forward(2);
            d.forward(3);
            s.evict(1);
            s.reposition();
            d.forward(4);
            assertEquals(2, s.ropePosition(3), "two kept tokens: the next one sits at place 2");
            assertEquals(4, s.length());
        }
        try (MaskedKvStore s = new MaskedKvStore(SMALL, 48, RotaryMode.ORIGINAL)) {
            LlamaDecoder d = new LlamaDecoder(w, s);
            d.forward(1);
            d.forward(2);
            s.evict(0);
            d.forward(3);
            assertEquals(2, s.ropePosition(2), "original positions ignore evictions");
        }
    }
}
