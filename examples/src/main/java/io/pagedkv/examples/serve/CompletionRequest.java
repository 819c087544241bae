package io.pagedkv.examples.serve;

import java.util.List;

/**
 * A validated {@code POST /v1/completions} request: everything the engine needs, in the model's
 * units. Built only by {@link CompletionRequestParser}, so every field is within its limits.
 *
 * @param model the served model name the client asked for
 * @param prompt the prompt's token ids (a text prompt is encoded with BOS first, as {@code pagedkv generate} does)
 * @param maxTokens most tokens to generate, {@code >= 1}, {@code prompt.length + maxTokens <= context}
 * @param temperature 0 (greedy) to 2
 * @param topP nucleus mass, {@code (0, 1]}
 * @param seed sampling seed (drawn by the server when the client gave none)
 * @param stop up to 4 non-empty strings that end the completion (not included in its text)
 * @param stream whether to answer with server-sent events
 * @param includeUsage whether a streamed answer ends with a usage chunk ({@code stream_options.include_usage})
 * @param ignoreEos whether a generated BOS (llama2.c's end of text) is kept instead of ending the completion (vLLM's extension)
 */
public record CompletionRequest(
        String model,
        int[] prompt,
        int maxTokens,
        float temperature,
        float topP,
        long seed,
        List<String> stop,
        boolean stream,
        boolean includeUsage,
        boolean ignoreEos) {

    /** OpenAI's default of {@code max_tokens} for completions. */
    public static final int DEFAULT_MAX_TOKENS = 16;
    /** Most stop strings OpenAI accepts. */
    public static final int MAX_STOP_STRINGS = 4;
}
