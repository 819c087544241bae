package io.pagedkv.attention;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The reference engine, plain Java: it decodes one key vector at a time through its codec into a
 * {@code headDim} scratch, scores it against every query row of the KV head's group with a scalar
 * dot product, folds the tile into a running (online) softmax (maximum {@code m}, sum {@code l},
 * unnormalised output {@code acc}, rescaled by {@code exp(mOld - mNew)} when the maximum grows), then
 * decodes and accumulates the values one vector at a time. It is the oracle the vector engine is
 * tested against. Not thread-safe; allocates nothing per call.
 */
final class ScalarAttentionEngine extends AttentionEngine {

    static final int TILE = 16;

    private final float[] key;
    private final float[] value;
    private final float[] max;
    private final float[] sum;
    private final float[] acc;
    private final float[] scores;
    /** Per KV head: whether its last scored tile has probabilities to add. */
    private final boolean[] pending;
    private float[] q;
    private int qOff;
    private int nq;
    private int firstPosition;
    private float[] weights;
    private int weightSlots;

    /** An engine whose drivers pass slots {@code slotStride} bytes apart (a head vector's bytes: contiguous). */
    ScalarAttentionEngine(ModelShape shape, long slotStride) {
        super(shape, slotStride);
        int rows = PagedAttention.QUERY_TILE * queryHeads;
        this.key = new float[headDim];
        this.value = new float[headDim];
        this.max = new float[rows];
        this.sum = new float[rows];
        this.acc = new float[rows * headDim];
        this.scores = new float[rows * TILE];
        this.pending = new boolean[kvHeads];
    }

    @Override
    int tileSlots() {
        return TILE;
    }

    @Override
    void begin(float[] q, int qOff, int nq, int firstPosition, float[] weights, int weightSlots) {
        this.q = q;
        this.qOff = qOff;
        this.nq = nq;
        this.firstPosition = firstPosition;
        this.weights = weights;
        this.weightSlots = weightSlots;
        int rows = nq * queryHeads;
        Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, rows, 0f);
        Arrays.fill(acc, 0, rows * headDim, 0f);
    }

    private int queryPosition(int i) {
        return firstPosition == Integer.MAX_VALUE ? Integer.MAX_VALUE : firstPosition + i;
    }

    @Override
    void keys(int kvh, KvCodec keyCodec, MemorySegment keys, long keyOff, int slotBase, int n, int[] positions) {
        int width = queryHeads * headDim;
        for (int j = 0; j < n; j++) {
            int s = slotBase + j;
            int pos = positions == null ? s : positions[s];
            boolean anyVisible = false;
            for (int i = 0; i < nq; i++) {
                anyVisible |= pos >= 0 && pos <= queryPosition(i);
            }
            if (anyVisible) {
                keyCodec.decode(keys, keyOff + j * slotStride, headDim, key, 0);
            }
            for (int i = 0; i < nq; i++) {
                boolean visible = pos >= 0 && pos <= queryPosition(i);
                int qTok = qOff + i * width;
                for (int g = 0; g < group; g++) {
                    int qh = kvh * group + g;
                    int row = i * queryHeads + qh;
                    float sc = Float.NEGATIVE_INFINITY;
                    if (visible) {
                        float dot = 0f;
                        int qb = qTok + qh * headDim;
                        for (int d = 0; d < headDim; d++) {
                            dot += q[qb + d] * key[d];
                        }
                        sc = dot * scale;
                    }
                    scores[row * TILE + j] = sc;
                    if (weights != null) {
                        weights[qh * weightSlots + s] = sc;
                    }
                }
            }
        }
        boolean anyRow = false;
        for (int i = 0; i < nq; i++) {
            for (int g = 0; g < group; g++) {
                int row = i * queryHeads + kvh * group + g;
                int sBase = row * TILE;
                float tileMax = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    tileMax = Math.max(tileMax, scores[sBase + j]);
                }
                if (tileMax == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(scores, sBase, sBase + n, 0f); // nothing visible: the tile adds nothing to the row
                    continue;
                }
                anyRow = true;
                float mNew = Math.max(max[row], tileMax);
                if (mNew > max[row]) {
                    float correction = (float) Math.exp(max[row] - mNew);
                    sum[row] *= correction;
                    int a = row * headDim;
                    for (int d = 0; d < headDim; d++) {
                        acc[a + d] *= correction;
                    }
                    max[row] = mNew;
                }
                float l = sum[row];
                for (int j = 0; j < n; j++) {
                    float p = (float) Math.exp(scores[sBase + j] - mNew);
                    scores[sBase + j] = p;
                    l += p;
                }
                sum[row] = l;
            }
        }
        pending[kvh] = anyRow;
    }

    @Override
    void values(int kvh, KvCodec valueCodec, MemorySegment values, long valueOff, int n) {
        if (!pending[kvh]) {
            return;
        }
        for (int j = 0; j < n; j++) {
            boolean decoded = false;
            for (int i = 0; i < nq; i++) {
                for (int g = 0; g < group; g++) {
                    int row = i * queryHeads + kvh * group + g;
                    float p = scores[row * TILE + j];
                    if (p != 0f) {
                        if (!decoded) {
                            valueCodec.decode(values, valueOff + j * slotStride, headDim, value, 0);
                            decoded = true;
                        }
                        int a = row * headDim;
                        for (int d = 0; d < headDim; d++) {
                            acc[a + d] += p * value[d];
                        }
                    }
                }
            }
        }
    }

    @Override
    void finish(float[] out, int outOff) {
        for (int row = 0; row < nq * queryHeads; row++) {
            float l = sum[row];
            float inv = l > 0f ? 1f / l : 0f;
            int o = outOff + row * headDim;
            int a = row * headDim;
            for (int d = 0; d < headDim; d++) {
                out[o + d] = acc[a + d] * inv;
            }
            if (weights != null) {
                float m = max[row];
                int w = row * weightSlots;
                for (int t = 0; t < weightSlots; t++) {
                    weights[w + t] = l > 0f ? (float) Math.exp(weights[w + t] - m) * inv : 0f;
                }
            }
        }
        q = null;
        weights = null;
    }

    @Override
    String loops() {
        return "scalar";
    }
}
