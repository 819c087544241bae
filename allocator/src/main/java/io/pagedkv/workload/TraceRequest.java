package io.pagedkv.workload;

/**
 * One request of a trace: how many prompt tokens it sends, how many it will generate, and the
 * output limit it declares up front (what an Orca-style allocator reserves).
 *
 * <p>Agent traces also carry token ids: {@code transcript} is the session's whole conversation,
 * shared by all turns of the session (do not modify it); this request's prompt is {@code
 * transcript[0, promptTokens)} and its output {@code transcript[promptTokens, promptTokens +
 * outputTokens)}, so the next turn re-sends exactly what this one generated. Chat traces (ShareGPT,
 * Alpaca) carry no ids ({@code transcript} is {@code null}): every prompt is distinct.
 *
 * <p>Invariants, checked by the constructor: {@code 1 <= outputTokens <= maxOutputTokens}, {@code
 * promptTokens >= 1}, {@code 0 <= sharedPrefixTokens <= promptTokens}, and a transcript, when
 * present, holds at least prompt + output tokens. Immutable apart from the shared array; thread-safe
 * for reading.
 *
 * @param id 0-based position in the trace
 * @param session the conversation this request belongs to (its own id for single-turn traces)
 * @param turn 0-based turn within the session
 * @param promptTokens tokens sent (prefilled)
 * @param outputTokens tokens generated before the request finishes
 * @param maxOutputTokens the output limit the client declares ({@code max_tokens})
 * @param sharedPrefixTokens leading prompt tokens identical to tokens an earlier request of the trace
 *     already sent or generated (what a perfect prefix cache could reuse)
 * @param transcript the session's token ids, or {@code null} when the trace has none
 */
public record TraceRequest(int id, int session, int turn, int promptTokens, int outputTokens, int maxOutputTokens,
        int sharedPrefixTokens, int[] transcript) {

    /** Validates the invariants above. */
    public TraceRequest {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 1)");
        }
        if (outputTokens < 1 || outputTokens > maxOutputTokens) {
            throw new IllegalArgumentException("outputTokens: " + outputTokens
                    + " (expected: 1 <= outputTokens <= maxOutputTokens " + maxOutputTokens + ")");
        }
        if (sharedPrefixTokens < 0 || sharedPrefixTokens > promptTokens) {
            throw new IllegalArgumentException("sharedPrefixTokens: " + sharedPrefixTokens
                    + " (expected: 0 <= shared <= promptTokens " + promptTokens + ")");
        }
        if (transcript != null && transcript.length < promptTokens + outputTokens) {
            throw new IllegalArgumentException("transcript length: " + transcript.length
                    + " (expected: >= prompt + output = " + (promptTokens + outputTokens) + ")");
        }
    }

    /** Whether this request carries token ids (agent traces do). */
    public boolean hasTokenIds() {
        return transcript != null;
    }

    /** Prompt plus output: the tokens this request holds in the cache when it finishes. */
    public int totalTokens() {
        return promptTokens + outputTokens;
    }

    /** Prompt plus declared output limit: what a contiguous prompt+max-output allocator reserves. */
    public int reservedTokens() {
        return promptTokens + maxOutputTokens;
    }

    /** Token id at {@code position} of the conversation (prompt then output). */
    public int tokenId(int position) {
        if (transcript == null) {
            throw new IllegalStateException("request " + id + " carries no token ids");
        }
        if (position < 0 || position >= promptTokens + outputTokens) {
            throw new IndexOutOfBoundsException("position: " + position
                    + " (expected: 0 <= position < " + (promptTokens + outputTokens) + ")");
        }
        return transcript[position];
    }

    @Override
    public String toString() {
        return "TraceRequest[id=" + id + ", session=" + session + ", turn=" + turn + ", prompt=" + promptTokens
                + ", output=" + outputTokens + ", maxOutput=" + maxOutputTokens + ", shared=" + sharedPrefixTokens
                + (transcript == null ? "" : ", ids") + "]";
    }
}
