package io.pagedkv.eviction;

import java.util.Locale;

/**
 * How many tokens an {@link EvictionPolicy} keeps: the total of every kept token, sinks and recent
 * window included, either a fixed count or a share of the context.
 *
 * <p>{@link #tokens(int) tokens(n)} keeps {@code n} tokens whatever the context. {@link #ratio(double,
 * int) ratio(keep, minTokens)} keeps {@code max(minTokens, floor(keep * context))} tokens, where the
 * context is the number of tokens the policy has seen appended since its last reset (so the budget
 * grows by {@code keep} per token, as kvpress's compression ratio {@code 1 - keep} would have it).
 * A ratio budget never shrinks as the context grows, so a token that left a policy's recent window
 * never has to come back.
 *
 * @param minTokens the fixed budget, or the floor of a ratio budget; >= 1
 * @param ratio 0 for a fixed budget, else the share of the context kept, {@code 0 < ratio <= 1}
 */
public record Budget(int minTokens, double ratio) {

    /** Validates the ranges above. */
    public Budget {
        if (minTokens < 1) {
            throw new IllegalArgumentException("minTokens: " + minTokens + " (expected: >= 1)");
        }
        if (!(ratio == 0 || (ratio > 0 && ratio <= 1))) {
            throw new IllegalArgumentException("ratio: " + ratio + " (expected: 0 for a fixed budget, or 0 < ratio <= 1)");
        }
    }

    /** A fixed budget of {@code tokens} kept tokens. */
    public static Budget tokens(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("budget: " + tokens + " tokens (expected: >= 1)");
        }
        return new Budget(tokens, 0);
    }

    /**
     * A budget of {@code keep} times the context, never below {@code minTokens}.
     *
     * @throws IllegalArgumentException unless {@code 0 < keep <= 1} and {@code minTokens >= 1}
     */
    public static Budget ratio(double keep, int minTokens) {
        if (!(keep > 0 && keep <= 1)) {
            throw new IllegalArgumentException("keep: " + keep + " (expected: 0 < keep <= 1, the share of the context kept)");
        }
        return new Budget(minTokens, keep);
    }

    /** Whether this budget grows with the context. */
    public boolean isRatio() {
        return ratio > 0;
    }

    /** The tokens kept when the policy has seen {@code context} tokens. */
    public int tokensAt(long context) {
        if (ratio == 0) {
            return minTokens;
        }
        double t = Math.floor(ratio * Math.max(0, context));
        return (int) Math.max(minTokens, Math.min(Integer.MAX_VALUE, t));
    }

    /** {@code 64} or {@code 20%>=16}, for policy names. */
    @Override
    public String toString() {
        if (ratio == 0) {
            return Integer.toString(minTokens);
        }
        return String.format(Locale.ROOT, "%s%%>=%d", trim(ratio * 100), minTokens);
    }

    private static String trim(double percent) {
        String s = String.format(Locale.ROOT, "%.4f", percent);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
