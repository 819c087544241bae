package io.pagedkv.testkit;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The one source of randomness every {@link Gen} draws from: a sequence of bounded non-negative
 * integers ("choices"), recorded as they are drawn.
 *
 * <p>In a fresh run the choices come from a seeded {@link SplittableRandom}; when a case is replayed
 * or shrunk they come from a recorded prefix, and past its end every choice is {@code 0}. A value
 * in the prefix above the bound of its draw is lowered to the bound. Because generators are
 * deterministic functions of the choices, a smaller choice sequence yields a simpler value, which
 * is what lets the {@link Shrinker} shrink any composed generator with no per-type code. The
 * convention every generator follows: choice {@code 0} means "simplest".
 *
 * <p>Spans ({@link #startSpan()}/{@link #endSpan(int)}) mark the choices of one logical piece (a
 * list element, a state-machine step) so the shrinker can delete or reorder it as a whole.
 *
 * <p>Not thread-safe: one instance serves one generation on one thread.
 */
public final class Choices {
    /** Hard cap on draws per case; a generator that draws more is discarded (likely unbounded). */
    public static final int MAX_DRAWS = 100_000;

    private static final long[] NONE = new long[0];

    private final long[] prefix;
    private final SplittableRandom random;
    private long[] drawn;
    private long[] bounds;
    private int size;
    private int[] spans = new int[32];
    private int spanCount;

    private Choices(long[] prefix, SplittableRandom random) {
        this.prefix = prefix;
        this.random = random;
        this.drawn = new long[Math.max(32, prefix.length + 8)];
        this.bounds = new long[drawn.length];
    }

    /** Fresh random choices from {@code seed}. */
    static Choices random(long seed) {
        return new Choices(NONE, new SplittableRandom(seed));
    }

    /** Replays {@code prefix}; past its end every choice is 0. */
    static Choices replay(long[] prefix) {
        return new Choices(prefix.clone(), null);
    }

    /**
     * Draws a choice in {@code [0, max]}; a fresh draw favours 0, 1, max, powers of two and small
     * values (a replayed one is whatever was recorded).
     */
    public long draw(long max) {
        return draw(max, Bias.INTEGER);
    }

    /** Draws a choice in {@code [0, max]}, every value equally likely when fresh. */
    public long drawUniform(long max) {
        return draw(max, Bias.UNIFORM);
    }

    /** Draws a choice in {@code [0, max]}, picked by {@code bias} when fresh. */
    long draw(long max, Bias bias) {
        if (max < 0) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
        }
        if (size >= MAX_DRAWS) {
            throw new Discard("choice sequence longer than " + MAX_DRAWS + " draws");
        }
        long value;
        if (size < prefix.length) {
            value = Math.min(prefix[size], max);
        } else if (random != null) {
            value = bias.pick(max, random);
        } else {
            value = 0;
        }
        if (size == drawn.length) {
            drawn = Arrays.copyOf(drawn, size * 2);
            bounds = Arrays.copyOf(bounds, size * 2);
        }
        bounds[size] = max;
        drawn[size++] = value;
        return value;
    }

    /** Draws a choice in {@code [0, max]} as an int (biased like {@link #draw(long)}). */
    public int drawInt(int max) {
        return (int) draw(max);
    }

    /** Draws a boolean, each value equally likely; {@code false} is the simpler value. */
    public boolean drawBoolean() {
        return draw(1, Bias.UNIFORM) == 1;
    }

    /** Opens a span at the current position and returns the token to pass to {@link #endSpan(int)}. */
    public int startSpan() {
        return size;
    }

    /** Closes the span opened at {@code start}; empty spans are not recorded. */
    public void endSpan(int start) {
        if (start < 0 || start > size) {
            throw new IllegalArgumentException("start: " + start + " (expected: 0.." + size + ")");
        }
        if (start == size) {
            return;
        }
        if (spanCount * 2 + 2 > spans.length) {
            spans = Arrays.copyOf(spans, spans.length * 2);
        }
        spans[spanCount * 2] = start;
        spans[spanCount * 2 + 1] = size;
        spanCount++;
    }

    /** Number of choices drawn so far. */
    public int size() {
        return size;
    }

    /** The choices drawn so far, in order. */
    long[] recorded() {
        return Arrays.copyOf(drawn, size);
    }

    /** The bound ({@code max}) of each recorded choice, in order. */
    long[] bounds() {
        return Arrays.copyOf(bounds, size);
    }

    /** Recorded spans as {@code [start0, end0, start1, end1, ...]}, in order of closing. */
    int[] spans() {
        return Arrays.copyOf(spans, spanCount * 2);
    }
}
