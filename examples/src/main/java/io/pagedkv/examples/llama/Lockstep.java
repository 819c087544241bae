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
     * @param ids the reference's greedy ids, BOS first
     */
    public record Result(int steps, int firstDivergence, double maxRelativeError, int[] ids) {

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
        int[] ids = new int[steps + 1];
        ids[0] = Tokenizer.BOS;
        int firstDivergence = -1;
        double maxRel = 0;
        for (int step = 0; step < steps; step++) {
            float[] ref = reference.forward(ids[step]);
            float[] cand = candidate.forward(ids[step]);
            double refMax = 0;
            double diff = 0;
            for (int i = 0; i < vocab; i++) {
                refMax = Math.max(refMax, Math.abs(ref[i]));
                diff = Math.max(diff, Math.abs((double) cand[i] - ref[i]));
            }
            maxRel = Math.max(maxRel, refMax == 0 ? diff : diff / refMax);
            int next = Sampler.argmax(ref);
            if (firstDivergence < 0 && Sampler.argmax(cand) != next) {
                firstDivergence = step;
            }
            ids[step + 1] = next;
        }
        return new Result(steps, firstDivergence, maxRel, ids);
    }
}
