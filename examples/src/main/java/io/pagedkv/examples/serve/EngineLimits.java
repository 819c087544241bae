package io.pagedkv.examples.serve;

/**
 * The engine's scheduling limits, validated.
 *
 * @param maxRunning most sequences running at once (vLLM's {@code max_num_seqs})
 * @param maxBatchedTokens most tokens computed in one step, prefill chunks and decodes together
 *     (vLLM's {@code max_num_batched_tokens}); a longer prompt is prefilled in chunks
 * @param maxWaiting most requests waiting for admission; more are refused with 429
 * @param workers threads running the decoder math of a step, the scheduler thread included
 */
public record EngineLimits(int maxRunning, int maxBatchedTokens, int maxWaiting, int workers) {

    /** Validates every limit. */
    public EngineLimits {
        if (maxRunning < 1) {
            throw new IllegalArgumentException("max running: " + maxRunning + " (expected: >= 1)");
        }
        if (maxBatchedTokens < 1) {
            throw new IllegalArgumentException("max batched tokens: " + maxBatchedTokens + " (expected: >= 1)");
        }
        if (maxWaiting < 0) {
            throw new IllegalArgumentException("max waiting: " + maxWaiting + " (expected: >= 0)");
        }
        if (workers < 1 || workers > 256) {
            throw new IllegalArgumentException("workers: " + workers + " (expected: 1 .. 256)");
        }
    }
}
