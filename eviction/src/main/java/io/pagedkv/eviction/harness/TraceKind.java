package io.pagedkv.eviction.harness;

import java.util.Locale;

/** The shapes of synthetic attention a {@link SyntheticTrace} can generate. */
public enum TraceKind {
    /** The first 4 tokens take 20-60% of every row's mass; the rest is noisy uniform. */
    SINKS,
    /**
     * Persistent power-law heavy hitters: each token draws a Pareto boost once (per head, half shared
     * across heads), plus sinks taking 20-40% of the mass and a mild recency term, as real models show.
     */
    POWER_LAW,
    /** Weight decays exponentially with distance (time constant 32 tokens) over a small floor. */
    RECENCY,
    /**
     * Recency background plus one needle token (at a quarter of the prompt) that gets almost no weight
     * except at three later decode steps, where it takes half the mass.
     */
    NEEDLE,
    /** Noisy uniform weights: the control, where no policy can beat budget / length. */
    UNIFORM;

    /** The command-line spelling, e.g. {@code power-law}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a label or constant name, case-insensitively. */
    public static TraceKind parse(String text) {
        for (TraceKind k : values()) {
            if (k.label().equalsIgnoreCase(text) || k.name().equalsIgnoreCase(text)) {
                return k;
            }
        }
        throw new IllegalArgumentException("trace: '" + text + "' (expected: one of sinks, power-law, recency, needle, uniform)");
    }
}
