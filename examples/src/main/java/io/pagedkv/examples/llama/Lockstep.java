package io.pagedkv.examples.llama;

/**
 * Runs two decoders of the same weights side by side, greedy, feeding both the reference's token
 * at each step, and reports where the candidate first picks a different token and how far its
 * logits drift. It is how a cache (paged, quantised) is checked against the contiguous oracle on a
 * real model. Stateless and thread-safe; the decoders it drives are not.
 */
public final class Lockstep {

    private Lockstep() {
    }

    /**
     * What a lockstep run found.
     *
     * @param steps forward passes run
     * @param firstDivergence first step whose greedy token differs, or -1 if none did
     * @param maxRelativeError largest {@code max_i |cand_i - ref_i| / max_i |ref_i|} over the steps
     *     (what `generate --compare` prints; ill-conditioned at a step whose logits all happen to be
     *     near zero, see {@code maxScaledError})
     * @param maxScaledError largest {@code |cand_i - ref_i| / scale_i} over the steps and the vocabulary,
     *     where {@code scale_i = ||classifier row i|| * sqrt(dim) * max_j |rmsFinal_j|} bounds
     *     {@code |logit_i|} for every input (by Cauchy-Schwarz, since the final RMSNorm leaves a
     *     vector of norm {@code sqrt(dim)} before its gains): the float error measured against the
     *     magnitude the computation works at, whatever the logits at this step came to
     * @param ids the reference's greedy ids, BOS first
     */
    public record Result(int steps, int firstDivergence, double maxRelativeError, double maxScaledError, int[] ids) {

        /** Whether every step picked the same token. */
        public boolean identical() {
            return firstDivergence < 0;
        }
    }

    /**
     * Feeds BOS then the reference's greedy picks to both decoders for {@code steps} forward passes.
     *
     * @throws IllegalArgumentException if the decoders' vocabularies differ or steps is out of range
     */
    public static Result run(LlamaDecoder reference, LlamaDecoder candidate, int steps) {
        int vocab = reference.config().vocabSize();
        if (candidate.config().vocabSize() != vocab) {
            throw new IllegalArgumentException("candidate vocabSize: " + candidate.config().vocabSize()
                    + " (expected: " + vocab + ")");
        }
        if (steps <= 0 || steps > reference.config().seqLen()) {
            throw new IllegalArgumentException("steps: " + steps + " (expected: 1 <= steps <= " + reference.config().seqLen() + ")");
        }
        double[] scale = logitScales(reference.weights());
        int[] ids = new int[steps + 1];
        ids[0] = Tokenizer.BOS;
        int firstDivergence = -1;
        double maxRel = 0;
        double maxScaled = 0;
        for (int step = 0; step < steps; step++) {
            float[] ref = reference.forward(ids[step]);
            float[] cand = candidate.forward(ids[step]);
            double refMax = 0;
            double diff = 0;
            for (int i = 0; i < vocab; i++) {
                refMax = Math.max(refMax, Math.abs(ref[i]));
                double d = Math.abs((double) cand[i] - ref[i]);
                diff = Math.max(diff, d);
                maxScaled = Math.max(maxScaled, d / scale[i]);
            }
            maxRel = Math.max(maxRel, refMax == 0 ? diff : diff / refMax);
            int next = Sampler.argmax(ref);
            if (firstDivergence < 0 && Sampler.argmax(cand) != next) {
                firstDivergence = step;
            }
            ids[step + 1] = next;
        }
        return new Result(steps, firstDivergence, maxRel, maxScaled, ids);
    }

    /** {@code ||classifier row i|| * sqrt(dim) * max_j |rmsFinal_j|} per vocabulary entry (never 0). */
    static double[] logitScales(LlamaWeights w) {
        int dim = w.config().dim();
        double gain = 0;
        for (float g : w.rmsFinal()) {
            gain = Math.max(gain, Math.abs(g));
        }
        double[] scale = new double[w.config().vocabSize()];
        float[] cls = w.classifier();
        for (int i = 0; i < scale.length; i++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                double v = cls[i * dim + j];
                sq += v * v;
            }
            scale[i] = Math.max(Math.sqrt(sq) * Math.sqrt(dim) * gain, Double.MIN_NORMAL);
        }
        return scale;
    }
}
