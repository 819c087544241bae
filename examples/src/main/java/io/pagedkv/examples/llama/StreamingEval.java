package io.pagedkv.examples.llama;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-token negative log-likelihood of a long text streamed through a model, StreamingLLM's
 * evaluation: {@code nll[t] = -ln p(tokens[t] | what the cache holds of tokens[0 .. t))} for every
 * {@code t >= 1} ({@code nll[0] = NaN}: the first token is given). Three ways to hold the past:
 *
 * <ul>
 *   <li>{@link #dense}: a paged cache that keeps every token (memory grows with the text; past the
 *       model's context it shows the model positions it was never trained on);</li>
 *   <li>{@link #evicting}: an {@link EvictingKvStore} under a policy and a budget, keys at original
 *       positions or at their places in the cache (memory bounded by the budget);</li>
 *   <li>{@link #recompute}: the sliding window with re-computation, the quality ceiling of a window of
 *       {@code W} tokens: for every token, a fresh cache is filled with the {@code W} tokens before it
 *       (positions 0 .. W-1) and the next token scored; {@code W} times the work of streaming.</li>
 * </ul>
 *
 * Stateless and thread-safe; each call builds its own decoders.
 */
public final class StreamingEval {

    private StreamingEval() {
    }

    /** {@code -ln softmax(logits)[token]}, computed in double. */
    static double nll(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum) - logits[token];
    }

    /** Streams {@code tokens} through {@code store} (empty, with room for all of them) token by token. */
    public static double[] stream(LlamaWeights weights, KvStore store, int[] tokens) {
        LlamaDecoder d = new LlamaDecoder(weights, store);
        double[] out = new double[tokens.length];
        out[0] = Double.NaN;
        for (int t = 0; t + 1 < tokens.length; t++) {
            float[] logits = d.forward(tokens[t]);
            out[t + 1] = nll(logits, tokens[t + 1]);
        }
        return out;
    }

    /** The dense baseline: every token kept, in a paged F32 cache that grows with the text. */
    public static double[] dense(LlamaWeights weights, int[] tokens) {
        try (PagedKvStore store = new PagedKvStore(weights.config(), KvDType.F32, 16, tokens.length)) {
            return stream(weights, store, tokens);
        }
    }

    /** {@code policy} (fresh) evicting to its budget, keys in rotary {@code mode}, in a paged F32 cache of blocks of 16. */
    public static Streamed evicting(LlamaWeights weights, EvictionPolicy policy, RotaryMode mode, int[] tokens) {
        try (EvictingKvStore store = new EvictingKvStore(weights.config(), KvDType.F32, 16, tokens.length, policy, mode)) {
            double[] nll = stream(weights, store, tokens);
            return new Streamed(nll, store.peakTokens(), store.peakBlocks(), store.blockLimit(), store.keysRerotated());
        }
    }

    /**
     * A streamed run under a policy and what its cache held.
     *
     * @param nll per-token NLL, {@code nll[0] = NaN}
     * @param peakTokens most tokens the cache held at once
     * @param peakBlocks most blocks it held at once
     * @param blockLimit the blocks of the budget (its pool)
     * @param keysRerotated tokens whose keys were re-rotated in place
     */
    public record Streamed(double[] nll, int peakTokens, int peakBlocks, int blockLimit, long keysRerotated) {
    }

    /**
     * The sliding window with re-computation over {@code window} tokens: token {@code t} is scored
     * after prefilling {@code tokens[max(0, t - window) .. t)} into an empty cache, on {@code threads}
     * threads.
     *
     * @throws IllegalArgumentException if {@code window < 1} or {@code threads < 1}
     */
    public static double[] recompute(LlamaWeights weights, int window, int[] tokens, int threads) throws Exception {
        if (window < 1 || threads < 1) {
            throw new IllegalArgumentException("window, threads: " + window + ", " + threads + " (expected: both >= 1)");
        }
        double[] out = new double[tokens.length];
        out[0] = Double.NaN;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> parts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int part = k;
                parts.add(pool.submit(() -> {
                    try (ContiguousKvStore store = new ContiguousKvStore(weights.config(), window)) {
                        LlamaDecoder d = new LlamaDecoder(weights, store);
                        for (int t = 1 + part; t < tokens.length; t += threads) {
                            int from = Math.max(0, t - window);
                            store.clear();
                            out[t] = nll(d.prefill(tokens, from, t - from), tokens[t]);
                        }
                    }
                }));
            }
            for (Future<?> f : parts) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /**
     * How much attention the first token draws: per (layer, query head), the mean weight on position 0
     * over the queries at positions {@code from .. to-1} of a dense run, next to what a uniform row
     * would give it ({@code 1 / (t + 1)} averaged the same way). An attention sink shows as a weight far
     * above uniform (StreamingLLM finds most of the mass there in large models' deeper layers).
     *
     * @param perHead the mean weight on the first token, {@code [layer * heads + head]}
     * @param uniform the mean of {@code 1 / (t + 1)} over the same queries
     */
    public record FirstTokenMass(double[] perHead, double uniform) {

        /** The largest per-head mean weight. */
        public double max() {
            double m = 0;
            for (double v : perHead) {
                m = Math.max(m, v);
            }
            return m;
        }

        /** The mean over layers and heads. */
        public double mean() {
            double m = 0;
            for (double v : perHead) {
                m += v;
            }
            return m / perHead.length;
        }
    }

    /**
     * Measures {@link FirstTokenMass} over {@code tokens[0 .. to)} with queries {@code from .. to-1}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= from < to <= tokens.length}
     */
    public static FirstTokenMass firstTokenMass(LlamaWeights weights, int[] tokens, int from, int to) {
        if (from < 0 || from >= to || to > tokens.length) {
            throw new IllegalArgumentException("from, to: " + from + ", " + to + " (expected: 0 <= from < to <= "
                    + tokens.length + ")");
        }
        LlamaConfig c = weights.config();
        double[] mass = new double[c.layers() * c.heads()];
        double uniform = 0;
        try (MaskedKvStore s = new MaskedKvStore(c, to)) {
            LlamaDecoder d = new LlamaDecoder(weights, s);
            for (int t = 0; t < to; t++) {
                d.forward(tokens[t]);
                if (t < from) {
                    continue;
                }
                uniform += 1.0 / (t + 1);
                for (int l = 0; l < c.layers(); l++) {
                    float[] w = s.weights(l);
                    for (int h = 0; h < c.heads(); h++) {
                        mass[l * c.heads() + h] += w[h * to];
                    }
                }
            }
        }
        int n = to - from;
        for (int i = 0; i < mass.length; i++) {
            mass[i] /= n;
        }
        return new FirstTokenMass(mass, uniform / n);
    }

    /**
     * The paired difference {@code a - b} over positions {@code from .. to-1}, averaged per block of
     * {@code block} positions, with a 95% t-interval over the blocks (consecutive tokens are correlated;
     * blocks of a context's length are closer to independent units). A last partial block is dropped.
     *
     * @throws IllegalArgumentException if fewer than two whole blocks fit
     */
    public static MeanInterval pairedBlocks(double[] a, double[] b, int from, int to, int block) {
        int blocks = (Math.min(to, Math.min(a.length, b.length)) - from) / block;
        if (block < 1 || blocks < 2) {
            throw new IllegalArgumentException("blocks of " + block + " in " + from + ".." + to + ": " + blocks
                    + " (expected: >= 2)");
        }
        double[] d = new double[blocks];
        for (int k = 0; k < blocks; k++) {
            int s = from + k * block;
            d[k] = mean(a, s, s + block) - mean(b, s, s + block);
        }
        return MeanInterval.of(d);
    }

    /** Mean of {@code nll[from .. to)} (NaN entries skipped; NaN if none). */
    public static double mean(double[] nll, int from, int to) {
        double sum = 0;
        int n = 0;
        for (int t = Math.max(0, from); t < Math.min(to, nll.length); t++) {
            if (!Double.isNaN(nll[t])) {
                sum += nll[t];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
