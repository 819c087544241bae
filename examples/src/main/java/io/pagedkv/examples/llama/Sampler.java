package io.pagedkv.examples.llama;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits: the arg-max at temperature 0 (greedy), otherwise a draw from
 * {@code softmax(logits / temperature)} with a seeded generator, so a run is reproducible from its
 * seed. Ties in greedy mode go to the lowest id. Not thread-safe; allocates nothing per call.
 */
public final class Sampler {

    private final float temperature;
    private final SplittableRandom random;
    private final float[] probabilities;

    /**
     * A sampler over a vocabulary of {@code vocabSize} tokens.
     *
     * @throws IllegalArgumentException if {@code temperature} is negative or not finite
     */
    public Sampler(int vocabSize, float temperature, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature: " + temperature + " (expected: finite, >= 0)");
        }
        this.temperature = temperature;
        this.random = new SplittableRandom(seed);
        this.probabilities = new float[vocabSize];
    }

    /** The next token for {@code logits} (not modified). */
    public int sample(float[] logits) {
        if (temperature == 0f) {
            return argmax(logits);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            float p = (float) Math.exp((logits[i] - max) / temperature);
            probabilities[i] = p;
            sum += p;
        }
        double r = random.nextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < logits.length; i++) {
            acc += probabilities[i];
            if (r < acc) {
                return i;
            }
        }
        return logits.length - 1;
    }

    /** The index of the largest value, the first one on ties. */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
