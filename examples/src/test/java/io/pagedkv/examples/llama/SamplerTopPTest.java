package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Nucleus (top-p) sampling: draws stay in the nucleus; top_p = 1 is the plain sampler. */
class SamplerTopPTest {

    @Test
    void topPOneDrawsExactlyWhatThePlainSamplerDraws() {
        float[] logits = new float[64];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i * 0.7) * 3;
        }
        Sampler plain = new Sampler(64, 0.8f, 99);
        Sampler nucleus = new Sampler(64, 0.8f, 1f, 99);
        for (int i = 0; i < 500; i++) {
            assertEquals(plain.sample(logits), nucleus.sample(logits));
        }
    }

    @Test
    void aTinyTopPAlwaysPicksTheMostProbableToken() {
        float[] logits = {0.1f, 2f, 1.9f, -3f, 2f};
        Sampler s = new Sampler(5, 1f, 1e-6f, 3);
        for (int i = 0; i < 200; i++) {
            assertEquals(1, s.sample(logits), "ties go to the lower id");
        }
    }

    @Test
    void everyDrawIsInTheNucleusOfItsLogits() {
        Property.forAll(Gens.floatArrays(Gens.finiteFloats(-8f, 8f), 1, 40), Gens.finiteFloats(0.05f, 1f),
                Gens.longs(0, Long.MAX_VALUE)).check((logits, topP, seed) -> {
                    Sampler s = new Sampler(logits.length, 1f, topP, seed);
                    boolean[] nucleus = nucleus(logits, topP);
                    for (int i = 0; i < 50; i++) {
                        int t = s.sample(logits);
                        assertTrue(nucleus[t], "token " + t + " outside the nucleus of " + Arrays.toString(logits)
                                + " at top_p " + topP);
                    }
                });
    }

    @Test
    void equalLogitsAtASmallTopPStillDrawAToken() {
        // found by everyDrawIsInTheNucleusOfItsLogits (seed 7282172248819339280): llama2.c's cut
        // (1 - top_p) / (n - 1) removed every token of a uniform distribution, and the draw indexed -1
        Sampler s = new Sampler(2, 1f, 0.05f, 0);
        for (int i = 0; i < 50; i++) {
            int t = s.sample(new float[] {0f, 0f});
            assertEquals(0, t, "the nucleus of two equal tokens at top_p 0.05 is the first (ties by id)");
        }
    }

    @Test
    void topPOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 1f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 1f, 1.01f, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(4, 1f, Float.NaN, 1));
    }

    /** The naive nucleus: sort every token by probability (then id), keep until the mass reaches top_p. */
    private static boolean[] nucleus(float[] logits, float topP) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i));
        boolean[] in = new boolean[logits.length];
        double mass = 0;
        for (int i : order) {
            in[i] = true;
            mass += p[i];
            if (mass >= topP * sum * (1 - 1e-6)) {
                break;
            }
        }
        return in;
    }
}
