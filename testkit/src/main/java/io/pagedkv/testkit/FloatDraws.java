package io.pagedkv.testkit;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * How floats are drawn from choices: a sign choice, then the magnitude as a bit-pattern offset.
 *
 * <p>Non-negative floats are ordered like their bit patterns, so a float is a sign plus a
 * non-negative offset of bits from the simplest magnitude (0, or the bound closer to 0). Lowering
 * the offset lowers the magnitude, so shrinking goes toward 0 and binary search finds the exact
 * boundary float. Only fresh draws are shaped (see {@link Bias}): 3 in 8 pick a favourite
 * magnitude ({@link FloatSpecials#ALL} and the range bounds), 3 in 8 (2 in 8 for any float) a
 * "plain" value (linear in the range; for any float an integer up to 1000 plus k/256), the rest a
 * uniform bit pattern, which for any float covers NaN payloads, infinities and subnormals.
 */
final class FloatDraws {
    private static final long[] SPECIAL_MAGNITUDES = magnitudesOf(FloatSpecials.ALL, 0f, Float.NaN);
    private static final Bias ANY_BIAS = (max, random) -> {
        int r = random.nextInt(8);
        if (r < 3) {
            return Math.min(max, SPECIAL_MAGNITUDES[random.nextInt(SPECIAL_MAGNITUDES.length)]);
        }
        if (r < 5) {
            return Math.min(max, Float.floatToIntBits(random.nextInt(1001) + random.nextInt(256) / 256f));
        }
        return Bias.uniform(max, random);
    };

    private FloatDraws() {
    }

    static float any(Choices in) {
        boolean negative = in.drawBoolean();
        float v = Float.intBitsToFloat((int) in.draw(0x7fff_ffffL, ANY_BIAS));
        return negative ? -v : v;
    }

    /** A generator of finite floats in {@code [lo, hi]}. */
    static Gen<Float> finite(float lo, float hi) {
        if (!Float.isFinite(lo) || !Float.isFinite(hi) || lo > hi) {
            throw new IllegalArgumentException("range: [" + lo + ", " + hi + "] (expected: finite lo <= hi)");
        }
        float a = lo + 0f; // -0.0f + 0.0f is +0.0f: the bit arithmetic needs the positive zero
        float b = hi + 0f;
        if (a >= 0) {
            Side side = new Side(a, b);
            return side::draw;
        }
        if (b <= 0) {
            Side side = new Side(-b, -a);
            return in -> -side.draw(in);
        }
        Side positive = new Side(0f, b);
        Side negative = new Side(0f, -a);
        return in -> in.drawBoolean() ? -negative.draw(in) : positive.draw(in);
    }

    /** Magnitudes in {@code [from, to]} (0 <= from <= to), as bit offsets from {@code from}. */
    private static final class Side implements Bias {
        private final float from;
        private final float to;
        private final int fromBits;
        private final long span;
        private final long[] favourites;

        Side(float from, float to) {
            this.from = from;
            this.to = to;
            this.fromBits = Float.floatToIntBits(from);
            this.span = (long) Float.floatToIntBits(to) - fromBits;
            long[] magnitudes = magnitudesOf(FloatSpecials.ALL, from, to);
            this.favourites = new long[magnitudes.length];
            for (int i = 0; i < magnitudes.length; i++) {
                favourites[i] = magnitudes[i] - fromBits;
            }
        }

        float draw(Choices in) {
            return Float.intBitsToFloat(fromBits + (int) in.draw(span, this));
        }

        @Override
        public long pick(long max, RandomGenerator random) {
            int r = random.nextInt(8);
            long offset;
            if (r < 3) {
                offset = favourites[random.nextInt(favourites.length)];
            } else if (r < 6) {
                float v = (float) (from + random.nextDouble() * ((double) to - from));
                offset = (long) Float.floatToIntBits(Math.min(Math.max(v, from), to)) - fromBits;
            } else {
                offset = Bias.uniform(span, random);
            }
            return Math.min(offset, max);
        }
    }

    /**
     * The distinct bit patterns of the magnitudes of {@code values} that lie in {@code [from, to]}
     * (NaN counts as in range only when {@code to} is NaN), plus {@code from} and {@code to}.
     */
    private static long[] magnitudesOf(Iterable<Float> values, float from, float to) {
        long[] out = new long[64];
        int n = 0;
        out[n++] = Float.floatToIntBits(from);
        if (!Float.isNaN(to)) {
            out[n++] = Float.floatToIntBits(to);
        }
        for (float v : values) {
            float m = Math.abs(v);
            if (Float.isNaN(m) ? Float.isNaN(to) : m >= from && (Float.isNaN(to) || m <= to)) {
                out[n++] = Float.floatToIntBits(m);
            }
        }
        return Arrays.stream(out, 0, n).distinct().toArray();
    }
}
