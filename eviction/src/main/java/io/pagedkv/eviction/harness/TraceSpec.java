package io.pagedkv.eviction.harness;

/**
 * What a synthetic trace looks like: its kind, lengths, layers, heads and seed.
 *
 * @param kind the attention shape
 * @param promptTokens tokens prefilled before the policy compresses the cache, >= 8
 * @param decodeTokens tokens decoded afterwards (the steps that are measured), >= 1
 * @param heads attention heads (each with its own row), >= 1
 * @param headDim dimension of the key and value vectors, even and >= 2
 * @param seed the seed every random draw derives from
 * @param layers attention layers, each with its own rows, keys and values (the same kind, drawn apart), >= 1
 */
public record TraceSpec(TraceKind kind, int promptTokens, int decodeTokens, int heads, int headDim, long seed, int layers) {

    /** Largest number of layers. */
    public static final int MAX_LAYERS = 256;

    /** A one-layer trace. */
    public TraceSpec(TraceKind kind, int promptTokens, int decodeTokens, int heads, int headDim, long seed) {
        this(kind, promptTokens, decodeTokens, heads, headDim, seed, 1);
    }

    /** Largest trace, in tokens (rows are materialised per step, the harness is O(tokens^2)). */
    public static final int MAX_TOKENS = 1 << 20;

    /** Validates the ranges above. */
    public TraceSpec {
        if (kind == null) {
            throw new IllegalArgumentException("kind: null (expected: a TraceKind)");
        }
        if (promptTokens < 8) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 8)");
        }
        if (decodeTokens < 1) {
            throw new IllegalArgumentException("decodeTokens: " + decodeTokens + " (expected: >= 1)");
        }
        if ((long) promptTokens + decodeTokens > MAX_TOKENS) {
            throw new IllegalArgumentException("promptTokens + decodeTokens: " + ((long) promptTokens + decodeTokens)
                    + " (expected: <= " + MAX_TOKENS + ")");
        }
        if (heads < 1) {
            throw new IllegalArgumentException("heads: " + heads + " (expected: >= 1)");
        }
        if (layers < 1 || layers > MAX_LAYERS) {
            throw new IllegalArgumentException("layers: " + layers + " (expected: 1 <= layers <= " + MAX_LAYERS + ")");
        }
        if (headDim < 2 || (headDim & 1) != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: even and >= 2)");
        }
    }

    /** Prompt plus decode tokens. */
    public int totalTokens() {
        return promptTokens + decodeTokens;
    }
}
