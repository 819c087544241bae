package io.pagedkv.eviction.harness;

import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.KeyNorm;
import io.pagedkv.eviction.SlidingWindow;
import io.pagedkv.eviction.Tova;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Replays one {@link SyntheticTrace} through several policies side by side, next to a shadow full
 * cache (the trace's own rows over every position), and reports a {@link PolicyResult} per policy.
 *
 * <p>The replay: the prompt is prefilled token by token (each policy that uses attention sees every
 * prompt row, as an engine computing the prompt's attention would show it); at the end of the prompt
 * each policy compresses the cache to its budget (tail-fill compaction frees the trailing blocks);
 * then every decode step appends one token, measures the full rows against what the policy kept,
 * shows the policy the rows restricted to its kept tokens (renormalised, what the engine sees), and
 * lets it evict (one in, one out, the freed slot reused). Shared policies see all heads reduced with
 * SUM (one decision per sequence); the per-head reference runs one policy per head, mask-only.
 *
 * <p>Cost O(tokens^2 x heads x policies): a research tool, not a hot path. Stateless; thread-safe.
 */
public final class Harness {

    /** Name of the per-head reference row. */
    public static final String PER_HEAD_SUFFIX = "-per-head(mask)";

    private Harness() {
    }

    /**
     * The standard line-up at a budget of {@code budget} tokens: window, sinks + recent, H2O (half heavy,
     * half recent) with SUM and NORM_SUM, TOVA, and key norm (4 sinks, half recent).
     */
    public static List<Supplier<EvictionPolicy>> standardPolicies(int budget) {
        if (budget < 8) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: >= 8 tokens)");
        }
        int half = budget / 2;
        List<Supplier<EvictionPolicy>> list = new ArrayList<>();
        list.add(() -> new SlidingWindow(budget));
        list.add(() -> new AttentionSinks(AttentionSinks.DEFAULT_SINKS, budget - AttentionSinks.DEFAULT_SINKS, 1));
        list.add(() -> new HeavyHitters(budget - half, half, HeavyHitters.Accumulation.SUM));
        list.add(() -> new HeavyHitters(budget - half, half, HeavyHitters.Accumulation.NORM_SUM));
        list.add(() -> new Tova(budget));
        list.add(() -> new KeyNorm(budget, 4, half));
        return list;
    }

    /** The per-head reference: H2O with SUM, half heavy and half recent, one instance per head. */
    public static Supplier<EvictionPolicy> perHeadReference(int budget) {
        int half = budget / 2;
        return () -> new HeavyHitters(budget - half, half, HeavyHitters.Accumulation.SUM);
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
        for (Supplier<EvictionPolicy> s : shared) {
            runs.add(new PolicyRun(trace, s.get(), -1, blockSize));
        }
        List<PolicyRun> perHeadRuns = new ArrayList<>();
        if (perHead != null) {
            for (int h = 0; h < heads; h++) {
                PolicyRun r = new PolicyRun(trace, perHead.get(), h, blockSize);
                perHeadRuns.add(r);
                runs.add(r);
            }
        }
        boolean anyAttention = false;
        for (PolicyRun r : runs) {
            anyAttention |= r.policy.usesAttention();
        }
        int total = spec.totalTokens();
        int prompt = spec.promptTokens();
        float[][] rows = new float[heads][total];
        for (int t = 0; t < total; t++) {
            boolean decode = t >= prompt;
            for (PolicyRun r : runs) {
                r.append(t);
            }
            if (!decode && !anyAttention) {
                if (t == prompt - 1) {
                    for (PolicyRun r : runs) {
                        r.evict(true);
                    }
                }
                continue;
            }
            for (int h = 0; h < heads; h++) {
                trace.row(t, h, rows[h]);
            }
            for (PolicyRun r : runs) {
                if (decode) {
                    r.measure(t, rows);
                }
                r.observe(t, rows);
                if (decode || t == prompt - 1) {
                    r.evict(!decode);
                }
            }
        }
        List<PolicyResult> results = new ArrayList<>();
        for (PolicyRun r : runs) {
            if (r.head < 0) {
                results.add(result(r.policy.name(), List.of(r), bytesPerToken));
            }
        }
        if (!perHeadRuns.isEmpty()) {
            results.add(result(perHeadRuns.get(0).policy.name() + PER_HEAD_SUFFIX, perHeadRuns, bytesPerToken));
        }
        return results;
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
            kept = r.policy.liveTokens();
            freed = r.blocksFreed;
            moves = r.slotMoves;
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
