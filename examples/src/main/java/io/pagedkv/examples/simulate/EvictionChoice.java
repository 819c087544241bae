package io.pagedkv.examples.simulate;

import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.StandardPolicy;
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
    /** Attention sinks plus a recent window (StreamingLLM): {@code budget} tokens, 4 of them sinks. */
    SINKS,
    /** Heavy hitters plus recent tokens (H2O): {@code budget} tokens, half of them recent, attention summed. */
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
            case WINDOW -> StandardPolicy.WINDOW.create(budget);
            case SINKS -> StandardPolicy.SINKS.create(budget);
            case H2O -> StandardPolicy.H2O.create(budget);
        };
    }
}
