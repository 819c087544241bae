package io.pagedkv.eviction.harness;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.StandardPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Replays one {@link SyntheticTrace} through several policies side by side, next to a shadow full
 * cache (the trace's own rows over every position), and reports a {@link PolicyResult} per policy.
 *
 * <p>The replay runs each policy through a real {@link io.pagedkv.eviction.SequenceEvictor} on a small
 * F32 paged cache: the prompt is prefilled token by token with no eviction (each policy that uses
 * attention sees every prompt row, each one that uses keys or values sees them as they are written);
 * at the end of the prompt each policy compresses the cache to its budget (whole empty blocks
 * released, then tail-fill); then every decode step makes room (the policy evicts first, so the cache
 * never exceeds the budget), places the token in the freed slot, measures the full rows against what
 * is kept, and shows the policy each head's row restricted to its kept tokens (renormalised, what the
 * engine sees). Shared policies see every head of every layer (one decision per sequence); the per-head
 * reference runs one policy per head on its own sequence, mask-only; a per-layer line-up ({@link
 * LayerLineup}) runs one policy per layer through a {@link io.pagedkv.eviction.LayerwiseEvictor}, each
 * layer freeing its own memory and measured on its own rows.
 *
 * <p>Cost O(tokens^2 x heads x policies): a research tool, not a hot path. Stateless; thread-safe.
 */
public final class Harness {

    /** Name of the per-head reference row. */
    public static final String PER_HEAD_SUFFIX = "-per-head(mask)";

    private Harness() {
    }

    /**
     * The standard line-up at a budget of {@code budget} tokens (every policy keeps exactly that many,
     * sinks included): every {@link StandardPolicy}, in declaration order.
     */
    public static List<Supplier<EvictionPolicy>> standardPolicies(int budget) {
        if (budget < StandardPolicy.MIN_BUDGET) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: >= " + StandardPolicy.MIN_BUDGET + " tokens)");
        }
        List<Supplier<EvictionPolicy>> list = new ArrayList<>();
        for (StandardPolicy p : StandardPolicy.values()) {
            list.add(() -> p.create(budget));
        }
        return list;
    }

    /**
     * The per-layer line-up at a uniform budget of {@code budget} tokens per layer over {@code layers}
     * layers: every {@link io.pagedkv.eviction.LayerPolicy}, in declaration order.
     */
    public static List<LayerLineup> layerPolicies(int budget, int layers) {
        List<LayerLineup> list = new ArrayList<>();
        for (io.pagedkv.eviction.LayerPolicy p : io.pagedkv.eviction.LayerPolicy.values()) {
            list.add(new LayerLineup(p.name(budget, layers), () -> p.create(budget, layers)));
        }
        return list;
    }

    /** The per-head reference: H2O with SUM, half recent, one instance per head. */
    public static Supplier<EvictionPolicy> perHeadReference(int budget) {
        int half = budget / 2;
        return () -> new HeavyHitters(budget, half, HeavyHitters.Accumulation.SUM);
    }

    /**
     * Runs the trace.
     *
     * @param trace the trace
     * @param shared policies sharing one decision across heads (one fresh instance each)
     * @param perHead a policy run once per head, mask-only, or null for none
     * @param bytesPerToken K and V bytes of one token (all layers and heads), for the byte columns
     * @param blockSize tokens per block, for the block column
     * @return one result per shared policy, then the per-head reference if any
     */
    public static List<PolicyResult> run(SyntheticTrace trace, List<Supplier<EvictionPolicy>> shared,
            Supplier<EvictionPolicy> perHead, long bytesPerToken, int blockSize) {
        return run(trace, shared, perHead, List.of(), bytesPerToken, blockSize);
    }

    /**
     * Runs the trace, with per-layer line-ups as well.
     *
     * @param layered per-layer line-ups (one policy per trace layer each); their rows come last, with
     *     tokens, bytes, blocks freed and bytes copied counted per layer and divided by the layers (a
     *     layer's page holds {@code 1 / layers} of a token's bytes)
     * @return one result per shared policy, then the per-head reference if any, then one per line-up
     */
    public static List<PolicyResult> run(SyntheticTrace trace, List<Supplier<EvictionPolicy>> shared,
            Supplier<EvictionPolicy> perHead, List<LayerLineup> layered, long bytesPerToken, int blockSize) {
        if (bytesPerToken < 1) {
            throw new IllegalArgumentException("bytesPerToken: " + bytesPerToken + " (expected: >= 1)");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: >= 1)");
        }
        TraceSpec spec = trace.spec();
        int heads = spec.heads();
        List<PolicyRun> runs = new ArrayList<>();
        List<PolicyRun> perHeadRuns = new ArrayList<>();
        List<LayerwiseRun> layerRuns = new ArrayList<>();
        try {
            for (LayerLineup lu : layered) {
                layerRuns.add(new LayerwiseRun(trace, lu.name(), lu.policies().get(), blockSize));
            }
            for (Supplier<EvictionPolicy> s : shared) {
                runs.add(new PolicyRun(trace, s.get(), -1, blockSize));
            }
            if (perHead != null) {
                for (int h = 0; h < heads; h++) {
                    PolicyRun r = new PolicyRun(trace, perHead.get(), h, blockSize);
                    perHeadRuns.add(r);
                    runs.add(r);
                }
            }
            boolean anyAttention = false;
            for (PolicyRun r : runs) {
                anyAttention |= r.ev.usesAttention();
            }
            for (LayerwiseRun r : layerRuns) {
                anyAttention |= r.ev.usesAttention();
            }
            int layers = spec.layers();
            int total = spec.totalTokens();
            int prompt = spec.promptTokens();
            float[][][] rows = new float[layers][heads][total];
            for (int t = 0; t < total; t++) {
                boolean decode = t >= prompt;
                for (PolicyRun r : runs) {
                    r.place(t, !decode);
                }
                for (LayerwiseRun r : layerRuns) {
                    r.place(t, !decode);
                }
                if (decode || anyAttention) {
                    for (int l = 0; l < layers; l++) {
                        for (int h = 0; h < heads; h++) {
                            trace.row(t, l, h, rows[l][h]);
                        }
                    }
                }
                for (PolicyRun r : runs) {
                    if (decode) {
                        r.measure(t, rows);
                    }
                    r.observe(rows);
                    if (t == prompt - 1) {
                        r.compress();
                    }
                }
                for (LayerwiseRun r : layerRuns) {
                    if (decode) {
                        r.measure(t, rows);
                    }
                    r.observe(rows);
                    if (t == prompt - 1) {
                        r.compress();
                    }
                }
            }
            List<PolicyResult> results = new ArrayList<>();
            for (PolicyRun r : runs) {
                if (r.head < 0) {
                    results.add(result(r.name, List.of(r), bytesPerToken));
                }
            }
            if (!perHeadRuns.isEmpty()) {
                results.add(result(perHeadRuns.get(0).name + PER_HEAD_SUFFIX, perHeadRuns, bytesPerToken));
            }
            for (LayerwiseRun r : layerRuns) {
                Metrics m = r.metrics;
                double d = Math.max(1, m.rows);
                long kept = r.ev.keptTokens() / layers;
                results.add(new PolicyResult(r.name, kept, r.ev.keptTokens() * bytesPerToken / layers,
                        r.ev.blocksFreed() / layers, r.ev.slotMoves() * bytesPerToken / layers, m.recall / d, m.oracle / d,
                        m.top10 / d, m.outputError / d, m.needleHits, m.needleChecks));
            }
            return results;
        } finally {
            for (PolicyRun r : runs) {
                r.close();
            }
            for (LayerwiseRun r : layerRuns) {
                r.close();
            }
        }
    }

    private static PolicyResult result(String name, List<PolicyRun> group, long bytesPerToken) {
        double recall = 0;
        double oracle = 0;
        double top10 = 0;
        double error = 0;
        long rows = 0;
        int needleHits = 0;
        int needleChecks = 0;
        long freed = 0;
        long moves = 0;
        for (PolicyRun r : group) {
            Metrics m = r.metrics;
            recall += m.recall;
            oracle += m.oracle;
            top10 += m.top10;
            error += m.outputError;
            rows += m.rows;
            needleHits += m.needleHits;
            needleChecks += m.needleChecks;
        }
        long kept;
        if (group.size() == 1) {
            PolicyRun r = group.get(0);
            kept = r.ev.liveTokens();
            freed = r.ev.blocksFreed();
            moves = r.ev.slotMoves();
        } else {
            // Mask-only: a token stays in memory while any head keeps it; nothing is freed or moved.
            int n = group.get(0).kept.length;
            kept = 0;
            for (int p = 0; p < n; p++) {
                for (PolicyRun r : group) {
                    if (r.kept[p]) {
                        kept++;
                        break;
                    }
                }
            }
        }
        double d = Math.max(1, rows);
        return new PolicyResult(name, kept, kept * bytesPerToken, freed, moves * bytesPerToken,
                recall / d, oracle / d, top10 / d, error / d, needleHits, needleChecks);
    }
}
