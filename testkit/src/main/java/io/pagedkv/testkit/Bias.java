package io.pagedkv.testkit;

import java.util.random.RandomGenerator;

/**
 * How a fresh (random) choice in {@code [0, max]} is picked. Bias shapes only the random
 * distribution: a recorded or shrunk choice is a plain value, so every value a bias favours is
 * also reachable by lowering choices, and shrinking never gets stuck on a "special" mode.
 */
@FunctionalInterface
interface Bias {
    /** A value in {@code [0, max]}. */
    long pick(long max, RandomGenerator random);

    /** Every value equally likely. */
    Bias UNIFORM = Bias::uniform;

    /**
     * About 3 in 8 draws are 0, 1, max, max - 1 or a power of two (or one off it), 1 in 4 is
     * log-uniform (small values common), the rest uniform.
     */
    Bias INTEGER = (max, random) -> {
        int r = random.nextInt(16);
        if (r == 0) {
            return 0;
        }
        if (r == 1) {
            return Math.min(1, max);
        }
        if (r == 2) {
            return max;
        }
        if (r == 3) {
            return Math.max(0, max - 1);
        }
        int bits = 64 - Long.numberOfLeadingZeros(max);
        if (r <= 5) {
            long pow = 1L << random.nextInt(Math.max(1, Math.min(bits, 63)));
            long v = pow - 1 + random.nextInt(3);
            return Math.min(v, max);
        }
        if (r <= 9) {
            int b = random.nextInt(bits + 1);
            long cap = b >= 63 ? Long.MAX_VALUE : (1L << b) - 1;
            return uniform(Math.min(cap, max), random);
        }
        return uniform(max, random);
    };

    /** A uniform value in {@code [0, max]}. */
    static long uniform(long max, RandomGenerator random) {
        return max == Long.MAX_VALUE ? random.nextLong() & Long.MAX_VALUE : random.nextLong(max + 1);
    }
}
