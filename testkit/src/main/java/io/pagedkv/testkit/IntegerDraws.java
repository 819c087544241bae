package io.pagedkv.testkit;

/**
 * How integers in a range are drawn from choices.
 *
 * <p>The value is a magnitude measured from the simplest value of the range (0 when the range
 * holds it, else the bound closer to 0), preceded by a sign choice when the range spans 0 (sign 1
 * maps magnitude m to {@code -1 - m}, so the negative side needs no overflow care). All-zero
 * choices give the simplest value and lowering the magnitude moves toward it. The magnitude is
 * drawn with {@link Bias#INTEGER}, so fresh values favour 0, 1, -1, both bounds and their
 * neighbours, powers of two and small numbers, while any value stays reachable by shrinking.
 */
final class IntegerDraws {
    private IntegerDraws() {
    }

    static void checkRange(long lo, long hi) {
        if (lo > hi) {
            throw new IllegalArgumentException("range: [" + lo + ", " + hi + "] (expected: lo <= hi)");
        }
    }

    static long draw(Choices in, long lo, long hi) {
        if (lo >= 0) {
            return lo + in.draw(hi - lo);
        }
        if (hi <= 0) {
            return hi - in.draw(hi - lo);
        }
        if (!in.drawBoolean()) {
            return in.draw(hi);
        }
        return -1 - in.draw(-(lo + 1));
    }
}
