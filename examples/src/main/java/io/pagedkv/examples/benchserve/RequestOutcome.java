package io.pagedkv.examples.benchserve;

/**
 * What happened to one benchmark request, times in nanoseconds of {@link System#nanoTime()}.
 *
 * @param id the request's index
 * @param status HTTP status (0 when no response came)
 * @param error why it failed, or null
 * @param sentNs when it was sent
 * @param firstTokenNs when its first token arrived (0 if none)
 * @param endNs when its stream ended
 * @param promptTokens prompt tokens
 * @param outputTokens tokens received
 * @param cachedTokens prompt tokens the server served from its prefix cache
 */
public record RequestOutcome(int id, int status, String error, long sentNs, long firstTokenNs, long endNs,
        int promptTokens, int outputTokens, int cachedTokens) {

    /** Whether the request completed with every token it asked for. */
    public boolean ok() {
        return error == null && status == 200;
    }

    /** Time to first token in ms. */
    public double ttftMs() {
        return (firstTokenNs - sentNs) / 1e6;
    }

    /** Time per output token after the first, in ms ({@code NaN} with fewer than two tokens). */
    public double tpotMs() {
        return outputTokens < 2 ? Double.NaN : (endNs - firstTokenNs) / 1e6 / (outputTokens - 1);
    }

    /** End-to-end latency in ms. */
    public double latencyMs() {
        return (endNs - sentNs) / 1e6;
    }
}
