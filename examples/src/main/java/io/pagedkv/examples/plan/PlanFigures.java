package io.pagedkv.examples.plan;

import io.pagedkv.model.ModelShape;
import io.pagedkv.plan.MemoryPlan;
import java.util.Locale;

/** Wording shared by the table and the JSON: how a model and a max figure are described. Stateless. */
final class PlanFigures {

    private PlanFigures() {
    }

    static String describe(ModelShape s) {
        String layers = switch (s.pattern()) {
            case GLOBAL -> "all layers global";
            case SLIDING -> "all layers slide over " + grouped(s.slidingWindow()) + " tokens";
            case ALTERNATING_SLIDING_GLOBAL -> s.slidingLayers() + " layers slide over " + grouped(s.slidingWindow())
                    + " tokens, " + s.globalLayers() + " global";
        };
        String gqa = s.queryHeadsPerKvHead() == 1 ? "no GQA" : "GQA " + s.queryHeadsPerKvHead() + ":1";
        return s.name() + ": " + s.layers() + " layers, " + s.queryHeads() + " query heads, " + s.kvHeads()
                + " KV heads (" + gqa + "), head dim " + s.headDim() + ", " + layers + ", "
                + (s.parameters() == 0 ? "parameter count unknown (weights count as 0)"
                        : grouped(s.parameters()) + " parameters");
    }

    static String maxFigure(long v) {
        if (v == MemoryPlan.UNLIMITED) {
            return "unlimited";
        }
        if (v == MemoryPlan.NONE) {
            return "none";
        }
        return grouped(v);
    }

    static String grouped(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }


    /**
     * The same plan with every layer global: what a cache that knows nothing of sliding windows holds.
     * Equal to {@code p} for a model without sliding layers.
     */
    static MemoryPlan allGlobal(MemoryPlan p) {
        ModelShape s = p.shape();
        if (s.pattern() == io.pagedkv.model.AttentionPattern.GLOBAL) {
            return p;
        }
        ModelShape global = new ModelShape(s.name(), s.layers(), s.queryHeads(), s.kvHeads(), s.headDim(), 0,
                io.pagedkv.model.AttentionPattern.GLOBAL, s.parameters());
        return new MemoryPlan(global, p.kvDtype(), p.blockSize(), p.weights(), p.overheadBytes(), p.memoryBytes(),
                p.contextTokens(), p.concurrency(), p.prefillChunkTokens(), p.attention());
    }
}
