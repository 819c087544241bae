package io.pagedkv.examples.llama;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The decode loop: runs the prompt as one chunk ({@link LlamaDecoder#prefill}), then lets the sampler pick each next token
 * until {@code steps} positions are done or, when asked, the model emits BOS (llama2.c's end-of-text
 * marker). Stateless and thread-safe; the decoder and sampler it drives are not.
 */
public final class Generation {

    private Generation() {
    }

    /**
     * Runs the loop and returns every token id of the sequence, prompt included.
     *
     * @param decoder the model, with an empty store
     * @param sampler picks the next token
     * @param prompt the prompt's token ids, at least one (usually BOS first)
     * @param steps forward passes to run, prompt included, {@code prompt.length <= steps <= } the store's
     *     capacity (past the model's context only with a store that evicts)
     * @param stopAtBos whether a generated BOS ends the text (llama2.c does; tests on random weights do not)
     * @param onToken called with each token id the model generates (not the prompt's)
     * @throws IllegalArgumentException if the prompt is empty or longer than {@code steps}, or {@code
     *     steps} exceeds the store's capacity
     */
    public static int[] run(LlamaDecoder decoder, Sampler sampler, int[] prompt, int steps, boolean stopAtBos,
            IntConsumer onToken) {
        int capacity = decoder.store().capacity() - decoder.store().length();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt: 0 tokens (expected: >= 1, e.g. BOS)");
        }
        if (steps < prompt.length || steps > capacity) {
            throw new IllegalArgumentException("steps: " + steps + " (expected: prompt length " + prompt.length
                    + " <= steps <= the store's free capacity " + capacity + ")");
        }
        int[] ids = new int[steps + 1];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        int n = prompt.length;
        float[] logits = prompt.length == 1 ? decoder.forward(prompt[0]) : decoder.prefill(prompt);
        int passes = prompt.length;
        while (true) {
            int next = sampler.sample(logits);
            if (stopAtBos && next == Tokenizer.BOS) {
                break;
            }
            ids[n++] = next;
            onToken.accept(next);
            if (passes >= steps) {
                break;
            }
            logits = decoder.forward(next);
            passes++;
        }
        return Arrays.copyOf(ids, n);
    }
}
