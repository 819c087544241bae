package io.pagedkv.examples.llama;

import java.util.SplittableRandom;

/**
 * Weights of any Llama shape drawn from a fixed seed: the model property tests run on when a real
 * checkpoint is not the point. Matrix entries are uniform in {@code +-1/sqrt(in)} (so activations
 * keep their scale), the embedding and classifier give logits of standard deviation about 2, norm
 * weights are near 1. The same config and seed always give the same
 * weights. Stateless and thread-safe.
 */
public final class SeededWeights {

    private SeededWeights() {
    }

    /** Weights for {@code config} drawn from {@code seed}. */
    public static LlamaWeights generate(LlamaConfig config, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int dim = config.dim();
        int kvDim = config.kvDim();
        int hidden = config.hiddenDim();
        int layers = config.layers();
        float logitScale = (float) (2 * Math.sqrt(3.0 / dim)); // logits of std ~2 for unit-rms activations
        float[] embedding = uniform(r, (long) config.vocabSize() * dim, logitScale);
        float[][] rmsAtt = new float[layers][];
        float[][] wq = new float[layers][];
        float[][] wk = new float[layers][];
        float[][] wv = new float[layers][];
        float[][] wo = new float[layers][];
        float[][] rmsFfn = new float[layers][];
        float[][] w1 = new float[layers][];
        float[][] w2 = new float[layers][];
        float[][] w3 = new float[layers][];
        float inDim = (float) (1.0 / Math.sqrt(dim));
        float inHidden = (float) (1.0 / Math.sqrt(hidden));
        for (int l = 0; l < layers; l++) {
            rmsAtt[l] = norm(r, dim);
            wq[l] = uniform(r, (long) dim * dim, 2f * inDim);
            wk[l] = uniform(r, (long) kvDim * dim, 2f * inDim);
            wv[l] = uniform(r, (long) kvDim * dim, inDim);
            wo[l] = uniform(r, (long) dim * dim, inDim);
            rmsFfn[l] = norm(r, dim);
            w1[l] = uniform(r, (long) hidden * dim, inDim);
            w2[l] = uniform(r, (long) dim * hidden, inHidden);
            w3[l] = uniform(r, (long) hidden * dim, inDim);
        }
        float[] rmsFinal = norm(r, dim);
        float[] classifier = config.sharedClassifier() ? embedding : uniform(r, (long) config.vocabSize() * dim, logitScale);
        return new LlamaWeights(config, embedding, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal, classifier);
    }

    private static float[] uniform(SplittableRandom r, long n, float bound) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return a;
    }

    private static float[] norm(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (0.8 + 0.4 * r.nextDouble());
        }
        return a;
    }
}
