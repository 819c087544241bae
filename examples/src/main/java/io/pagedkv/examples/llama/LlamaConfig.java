package io.pagedkv.examples.llama;

import io.pagedkv.model.ModelShape;

/**
 * The hyper-parameters of a llama2.c checkpoint: its seven-int header.
 *
 * <p>Invariants, checked by the constructor: all sizes positive, {@code heads} divides {@code dim},
 * {@code kvHeads} divides {@code heads}, and the head size is even (rotary positions rotate pairs).
 * Immutable and thread-safe.
 *
 * @param dim model (residual stream) width
 * @param hiddenDim width of the SwiGLU MLP
 * @param layers transformer layers
 * @param heads query heads
 * @param kvHeads key/value heads
 * @param vocabSize tokens in the vocabulary
 * @param seqLen maximum context length
 * @param sharedClassifier whether the output classifier is the token embedding
 */
public record LlamaConfig(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
        boolean sharedClassifier) {

    /** Validates the invariants above. */
    public LlamaConfig {
        positive("dim", dim);
        positive("hiddenDim", hiddenDim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("vocabSize", vocabSize);
        positive("seqLen", seqLen);
        if (dim % heads != 0) {
            throw new IllegalArgumentException("dim: " + dim + " (expected: a multiple of heads " + heads + ")");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads: " + heads + " (expected: a multiple of kvHeads " + kvHeads + ")");
        }
        if ((dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("headSize: " + (dim / heads) + " (expected: even, RoPE rotates pairs)");
        }
    }

    /** Dimension of one attention head. */
    public int headSize() {
        return dim / heads;
    }

    /** Width of all KV heads of one token: {@code kvHeads * headSize}. */
    public int kvDim() {
        return kvHeads * headSize();
    }

    /** Number of float parameters, classifier included when it is not shared. */
    public long parameterCount() {
        long kvDim = kvDim();
        long perLayer = 2L * dim + 2L * dim * dim + 2L * kvDim * dim + 3L * hiddenDim * dim;
        return (long) vocabSize * dim + layers * perLayer + dim + (sharedClassifier ? 0 : (long) vocabSize * dim);
    }

    /** The attention shape of this model, for cache layouts. */
    public ModelShape shape(String name) {
        return ModelShape.of(name, layers, heads, kvHeads, headSize()).withParameters(parameterCount());
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: > 0)");
        }
    }
}
