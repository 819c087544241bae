package io.pagedkv.examples.simulate;

import io.pagedkv.eviction.AttentionSinks;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.HeavyHitters;
import io.pagedkv.eviction.SlidingWindow;
import java.util.Locale;

/**
 * The eviction policy a simulation runs with ({@code --policy}), and how each gets its per-request
 * token budget. Immutable and thread-safe.
 */
public enum EvictionChoice {
    /** Keep every token: a request holds its whole context. */
    NONE,
    /** Sliding window: the last {@code budget} tokens. */
    WINDOW,
    /** Attention sinks plus a recent window (StreamingLLM): 4 sinks and {@code budget - 4} recent tokens. */
    SINKS,
    /** Heavy hitters plus recent tokens (H2O): half the budget each, attention summed. */
    H2O;

    /** Smallest accepted token budget. */
    public static final int MIN_BUDGET = 8;

    /** The lower-case command-line name. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * A fresh policy for one request with {@code budget} tokens, token-granular.
     *
     * @throws IllegalStateException for {@link #NONE}, which has no policy
     */
    public EvictionPolicy create(int budget) {
        return switch (this) {
            case NONE -> throw new IllegalStateException("policy none (expected: window, sinks or h2o)");
            case WINDOW -> new SlidingWindow(budget);
            case SINKS -> new AttentionSinks(AttentionSinks.DEFAULT_SINKS, budget - AttentionSinks.DEFAULT_SINKS, 1);
            case H2O -> new HeavyHitters(budget / 2, budget - budget / 2, HeavyHitters.Accumulation.SUM);
        };
    }
}
