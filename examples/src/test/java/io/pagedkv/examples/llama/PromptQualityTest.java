package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.LayerPolicy;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.eviction.StandardPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PromptQualityTest {

    private static final LlamaConfig SMALL = new LlamaConfig(32, 48, 2, 4, 2, 40, 48, false);

    private static List<int[]> prompts(int count, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] p = r.ints(length, 0, 40).toArray();
            p[0] = Tokenizer.BOS;
            out.add(p);
        }
        return out;
    }

    @Test
    void aRowIsTheMeanOverPromptsOfEachPromptsOwnMeasurement() {
        LlamaWeights w = SeededWeights.generate(SMALL, 21);
        List<PromptQuality.Reference> refs = PromptQuality.references(w, prompts(5, 40, 3));
        PromptQuality.Row row = PromptQuality.measure(w, refs, StandardPolicy.TOVA::create, 12, RotaryMode.CACHE);
        assertEquals(5, row.prompts());
        assertEquals(5 * (40 - 12), row.steps(), "steps 12 .. 39 of each prompt hold fewer tokens than the full cache");
        assertEquals(12, row.peakTokens());
        double[] agreement = new double[5];
        double[] kl = new double[5];
        for (int i = 0; i < 5; i++) {
            PromptQuality.PromptResult r = PromptQuality.measure(w, refs.get(i), StandardPolicy.TOVA.create(12), RotaryMode.CACHE);
            assertEquals(28, r.steps());
            agreement[i] = r.agreement();
            kl[i] = r.kl();
            assertTrue(r.recall() > 0 && r.recall() < 1, r.toString());
        }
        assertEquals(MeanInterval.of(agreement), row.agreement());
        assertEquals(MeanInterval.of(kl), row.kl());
        assertTrue(row.kl().low() <= row.kl().mean() && row.kl().mean() <= row.kl().high(), row.toString());
        assertTrue(row.kl().mean() > 0, row.toString());
    }

    @Test
    void aBudgetThatHoldsAWholePromptIsRefusedBecauseNothingWouldBeMeasured() {
        LlamaWeights w = SeededWeights.generate(SMALL, 22);
        List<PromptQuality.Reference> refs = PromptQuality.references(w, prompts(2, 20, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptQuality.measure(w, refs, SlidingWindow::new, 20, RotaryMode.ORIGINAL));
        assertTrue(e.getMessage().contains("prompt 0: 20 tokens (expected: > budget 20"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PromptQuality.measure(w, List.of(), SlidingWindow::new, 8, RotaryMode.ORIGINAL));
    }
    /**
     * The per-layer path measures what the shared path measures when every layer runs the same
     * attention-free policy: one window per layer drops exactly what the shared window drops, so the
     * logits agree to float rounding and recall and steps are equal.
     */
    @Test
    void oneWindowPerLayerMeasuresWhatTheSharedWindowMeasures() {
        LlamaWeights w = SeededWeights.generate(SMALL, 23);
        List<PromptQuality.Reference> refs = PromptQuality.references(w, prompts(3, 40, 5));
        for (PromptQuality.Reference ref : refs) {
            PromptQuality.PromptResult shared = PromptQuality.measure(w, ref, new SlidingWindow(12), RotaryMode.ORIGINAL);
            PromptQuality.PromptResult layered = PromptQuality.measureLayered(w, ref,
                    new EvictionPolicy[] {new SlidingWindow(12), new SlidingWindow(12)}, 12, "window-layer(12)");
            assertEquals(shared.steps(), layered.steps());
            assertEquals(shared.agreed(), layered.agreed());
            assertEquals(shared.kl(), layered.kl(), 1e-6);
            assertEquals(shared.recall(), layered.recall(), 1e-6);
        }
    }

    @Test
    void perLayerRowsAreMeasuredOnTheStepsPastTheUniformBudget() {
        LlamaWeights w = SeededWeights.generate(SMALL, 24);
        List<PromptQuality.Reference> refs = PromptQuality.references(w, prompts(3, 40, 6));
        for (LayerPolicy lp : LayerPolicy.values()) {
            PromptQuality.Row row = PromptQuality.measureLayered(w, refs, lp, 12);
            assertEquals(3 * (40 - 12), row.steps(), lp.label());
            assertEquals(lp.name(12, 2), row.policy());
            int[] budgets = lp.budgets(12, 2);
            assertEquals(Math.max(budgets[0], budgets[1]), row.peakTokens(), lp.label());
            assertTrue(row.kl().mean() > 0 && row.recall().mean() < 1, row.toString());
        }
    }
}
