package io.pagedkv.examples.llama;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What an eviction policy costs a real model, measured over many prompts through the paged evicting
 * path: each prompt's tokens are fed (teacher-forced) to a full-cache decoder and to a decoder over an
 * {@link EvictingKvStore} (F32, blocks of 16: the library's {@code SequenceEvictor}, slot reuse,
 * {@code PagedAttention} with holes), in the library's step order. Over the steps where the evicting
 * cache holds fewer tokens than the full one, a prompt scores its next-token agreement (greedy), its
 * mean {@code KL(full || evicted)} of the next-token distribution and its mean attention-mass recall
 * (the full cache's weight, averaged over layers and heads, on the tokens still kept). A row is the
 * mean over prompts with a 95% t-interval ({@link MeanInterval}): the prompts are the independent
 * units, the steps of one prompt are not.
 *
 * <p>The full cache's side is computed once per prompt ({@link Reference}) and shared by every
 * policy. Stateless and thread-safe; the objects it builds are per call.
 */
public final class PromptQuality {

    /** Block size of the evicting store. */
    public static final int BLOCK_SIZE = 16;

    private PromptQuality() {
    }

    /**
     * The full cache's run of one prompt: at each step the logits and, per layer, the attention weights
     * on every earlier token averaged over the heads.
     */
    public static final class Reference {
        private final int[] tokens;
        private final float[][] logits;
        private final float[][] weights;

        private Reference(int[] tokens, float[][] logits, float[][] weights) {
            this.tokens = tokens;
            this.logits = logits;
            this.weights = weights;
        }

        /** The prompt. */
        public int[] tokens() {
            return tokens.clone();
        }

        /** Steps (the prompt's length). */
        public int steps() {
            return tokens.length;
        }

        /** The full cache's logits after step {@code t} (a copy). */
        public float[] logits(int t) {
            return logits[t].clone();
        }
    }

    /** Runs {@code tokens} through a full cache (a {@link MaskedKvStore} that evicts nothing). */
    public static Reference reference(LlamaWeights weights, int[] tokens) {
        LlamaConfig c = weights.config();
        int n = tokens.length;
        float[][] logits = new float[n][];
        float[][] mass = new float[n][];
        try (MaskedKvStore full = new MaskedKvStore(c, n)) {
            LlamaDecoder d = new LlamaDecoder(weights, full);
            for (int t = 0; t < n; t++) {
                logits[t] = d.forward(tokens[t]).clone();
                float[] m = new float[c.layers() * (t + 1)]; // layer l, position s at l * (t + 1) + s
                for (int l = 0; l < c.layers(); l++) {
                    float[] w = full.weights(l);
                    for (int h = 0; h < c.heads(); h++) {
                        for (int s = 0; s <= t; s++) {
                            m[l * (t + 1) + s] += w[h * n + s];
                        }
                    }
                }
                for (int i = 0; i < m.length; i++) {
                    m[i] /= c.heads();
                }
                mass[t] = m;
            }
        }
        return new Reference(tokens.clone(), logits, mass);
    }

    /**
     * One prompt under one policy.
     *
     * @param steps steps measured (the evicting cache held fewer tokens than the full one)
     * @param agreed measured steps whose greedy next token equals the full cache's
     * @param kl mean {@code KL(full || evicted)} over the measured steps, nats
     * @param recall mean attention-mass recall over the measured steps
     */
    public record PromptResult(int steps, int agreed, double kl, double recall) {

        /** Share of measured steps that agreed (1 when none was measured). */
        public double agreement() {
            return steps == 0 ? 1 : (double) agreed / steps;
        }
    }

    /**
     * One policy at one budget over many prompts.
     *
     * @param policy the policy's name
     * @param mode where kept keys were rotated
     * @param budget the token budget
     * @param prompts prompts measured
     * @param steps steps measured over all prompts
     * @param agreement next-token agreement, mean over prompts with its 95% interval
     * @param kl mean KL in nats, mean over prompts with its 95% interval
     * @param recall attention-mass recall, mean over prompts with its 95% interval
     * @param peakTokens most tokens any evicting cache held at once (the budget, when it binds)
     * @param perPrompt each prompt's result, in prompt order (for paired comparisons between policies)
     */
    public record Row(String policy, RotaryMode mode, int budget, int prompts, long steps, MeanInterval agreement,
            MeanInterval kl, MeanInterval recall, int peakTokens, List<PromptResult> perPrompt) {

        /** Copies the per-prompt list. */
        public Row {
            perPrompt = List.copyOf(perPrompt);
        }

        /**
         * The paired difference of KL against {@code baseline} measured on the same prompts: the mean of
         * {@code kl_i - baseline.kl_i} with its 95% interval (much narrower than the two intervals
         * apart, since both runs share each prompt's difficulty).
         *
         * @throws IllegalArgumentException if the rows were not measured on the same number of prompts
         */
        public MeanInterval klMinus(Row baseline) {
            return paired(baseline, true);
        }

        /** The paired difference of agreement against {@code baseline}, as {@link #klMinus}. */
        public MeanInterval agreementMinus(Row baseline) {
            return paired(baseline, false);
        }

        private MeanInterval paired(Row baseline, boolean kl) {
            if (baseline.perPrompt.size() != perPrompt.size()) {
                throw new IllegalArgumentException("baseline prompts: " + baseline.perPrompt.size() + " (expected: "
                        + perPrompt.size() + ", the same prompts)");
            }
            double[] d = new double[perPrompt.size()];
            for (int i = 0; i < d.length; i++) {
                PromptResult a = perPrompt.get(i);
                PromptResult b = baseline.perPrompt.get(i);
                d[i] = kl ? a.kl() - b.kl() : a.agreement() - b.agreement();
            }
            return MeanInterval.of(d);
        }
    }

    /**
     * Runs {@code ref}'s prompt through an {@link EvictingKvStore} evicted by {@code policy} (fresh),
     * keys in rotary {@code mode}, and scores it against the full cache.
     */
    public static PromptResult measure(LlamaWeights weights, Reference ref, EvictionPolicy policy, RotaryMode mode) {
        return run(weights, ref, policy, mode).result;
    }

    private record Run(PromptResult result, int peak) {
    }

    private static Run run(LlamaWeights weights, Reference ref, EvictionPolicy policy, RotaryMode mode) {
        LlamaConfig c = weights.config();
        int n = ref.tokens.length;
        try (EvictingKvStore store = new EvictingKvStore(c, KvDType.F32, BLOCK_SIZE, n, policy, mode)) {
            LlamaDecoder d = new LlamaDecoder(weights, store);
            int steps = 0;
            int agreed = 0;
            double kl = 0;
            double recall = 0;
            for (int t = 0; t < n; t++) {
                float[] cand = d.forward(ref.tokens[t]);
                if (store.liveTokens() < t + 1) {
                    steps++;
                    if (Sampler.argmax(cand) == Sampler.argmax(ref.logits[t])) {
                        agreed++;
                    }
                    kl += PolicyQuality.klDivergence(ref.logits[t], cand);
                    double kept = 0;
                    for (int l = 0; l < c.layers(); l++) {
                        for (int s = 0; s <= t; s++) {
                            if (store.isKept(s)) {
                                kept += ref.weights[t][l * (t + 1) + s];
                            }
                        }
                    }
                    recall += kept / c.layers();
                }
            }
            PromptResult r = new PromptResult(steps, agreed, steps == 0 ? 0 : kl / steps, steps == 0 ? 1 : recall / steps);
            return new Run(r, store.peakTokens());
        }
    }

    /**
     * Runs {@code ref}'s prompt through a {@link LayerwiseKvStore} whose layer {@code l} is evicted by
     * {@code policies[l]} (fresh), keys at original positions, and scores it against the full cache over
     * the steps past the uniform {@code budget} (the steps a shared policy of that budget is measured
     * on, so that paired differences compare the same steps); recall is each layer's full-cache weight
     * on the tokens that layer keeps, averaged over layers.
     */
    public static PromptResult measureLayered(LlamaWeights weights, Reference ref, EvictionPolicy[] policies, int budget,
            String name) {
        return runLayered(weights, ref, policies, budget, name).result;
    }

    private static Run runLayered(LlamaWeights weights, Reference ref, EvictionPolicy[] policies, int budget, String name) {
        LlamaConfig c = weights.config();
        int n = ref.tokens.length;
        int observed = io.pagedkv.eviction.LayerPolicy.snapWindow(budget);
        try (LayerwiseKvStore store = new LayerwiseKvStore(c, KvDType.F32, BLOCK_SIZE, n, policies, observed, 0, name)) {
            LlamaDecoder d = new LlamaDecoder(weights, store);
            int steps = 0;
            int agreed = 0;
            double kl = 0;
            double recall = 0;
            int peak = 0;
            for (int t = 0; t < n; t++) {
                float[] cand = d.forward(ref.tokens[t]);
                for (int l = 0; l < c.layers(); l++) {
                    peak = Math.max(peak, store.liveTokens(l));
                }
                if (t + 1 > budget) {
                    steps++;
                    if (Sampler.argmax(cand) == Sampler.argmax(ref.logits[t])) {
                        agreed++;
                    }
                    kl += PolicyQuality.klDivergence(ref.logits[t], cand);
                    double kept = 0;
                    for (int l = 0; l < c.layers(); l++) {
                        for (int s = 0; s <= t; s++) {
                            if (store.isKept(l, s)) {
                                kept += ref.weights[t][l * (t + 1) + s];
                            }
                        }
                    }
                    recall += kept / c.layers();
                }
            }
            PromptResult r = new PromptResult(steps, agreed, steps == 0 ? 0 : kl / steps, steps == 0 ? 1 : recall / steps);
            return new Run(r, peak);
        }
    }

    /**
     * A per-layer line-up at a uniform {@code budget} over every prompt of {@code refs}, keys at original
     * positions; {@link Row#peakTokens()} is the most tokens any one layer held.
     *
     * @throws IllegalArgumentException if {@code refs} is empty or a prompt is not longer than the budget
     */
    public static Row measureLayered(LlamaWeights weights, List<Reference> refs, io.pagedkv.eviction.LayerPolicy policy,
            int budget) {
        if (refs.isEmpty()) {
            throw new IllegalArgumentException("refs: 0 prompts (expected: >= 1)");
        }
        int layers = weights.config().layers();
        String name = policy.name(budget, layers);
        double[] agreement = new double[refs.size()];
        double[] kl = new double[refs.size()];
        double[] recall = new double[refs.size()];
        long steps = 0;
        int peak = 0;
        List<PromptResult> each = new ArrayList<>(refs.size());
        for (int i = 0; i < refs.size(); i++) {
            Reference ref = refs.get(i);
            if (ref.steps() <= budget) {
                throw new IllegalArgumentException("prompt " + i + ": " + ref.steps() + " tokens (expected: > budget "
                        + budget + ", or nothing is evicted)");
            }
            Run r = runLayered(weights, ref, policy.create(budget, layers), budget, name);
            agreement[i] = r.result.agreement();
            kl[i] = r.result.kl();
            recall[i] = r.result.recall();
            steps += r.result.steps();
            peak = Math.max(peak, r.peak);
            each.add(r.result);
        }
        return new Row(name, RotaryMode.ORIGINAL, budget, refs.size(), steps, MeanInterval.of(agreement), MeanInterval.of(kl),
                MeanInterval.of(recall), peak, each);
    }

    /**
     * {@code policy} built for {@code budget} over every prompt of {@code refs}.
     *
     * @throws IllegalArgumentException if {@code refs} is empty or a prompt is not longer than the budget
     */
    public static Row measure(LlamaWeights weights, List<Reference> refs, IntFunction<EvictionPolicy> policy, int budget,
            RotaryMode mode) {
        if (refs.isEmpty()) {
            throw new IllegalArgumentException("refs: 0 prompts (expected: >= 1)");
        }
        double[] agreement = new double[refs.size()];
        double[] kl = new double[refs.size()];
        double[] recall = new double[refs.size()];
        long steps = 0;
        int peak = 0;
        String name = null;
        List<PromptResult> each = new ArrayList<>(refs.size());
        for (int i = 0; i < refs.size(); i++) {
            Reference ref = refs.get(i);
            if (ref.steps() <= budget) {
                throw new IllegalArgumentException("prompt " + i + ": " + ref.steps() + " tokens (expected: > budget "
                        + budget + ", or nothing is evicted)");
            }
            EvictionPolicy p = policy.apply(budget);
            name = p.name();
            Run r = run(weights, ref, p, mode);
            agreement[i] = r.result.agreement();
            kl[i] = r.result.kl();
            recall[i] = r.result.recall();
            steps += r.result.steps();
            peak = Math.max(peak, r.peak);
            each.add(r.result);
        }
        return new Row(name, mode, budget, refs.size(), steps, MeanInterval.of(agreement), MeanInterval.of(kl),
                MeanInterval.of(recall), peak, each);
    }

    /** The full cache's references of every prompt. */
    public static List<Reference> references(LlamaWeights weights, List<int[]> prompts) {
        List<Reference> refs = new ArrayList<>(prompts.size());
        for (int[] p : prompts) {
            refs.add(reference(weights, p));
        }
        return refs;
    }
}
