package io.pagedkv.engine;

import io.pagedkv.cache.PrefixKeys;

/**
 * The argument checks {@link StepPlanner} and {@link GroupedStepPlanner} share: one wording for the
 * same bad input, whichever planner gets it. Stateless; any thread.
 */
final class StepArgs {

    private StepArgs() {
    }

    /** A prompt for a probe or an admission: ids present, {@code 1 <= length <= tokens.length}, keys present. */
    static void checkPrompt(int[] tokens, int length, PrefixKeys keys) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens: null (expected: token ids)");
        }
        if (length < 1 || length > tokens.length) {
            throw new IllegalArgumentException("length: " + length + " (expected: 1 <= length <= tokens.length "
                    + tokens.length + ")");
        }
        if (keys == null) {
            throw new IllegalArgumentException("keys: null (expected: PrefixKeys, NONE if none)");
        }
    }

    /** New tokens {@code tokens[from .. from + count)} appended to a sequence of {@code length} tokens. */
    static void checkAppend(int[] tokens, int from, int count, int length) {
        if (tokens == null || count <= 0 || from < 0 || from > tokens.length - count) {
            throw new IllegalArgumentException("tokens range: from " + from + ", count " + count + " of "
                    + (tokens == null ? "null" : tokens.length) + " (expected: count > 0 within the array)");
        }
        if (from != length) {
            throw new IllegalArgumentException("from: " + from + " (expected: the sequence's length " + length
                    + "; new tokens are appended in order)");
        }
    }
}
