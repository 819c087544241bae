package io.pagedkv.examples.simulate;

/**
 * The figures of one simulated run under one allocation strategy.
 *
 * <p>Byte figures are at the full model scale. Means are over all steps. Waste is the share of the
 * held-or-blocked memory that holds no live token, integrated over time: {@code (reserved - live +
 * external) / (reserved + external)}, where {@code external} counts the free bytes of steps at which
 * the next waiting request was refused although the free bytes in total would have held it.
 *
 * @param strategy the strategy's name
 * @param requests requests in the trace
 * @param finished requests that generated their whole output
 * @param steps scheduler steps (one decoded token per running request per step)
 * @param capacityBytes the KV memory budget
 * @param peakConcurrency most requests running at once
 * @param meanConcurrency running requests per step, on average
 * @param peakLiveBytes most bytes of live tokens at once
 * @param meanLiveBytes bytes of live tokens per step, on average
 * @param meanReservedBytes bytes held by requests per step, on average
 * @param meanInternalBytes held bytes holding no token, per step, on average
 * @param meanExternalBytes free bytes blocked by fragmentation, per step, on average
 * @param waste share of held-or-blocked memory not holding live tokens, in [0, 1]
 * @param preemptions requests preempted (freed and re-queued) because memory ran dry
 * @param promptTokens prompt tokens prefilled, re-prefills after preemption included
 * @param prefixHitTokens prompt tokens reused from the prefix cache
 * @param tokensEvicted tokens dropped by the eviction policy
 * @param refusals steps at which the head of the queue was refused admission for lack of memory
 * @param queuedRequestSteps requests waiting, summed over steps (divide by steps for the mean queue)
 * @param series per-step samples for the chart
 */
public record SimulationResult(String strategy, int requests, int finished, long steps, long capacityBytes,
        int peakConcurrency, double meanConcurrency, long peakLiveBytes, double meanLiveBytes, double meanReservedBytes,
        double meanInternalBytes, double meanExternalBytes, double waste, long preemptions, long promptTokens,
        long prefixHitTokens, long tokensEvicted, long refusals, long queuedRequestSteps, TimeSeries series) {

    /** Share of prefilled prompt tokens served from the prefix cache (0 when nothing was prefilled). */
    public double prefixHitRate() {
        return promptTokens == 0 ? 0 : (double) prefixHitTokens / promptTokens;
    }
}
