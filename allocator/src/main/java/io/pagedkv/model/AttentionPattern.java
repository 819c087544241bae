package io.pagedkv.model;

/**
 * Which layers of a model attend over a sliding window rather than the whole context.
 *
 * <p>A sliding-window layer never needs more than the window's tokens of cache, so the memory
 * planner caps its cache there. Immutable and thread-safe.
 */
public enum AttentionPattern {
    /** Every layer attends over the whole context (Llama, Qwen, GPT-2). */
    GLOBAL,
    /** Every layer attends over a sliding window (Mistral-7B v0.1). */
    SLIDING,
    /** Even layers (0, 2, 4, ...) slide, odd layers are global (Gemma-2). */
    ALTERNATING_SLIDING_GLOBAL;

    /** Whether layer {@code layer} (0-based) attends over a sliding window under this pattern. */
    public boolean isSliding(int layer) {
        return switch (this) {
            case GLOBAL -> false;
            case SLIDING -> true;
            case ALTERNATING_SLIDING_GLOBAL -> (layer & 1) == 0;
        };
    }
}
