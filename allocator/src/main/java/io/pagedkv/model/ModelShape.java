package io.pagedkv.model;

/**
 * The attention shape of a transformer: what decides the size of its KV cache.
 *
 * <p>Invariants, checked by the constructor: {@code layers}, {@code queryHeads}, {@code kvHeads} and
 * {@code headDim} are positive; {@code queryHeads} is a multiple of {@code kvHeads} (grouped-query
 * attention shares each KV head among {@code queryHeads / kvHeads} query heads; multi-head attention
 * has them equal); {@code slidingWindow} is 0 exactly when {@code pattern} is {@link
 * AttentionPattern#GLOBAL}. {@code parameters} is the total parameter count (0 when unknown), used by
 * the memory planner to size the weights.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name a human-readable name, e.g. {@code llama-3.1-8b}
 * @param layers number of transformer layers (blocks)
 * @param queryHeads number of attention (query) heads
 * @param kvHeads number of key/value heads
 * @param headDim dimension of one head
 * @param slidingWindow window size in tokens of the sliding layers, 0 if none
 * @param pattern which layers slide
 * @param parameters total parameter count, 0 if unknown
 */
public record ModelShape(
        String name,
        int layers,
        int queryHeads,
        int kvHeads,
        int headDim,
        int slidingWindow,
        AttentionPattern pattern,
        long parameters) {

    /** Validates the invariants above. */
    public ModelShape {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: non-blank)");
        }
        requirePositive("layers", layers);
        requirePositive("queryHeads", queryHeads);
        requirePositive("kvHeads", kvHeads);
        requirePositive("headDim", headDim);
        if (queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads: " + queryHeads
                    + " is not a multiple of kvHeads: " + kvHeads + " (grouped-query attention needs whole groups)");
        }
        if (pattern == null) {
            throw new IllegalArgumentException("pattern: null (expected: an AttentionPattern)");
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("slidingWindow: " + slidingWindow + " (expected: >= 0)");
        }
        if ((slidingWindow == 0) != (pattern == AttentionPattern.GLOBAL)) {
            throw new IllegalArgumentException("slidingWindow: " + slidingWindow + " with pattern " + pattern
                    + " (expected: a positive window exactly when some layers slide)");
        }
        if (parameters < 0) {
            throw new IllegalArgumentException("parameters: " + parameters + " (expected: >= 0)");
        }
    }

    /** A model whose layers all attend globally, with unknown parameter count. */
    public static ModelShape of(String name, int layers, int queryHeads, int kvHeads, int headDim) {
        return new ModelShape(name, layers, queryHeads, kvHeads, headDim, 0, AttentionPattern.GLOBAL, 0);
    }

    /** Query heads that share one KV head (1 for multi-head attention). */
    public int queryHeadsPerKvHead() {
        return queryHeads / kvHeads;
    }

    /** Whether layer {@code layer} attends over a sliding window. */
    public boolean isSlidingLayer(int layer) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
        return pattern.isSliding(layer);
    }

    /** Number of layers that attend over a sliding window. */
    public int slidingLayers() {
        int n = 0;
        for (int l = 0; l < layers; l++) {
            if (pattern.isSliding(l)) {
                n++;
            }
        }
        return n;
    }

    /** Number of layers that attend over the whole context. */
    public int globalLayers() {
        return layers - slidingLayers();
    }

    /** This shape with another name. */
    public ModelShape withName(String newName) {
        return new ModelShape(newName, layers, queryHeads, kvHeads, headDim, slidingWindow, pattern, parameters);
    }

    /** This shape with another parameter count. */
    public ModelShape withParameters(long newParameters) {
        return new ModelShape(name, layers, queryHeads, kvHeads, headDim, slidingWindow, pattern, newParameters);
    }

    private static void requirePositive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: > 0)");
        }
    }
}
