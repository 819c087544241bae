package io.pagedkv.examples.benchserve;

/**
 * One request of a benchmark run.
 *
 * @param id index in the run
 * @param prompt token ids of the prompt (BOS first)
 * @param outputTokens tokens to generate ({@code max_tokens}, with {@code ignore_eos})
 * @param sendAtNs when to send it, in nanoseconds after the run starts
 */
public record BenchRequest(int id, int[] prompt, int outputTokens, long sendAtNs) {
}
