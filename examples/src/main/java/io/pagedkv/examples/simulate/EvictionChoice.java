package io.pagedkv.examples.simulate;

import java.util.Locale;

/**
 * The eviction policy a simulation runs with ({@code --policy}). Immutable and thread-safe.
 *
 * <p>Only {@link #NONE} runs today; the others name the eviction module's policies (sliding window,
 * attention sinks + recent, heavy hitters) and are refused with a clear message until they land.
 */
public enum EvictionChoice {
    /** Keep every token: a request holds its whole context. */
    NONE,
    /** Sliding window of recent tokens. */
    WINDOW,
    /** Attention sinks plus a recent window (StreamingLLM). */
    SINKS,
    /** Heavy hitters plus recent tokens (H2O). */
    H2O;

    /** Whether this policy can run in the simulator now. */
    public boolean isAvailable() {
        return this == NONE;
    }

    /** The lower-case command-line name. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
