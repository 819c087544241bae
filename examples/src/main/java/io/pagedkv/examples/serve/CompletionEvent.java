package io.pagedkv.examples.serve;

/**
 * What the engine tells the HTTP side about one completion, in order: zero or more {@link Token}s,
 * then exactly one {@link Finished} or {@link Failed}.
 */
public sealed interface CompletionEvent {

    /**
     * One generated token and the text it made visible (may be empty: part of a character or of a
     * possible stop string is held back).
     */
    record Token(int id, String text) implements CompletionEvent {
    }

    /**
     * The completion ended.
     *
     * @param finishReason {@code stop} (end of text or a stop string) or {@code length} (max_tokens)
     * @param text text not yet handed out in a {@link Token}
     * @param usage token counts
     */
    record Finished(String finishReason, String text, Usage usage) implements CompletionEvent {
    }

    /** The completion failed; {@code error} says how, in OpenAI's shape. */
    record Failed(ApiException error) implements CompletionEvent {
    }

    /**
     * Token counts of a completion.
     *
     * @param promptTokens tokens in the prompt
     * @param completionTokens tokens generated (a final end-of-text token not counted)
     * @param cachedTokens prompt tokens served from the prefix cache at the first admission
     */
    record Usage(int promptTokens, int completionTokens, int cachedTokens) {
        /** Prompt plus completion tokens. */
        public int totalTokens() {
            return promptTokens + completionTokens;
        }
    }
}
