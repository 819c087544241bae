package io.pagedkv.examples.llama;

/**
 * The weights of a Llama model as float arrays, one per tensor and layer.
 *
 * <p>Matrices are row-major {@code [out][in]}: {@code out[i] = sum_j W[i * in + j] * x[j]}. Arrays
 * are shared, not copied: treat them as read-only once built. Thread-safe for reading.
 *
 * @param config the hyper-parameters the arrays are sized for
 * @param tokenEmbedding {@code [vocab][dim]}
 * @param rmsAtt per layer {@code [dim]}
 * @param wq per layer {@code [dim][dim]}
 * @param wk per layer {@code [kvDim][dim]}
 * @param wv per layer {@code [kvDim][dim]}
 * @param wo per layer {@code [dim][dim]}
 * @param rmsFfn per layer {@code [dim]}
 * @param w1 per layer {@code [hidden][dim]}
 * @param w2 per layer {@code [dim][hidden]}
 * @param w3 per layer {@code [hidden][dim]}
 * @param rmsFinal {@code [dim]}
 * @param classifier {@code [vocab][dim]}, the embedding itself when shared
 */
public record LlamaWeights(LlamaConfig config, float[] tokenEmbedding, float[][] rmsAtt, float[][] wq, float[][] wk,
        float[][] wv, float[][] wo, float[][] rmsFfn, float[][] w1, float[][] w2, float[][] w3, float[] rmsFinal,
        float[] classifier) {

    /** Checks every array against the config's sizes. */
    public LlamaWeights {
        int dim = config.dim();
        int kvDim = config.kvDim();
        int hidden = config.hiddenDim();
        check("tokenEmbedding", tokenEmbedding, (long) config.vocabSize() * dim);
        check("classifier", classifier, (long) config.vocabSize() * dim);
        check("rmsFinal", rmsFinal, dim);
        checkLayers("rmsAtt", rmsAtt, config.layers(), dim);
        checkLayers("wq", wq, config.layers(), (long) dim * dim);
        checkLayers("wk", wk, config.layers(), (long) kvDim * dim);
        checkLayers("wv", wv, config.layers(), (long) kvDim * dim);
        checkLayers("wo", wo, config.layers(), (long) dim * dim);
        checkLayers("rmsFfn", rmsFfn, config.layers(), dim);
        checkLayers("w1", w1, config.layers(), (long) hidden * dim);
        checkLayers("w2", w2, config.layers(), (long) dim * hidden);
        checkLayers("w3", w3, config.layers(), (long) hidden * dim);
    }

    private static void checkLayers(String what, float[][] arrays, int layers, long length) {
        if (arrays.length != layers) {
            throw new IllegalArgumentException(what + ": " + arrays.length + " layers (expected: " + layers + ")");
        }
        for (int l = 0; l < layers; l++) {
            check(what + "[" + l + "]", arrays[l], length);
        }
    }

    private static void check(String what, float[] array, long length) {
        if (array.length != length) {
            throw new IllegalArgumentException(what + ": " + array.length + " floats (expected: " + length + ")");
        }
    }
}
