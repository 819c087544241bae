package io.pagedkv.examples.llama;

import io.pagedkv.eviction.EvictionPolicy;
import java.util.function.IntFunction;

/**
 * Measures what an eviction policy costs a real model: a full-cache decoder and an evicting one run
 * in lockstep on the same tokens (the full decoder's greedy picks from BOS). The library's step order:
 * before each token is placed the policy evicts to make room (so the evicting cache never holds more
 * than the budget), then the token is placed, its keys and values are shown to the policy (per layer
 * and KV head, if it uses them), and after the step the evicting decoder's attention rows (per layer
 * and query head) are shown to it. Over the steps where the evicting cache holds fewer tokens than
 * the full one, it reports how often the next token agrees, the KL divergence of the next-token
 * distribution {@code KL(full || evicted)}, and the attention-mass recall: the share of the full
 * decoder's attention weight (mean over layers and heads) that falls on the tokens still kept.
 * Keys stay rotated at their original positions, or follow StreamingLLM's rule ({@link RotaryMode}).
 * Stateless and thread-safe.
 */
public final class PolicyQuality {

    private PolicyQuality() {
    }

    /**
     * One policy at one budget.
     *
     * @param policy the policy's name
     * @param budget its token budget
     * @param steps steps measured (those after the cache first exceeded the budget)
     * @param agreement share of measured steps whose greedy next token equals the full cache's
     * @param meanKl mean {@code KL(full || evicted)} of the next-token distribution, in nats
     * @param recall mean attention mass of the full cache on the kept tokens
     */
    public record Row(String policy, int budget, int steps, double agreement, double meanKl, double recall) {
    }

    /** Runs {@code policy} (built for {@code budget}) over {@code steps} positions, keys at original positions. */
    public static Row measure(LlamaWeights weights, IntFunction<EvictionPolicy> policy, int budget, int steps) {
        return measure(weights, policy, budget, steps, RotaryMode.ORIGINAL);
    }

    /** Runs {@code policy} (built for {@code budget}) over {@code steps} positions of {@code weights} in rotary {@code mode}. */
    public static Row measure(LlamaWeights weights, IntFunction<EvictionPolicy> policy, int budget, int steps,
            RotaryMode mode) {
        LlamaConfig c = weights.config();
        if (steps <= 0 || steps > c.seqLen()) {
            throw new IllegalArgumentException("steps: " + steps + " (expected: 1 <= steps <= " + c.seqLen() + ")");
        }
        EvictionPolicy p = policy.apply(budget);
        MaskedKvStore full = new MaskedKvStore(c, steps);
        LlamaDecoder fullDecoder = new LlamaDecoder(weights, full);
        MaskedReference evictedRun = new MaskedReference(weights, p, steps, mode);
        MaskedKvStore evicted = evictedRun.store();
        int token = Tokenizer.BOS;
        int measured = 0;
        int agree = 0;
        double kl = 0;
        double recall = 0;
        for (int t = 0; t < steps; t++) {
            float[] ref = fullDecoder.forward(token);
            float[] cand = evictedRun.step(token);
            int next = Sampler.argmax(ref);
            if (evicted.liveTokens() < full.liveTokens()) {
                measured++;
                if (Sampler.argmax(cand) == next) {
                    agree++;
                }
                kl += klDivergence(ref, cand);
                recall += keptMass(c, full, evicted, t + 1);
            }
            token = next;
        }
        return new Row(p.name(), budget, measured, measured == 0 ? 1 : (double) agree / measured,
                measured == 0 ? 0 : kl / measured, measured == 0 ? 1 : recall / measured);
    }

    /** {@code KL(softmax(p) || softmax(q))} in nats. */
    static double klDivergence(float[] p, float[] q) {
        double pMax = Double.NEGATIVE_INFINITY;
        double qMax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < p.length; i++) {
            pMax = Math.max(pMax, p[i]);
            qMax = Math.max(qMax, q[i]);
        }
        double pSum = 0;
        double qSum = 0;
        for (int i = 0; i < p.length; i++) {
            pSum += Math.exp(p[i] - pMax);
            qSum += Math.exp(q[i] - qMax);
        }
        double pLog = pMax + Math.log(pSum);
        double qLog = qMax + Math.log(qSum);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            double lp = p[i] - pLog;
            double lq = q[i] - qLog;
            kl += Math.exp(lp) * (lp - lq);
        }
        return Math.max(0, kl);
    }

    private static double keptMass(LlamaConfig c, MaskedKvStore full, MaskedKvStore evicted, int tokens) {
        double mass = 0;
        for (int l = 0; l < c.layers(); l++) {
            float[] w = full.weights(l);
            for (int h = 0; h < c.heads(); h++) {
                for (int t = 0; t < tokens; t++) {
                    if (evicted.isLive(t)) {
                        mass += w[h * full.capacity() + t];
                    }
                }
            }
        }
        return mass / (c.layers() * c.heads());
    }
}
