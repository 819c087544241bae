package io.pagedkv.eviction;

import java.util.Locale;

/**
 * The built-in policies with the defaults the command line, the harness and the examples use, each
 * built for a token budget that counts every kept token (sinks and recent window included).
 *
 * <table>
 *   <caption>What each keeps at a budget of B tokens</caption>
 *   <tr><th>label</th><th>policy</th></tr>
 *   <tr><td>window</td><td>{@code new SlidingWindow(B)}: the last B</td></tr>
 *   <tr><td>sinks</td><td>{@code new AttentionSinks(B)}: 4 sinks + the last B - 4</td></tr>
 *   <tr><td>h2o</td><td>{@code new HeavyHitters(B, B / 2, SUM)}: the last B/2 + the heaviest others</td></tr>
 *   <tr><td>h2o-norm</td><td>the same with {@code NORM_SUM}</td></tr>
 *   <tr><td>tova</td><td>{@code new Tova(B)}</td></tr>
 *   <tr><td>knorm</td><td>{@code new KeyNorm(B, 4, B / 4)}</td></tr>
 *   <tr><td>keydiff</td><td>{@code new KeyDiff(B, 4, B / 8)}</td></tr>
 *   <tr><td>lagkv</td><td>{@code new LagKv(B, 4, lagFor(B))}</td></tr>
 *   <tr><td>random</td><td>{@code new RandomEviction(B, 1)}: the baseline</td></tr>
 * </table>
 *
 * Immutable and thread-safe.
 */
public enum StandardPolicy {
    /** The plain sliding window. */
    WINDOW,
    /** StreamingLLM: 4 sinks and the newest tokens. */
    SINKS,
    /** H2O with the paper's raw sum, half the budget recent. */
    H2O,
    /** H2O with the sum divided by the observations that saw the token. */
    H2O_NORM,
    /** TOVA: the current step's attention only. */
    TOVA,
    /** Smallest key norm, 4 sinks, a quarter of the budget recent. */
    KNORM,
    /** KeyDiff: most distinctive keys, 4 sinks, an eighth of the budget recent. */
    KEYDIFF,
    /** LagKV: lag-relative key and value statistics, 4 sinks. */
    LAGKV,
    /** Uniformly random victims (seed 1): the baseline. */
    RANDOM;

    /** Smallest budget every standard policy accepts. */
    public static final int MIN_BUDGET = 8;

    /** The command-line spelling, e.g. {@code h2o-norm}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * A fresh token-granular policy keeping {@code budget} tokens.
     *
     * @throws IllegalArgumentException if {@code budget < MIN_BUDGET}
     */
    public EvictionPolicy create(int budget) {
        if (budget < MIN_BUDGET) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: >= " + MIN_BUDGET + " tokens)");
        }
        int sinks = AttentionSinks.DEFAULT_SINKS;
        return switch (this) {
            case WINDOW -> new SlidingWindow(budget);
            case SINKS -> new AttentionSinks(budget);
            case H2O -> new HeavyHitters(budget, budget / 2, HeavyHitters.Accumulation.SUM);
            case H2O_NORM -> new HeavyHitters(Budget.tokens(budget), budget / 2, HeavyHitters.Accumulation.NORM_SUM, 1);
            case TOVA -> new Tova(budget);
            case KNORM -> new KeyNorm(budget, sinks, budget / 4);
            case KEYDIFF -> new KeyDiff(budget, sinks, budget / 8);
            case LAGKV -> new LagKv(budget, sinks, lagFor(budget));
            case RANDOM -> new RandomEviction(budget, 1);
        };
    }

    /**
     * LagKV's partition length for a budget: kvpress's default of 128, or less when the budget cannot
     * hold 4 sinks, two partitions and the token being placed: {@code min(128, (budget - 5) / 2)}.
     */
    public static int lagFor(int budget) {
        return Math.max(1, Math.min(128, (budget - AttentionSinks.DEFAULT_SINKS - 1) / 2));
    }

    /**
     * Parses a label or constant name, case-insensitively.
     *
     * @throws IllegalArgumentException naming the text and the labels
     */
    public static StandardPolicy parse(String text) {
        for (StandardPolicy p : values()) {
            if (p.label().equalsIgnoreCase(text) || p.name().equalsIgnoreCase(text)) {
                return p;
            }
        }
        StringBuilder labels = new StringBuilder();
        for (StandardPolicy p : values()) {
            labels.append(labels.isEmpty() ? "" : ", ").append(p.label());
        }
        throw new IllegalArgumentException("policy: '" + text + "' (expected: one of " + labels + ")");
    }
}
