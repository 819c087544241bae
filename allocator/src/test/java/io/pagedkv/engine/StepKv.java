package io.pagedkv.engine;

import io.pagedkv.cache.CacheLayout;

/**
 * The K/V a fake model computes in the step API tests: a value of (token id, position, layer, K|V,
 * head, element), so a token's K/V depends only on what a real model's would depend on for a shared
 * prefix (the ids up to it and its position): a prefix hit must read back exactly these values, and
 * any other bytes (a previous owner's, never written) show up as a mismatch.
 */
final class StepKv {

    private StepKv() {
    }

    /** The value of one element; small integers over 8, exact in every dtype the tests use. */
    static float value(int token, int position, int layer, int kv, int head, int j) {
        return ((token * 7 + position * 3 + layer * 5 + kv * 11 + head * 13 + j) % 29 - 14) / 8f;
    }

    /** Fills {@code out[0 .. count * kvHeads * headDim)} with the K (kv 0) or V (kv 1) of tokens {@code [start, start + count)}. */
    static void fill(float[] out, int[] tokens, int start, int count, int layer, int kv, CacheLayout layout) {
        int heads = layout.shape().kvHeads();
        int dim = layout.shape().headDim();
        for (int i = 0; i < count; i++) {
            int pos = start + i;
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < dim; j++) {
                    out[(i * heads + h) * dim + j] = value(tokens[pos], pos, layer, kv, h, j);
                }
            }
        }
    }

    /** Writes a row's whole chunk in every layer through {@code writer}. */
    static void writeRow(KvWriter writer, StepPlan plan, int row, int[] tokens, CacheLayout layout) {
        int count = plan.queryLength(row);
        int start = plan.contextLength(row);
        int width = layout.shape().kvHeads() * layout.shape().headDim();
        float[] k = new float[count * width];
        float[] v = new float[count * width];
        for (int l = 0; l < layout.shape().layers(); l++) {
            fill(k, tokens, start, count, l, 0, layout);
            fill(v, tokens, start, count, l, 1, layout);
            writer.write(plan, row, l, 0, count, k, 0, v, 0);
        }
    }

    /** Throws unless {@code seq} reads back the model's K/V for every written position of every layer. */
    static void assertReadsBack(StepSequence seq, int[] tokens, CacheLayout layout) {
        int heads = layout.shape().kvHeads();
        int dim = layout.shape().headDim();
        float[] got = new float[dim];
        for (int l = 0; l < layout.shape().layers(); l++) {
            int written = seq.written(l);
            for (int p = 0; p < written; p++) {
                for (int h = 0; h < heads; h++) {
                    for (int kv = 0; kv < 2; kv++) {
                        if (kv == 0) {
                            seq.readKey(l, h, p, got, 0);
                        } else {
                            seq.readValue(l, h, p, got, 0);
                        }
                        for (int j = 0; j < dim; j++) {
                            float want = value(tokens[p], p, l, kv, h, j);
                            if (got[j] != want) {
                                throw new AssertionError(seq + " layer " + l + " pos " + p + (kv == 0 ? " K" : " V")
                                        + " head " + h + " [" + j + "]: " + got[j] + " (expected: " + want + ")");
                            }
                        }
                    }
                }
            }
        }
    }
}
