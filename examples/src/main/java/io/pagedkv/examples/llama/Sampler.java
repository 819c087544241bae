package io.pagedkv.examples.llama;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits: the arg-max at temperature 0 (greedy), otherwise a draw from
 * {@code softmax(logits / temperature)} with a seeded generator, so a run is reproducible from its
 * seed. With {@code topP < 1} the draw is restricted to the nucleus: the most probable tokens whose
 * probabilities add up to at least {@code topP} (ties ordered by id). Ties in greedy mode go to the
 * lowest id. Not thread-safe; allocates nothing per call.
 */
public final class Sampler {

    private final float temperature;
    private final float topP;
    private final SplittableRandom random;
    private final float[] probabilities;
    private final int[] order;

    /**
     * A sampler over a vocabulary of {@code vocabSize} tokens, no nucleus restriction.
     *
     * @throws IllegalArgumentException if {@code temperature} is negative or not finite
     */
    public Sampler(int vocabSize, float temperature, long seed) {
        this(vocabSize, temperature, 1f, seed);
    }

    /**
     * A sampler over a vocabulary of {@code vocabSize} tokens with nucleus sampling at {@code topP}.
     *
     * @throws IllegalArgumentException if {@code temperature} is negative or not finite, or
     *     {@code topP} is not in {@code (0, 1]}
     */
    public Sampler(int vocabSize, float temperature, float topP, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature: " + temperature + " (expected: finite, >= 0)");
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("topP: " + topP + " (expected: 0 < topP <= 1)");
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
        this.probabilities = new float[vocabSize];
        this.order = topP < 1f ? new int[vocabSize] : new int[0];
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
        if (topP < 1f) {
            return sampleNucleus(logits.length, sum);
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

    /** Draws among the most probable tokens whose mass reaches {@code topP * sum}. */
    private int sampleNucleus(int n, double sum) {
        // a token below (1 - topP) / (n - 1) of the mass can never be in the nucleus (llama2.c's cut)
        double cutoff = n > 1 ? (1.0 - topP) / (n - 1) * sum : 0.0;
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (probabilities[i] >= cutoff) {
                order[m++] = i;
            }
        }
        if (m == 0) {
            // the cut holds only when something survives it: with a near-uniform distribution every
            // token can be below it (two equal logits at top_p 0.05); then keep them all
            for (int i = 0; i < n; i++) {
                order[m++] = i;
            }
        }
        sortByProbabilityDescending(0, m - 1);
        double target = topP * sum;
        double mass = 0;
        int last = m - 1;
        for (int k = 0; k < m; k++) {
            mass += probabilities[order[k]];
            if (mass >= target) {
                last = k;
                break;
            }
        }
        double r = random.nextDouble() * mass;
        double acc = 0;
        for (int k = 0; k <= last; k++) {
            acc += probabilities[order[k]];
            if (r < acc) {
                return order[k];
            }
        }
        return order[last];
    }

    /** In-place quicksort of {@code order[lo..hi]}: higher probability first, then lower id. */
    private void sortByProbabilityDescending(int lo, int hi) {
        while (lo < hi) {
            int pivot = order[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (before(order[i], pivot)) {
                    i++;
                }
                while (before(pivot, order[j])) {
                    j--;
                }
                if (i <= j) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                    i++;
                    j--;
                }
            }
            if (j - lo < hi - i) {
                sortByProbabilityDescending(lo, j);
                lo = i;
            } else {
                sortByProbabilityDescending(i, hi);
                hi = j;
            }
        }
    }

    private boolean before(int a, int b) {
        float pa = probabilities[a];
        float pb = probabilities[b];
        return pa > pb || (pa == pb && a < b);
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
