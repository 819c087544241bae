package io.pagedkv.eviction.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-layer rows of the harness (issue 21, Must show 4). */
class LayerwiseHarnessTest {

    static final int PROMPT = 512;
    static final int DECODE = 128;
    static final int BUDGET = PROMPT / 5;

    static List<PolicyResult> table(TraceKind kind, int layers) {
        SyntheticTrace trace = new SyntheticTrace(new TraceSpec(kind, PROMPT, DECODE, 4, 16, 42, layers));
        List<PolicyResult> r = Harness.run(trace, Harness.standardPolicies(BUDGET), Harness.perHeadReference(BUDGET),
                Harness.layerPolicies(BUDGET, layers), 1024, 16);
        System.out.print(ResultTable.text(kind.label() + "/" + layers, r));
        return r;
    }

    @Test
    void withOneLayerPerLayerH2oAndTovaAreExactlyTheSharedOnes() {
        List<PolicyResult> t = table(TraceKind.POWER_LAW, 1);
        PolicyResult h2o = HarnessTableTest.find(t, "h2o(");
        PolicyResult h2oLayer = HarnessTableTest.find(t, "h2o-layer");
        PolicyResult tova = HarnessTableTest.find(t, "tova(");
        PolicyResult tovaLayer = HarnessTableTest.find(t, "tova-layer");
        for (PolicyResult[] pair : new PolicyResult[][] {{h2o, h2oLayer}, {tova, tovaLayer}}) {
            assertEquals(pair[0].recall(), pair[1].recall(), 0.0, pair[1].policy());
            assertEquals(pair[0].outputError(), pair[1].outputError(), 0.0, pair[1].policy());
            assertEquals(pair[0].tokensKept(), pair[1].tokensKept(), pair[1].policy());
            assertEquals(pair[0].bytesKept(), pair[1].bytesKept(), pair[1].policy());
            assertEquals(pair[0].blocksFreed(), pair[1].blocksFreed(), pair[1].policy());
        }
    }

    @Test
    void withFourLayersEveryPerLayerLineUpHoldsTheSharedBudgetsMemoryAndDecidesPerLayer() {
        List<PolicyResult> t = table(TraceKind.POWER_LAW, 4);
        PolicyResult h2o = HarnessTableTest.find(t, "h2o(");
        for (String name : new String[] {"h2o-layer", "tova-layer", "snapkv", "pyramidkv"}) {
            PolicyResult r = HarnessTableTest.find(t, name);
            assertEquals(BUDGET, r.tokensKept(), name + ": the layers keep the uniform budget on average");
            assertEquals(h2o.bytesKept(), r.bytesKept(), name + ": the same memory as a shared policy");
            assertTrue(r.recall() <= r.oracle() + 1e-9, name);
        }
        PolicyResult h2oLayer = HarnessTableTest.find(t, "h2o-layer");
        PolicyResult tova = HarnessTableTest.find(t, "tova(");
        PolicyResult tovaLayer = HarnessTableTest.find(t, "tova-layer");
        // each layer's heavy hitters differ on this trace: deciding per layer keeps more of each layer's mass
        assertTrue(h2oLayer.recall() > h2o.recall() + 0.01, h2oLayer.recall() + " vs " + h2o.recall());
        assertTrue(tovaLayer.recall() > tova.recall() + 0.01, tovaLayer.recall() + " vs " + tova.recall());
    }
}
