package io.pagedkv.workload;

import java.util.Locale;

/**
 * The request-length workloads we replay, each a seeded generator.
 *
 * <ul>
 *   <li>{@link #SHAREGPT}: chat conversations, long-tailed: prompts mean 161 tokens, outputs mean 338
 *       (the PagedAttention paper's ShareGPT statistics). See {@link ChatTraceGenerator#SHAREGPT}.
 *   <li>{@link #ALPACA}: short instructions: prompts mean 19 tokens, outputs mean 58. See
 *       {@link ChatTraceGenerator#ALPACA}.
 *   <li>{@link #AGENT}: multi-turn agent sessions sharing a long system prompt and tool definitions,
 *       each turn re-sending its session's history, with token ids. See {@link AgentTraceGenerator}.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public enum Workload {
    /** ShareGPT-like chat. */
    SHAREGPT("sharegpt"),
    /** Alpaca-like instructions. */
    ALPACA("alpaca"),
    /** Multi-turn agent sessions with a shared prefix. */
    AGENT("agent");

    private final String label;

    Workload(String label) {
        this.label = label;
    }

    /** The lower-case name used on the command line. */
    public String label() {
        return label;
    }

    /** The context (in tokens) this workload's requests fit into by default. */
    public int defaultMaxContext() {
        return switch (this) {
            case SHAREGPT -> ChatTraceGenerator.SHAREGPT.maxContext();
            case ALPACA -> ChatTraceGenerator.ALPACA.maxContext();
            case AGENT -> AgentTraceGenerator.DEFAULT.maxContext();
        };
    }

    /**
     * Generates {@code requests} requests from {@code seed}.
     *
     * @throws IllegalArgumentException if {@code requests} is negative
     */
    public Trace generate(int requests, long seed) {
        return switch (this) {
            case SHAREGPT -> ChatTraceGenerator.SHAREGPT.generate(requests, seed);
            case ALPACA -> ChatTraceGenerator.ALPACA.generate(requests, seed);
            case AGENT -> AgentTraceGenerator.DEFAULT.generate(requests, seed);
        };
    }

    /**
     * Parses a workload name ({@code sharegpt}, {@code alpaca}, {@code agent}; case-insensitive).
     *
     * @throws IllegalArgumentException naming the input and the accepted names
     */
    public static Workload parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Workload w : values()) {
            if (w.label.equals(n)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload: '" + name + "' (expected one of sharegpt, alpaca, agent)");
    }

    @Override
    public String toString() {
        return label;
    }
}
