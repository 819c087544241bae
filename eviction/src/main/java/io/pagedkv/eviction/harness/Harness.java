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
 * engine sees). Shared policies see every head (one decision per sequence); the per-head reference runs
 * one policy per head on its own sequence, mask-only.
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
        try {
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
            int total = spec.totalTokens();
            int prompt = spec.promptTokens();
            float[][] rows = new float[heads][total];
            for (int t = 0; t < total; t++) {
                boolean decode = t >= prompt;
                for (PolicyRun r : runs) {
                    r.place(t, !decode);
                }
                if (decode || anyAttention) {
                    for (int h = 0; h < heads; h++) {
                        trace.row(t, h, rows[h]);
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
            return results;
        } finally {
            for (PolicyRun r : runs) {
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
