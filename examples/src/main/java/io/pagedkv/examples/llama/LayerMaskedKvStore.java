package io.pagedkv.examples.llama;

import java.util.Arrays;

/**
 * The mask-only reference of a per-layer evicting cache: contiguous arrays, slot = position, and for
 * every layer its own set of kept tokens; attention in layer {@code l} skips the tokens layer {@code l}
 * evicted exactly as if their keys and values had been freed. The normalised weights of the latest
 * step are kept per layer (0 on the layer's evicted slots). Keys at their original positions. Not
 * thread-safe.
 */
public final class LayerMaskedKvStore implements KvStore {

    private final LlamaConfig c;
    private final int capacity;
    private final float[][] keys;
    private final float[][] values;
    private final float[][] weights;
    private final boolean[][] live;
    private final int[] liveCount;
    private final float[] scores;
    private int length;

    /** A store for {@code capacity} tokens of a model shaped like {@code config}. */
    public LayerMaskedKvStore(LlamaConfig config, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.c = config;
        this.capacity = capacity;
        this.keys = new float[config.layers()][capacity * config.kvDim()];
        this.values = new float[config.layers()][capacity * config.kvDim()];
        this.weights = new float[config.layers()][config.heads() * capacity];
        this.live = new boolean[config.layers()][capacity];
        this.liveCount = new int[config.layers()];
        this.scores = new float[capacity];
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Tokens layer {@code layer} has not evicted. */
    public int liveTokens(int layer) {
        return liveCount[layer];
    }

    /** Whether layer {@code layer} still attends to the token at {@code slot}. */
    public boolean isLive(int layer, int slot) {
        return slot >= 0 && slot < length && live[layer][slot];
    }

    /**
     * Drops the token at {@code slot} from layer {@code layer}'s later attention.
     *
     * @throws IllegalArgumentException if the layer does not keep the slot
     */
    public void evict(int layer, int slot) {
        if (!isLive(layer, slot)) {
            throw new IllegalArgumentException("layer " + layer + ", slot: " + slot + " (expected: live, 0 <= slot < "
                    + length + ")");
        }
        live[layer][slot] = false;
        liveCount[layer]--;
    }

    @Override
    public void append() {
        if (length >= capacity) {
            throw new IllegalStateException("length: " + length + " (expected: < capacity " + capacity + ")");
        }
        for (int l = 0; l < live.length; l++) {
            live[l][length] = true;
            liveCount[l]++;
        }
        length++;
    }

    @Override
    public void write(int layer, int position, float[] k, float[] v) {
        int kvDim = c.kvDim();
        System.arraycopy(k, 0, keys[layer], position * kvDim, kvDim);
        System.arraycopy(v, 0, values[layer], position * kvDim, kvDim);
    }

    /** The keys of {@code layer}: KV head {@code h} of slot {@code s} at {@code (s * kvHeads + h) * headSize}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** The values of {@code layer}, laid out like {@link #keys(int)}. */
    public float[] values(int layer) {
        return values[layer];
    }

    /** The latest step's weights of {@code layer}: query head {@code h}, slot {@code s} at {@code h * capacity + s}. */
    public float[] weights(int layer) {
        return weights[layer];
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        attendUpTo(layer, q, 0, out, 0, length);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        for (int i = 0; i < count; i++) {
            attendUpTo(layer, q, i * c.dim(), out, i * c.dim(), start + i + 1);
        }
    }

    /** Attends one token's query over the tokens layer {@code layer} keeps among the first {@code tokens}. */
    private void attendUpTo(int layer, float[] q, int qOff, float[] out, int outOff, int tokens) {
        int hs = c.headSize();
        int kvDim = c.kvDim();
        int group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] w = weights[layer];
        boolean[] kept = live[layer];
        Arrays.fill(out, outOff, outOff + c.dim(), 0f);
        for (int h = 0; h < c.heads(); h++) {
            int kvOff = (h / group) * hs;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < tokens; t++) {
                if (!kept[t]) {
                    continue;
                }
                float dot = 0f;
                for (int i = 0; i < hs; i++) {
                    dot += q[qOff + h * hs + i] * keys[layer][t * kvDim + kvOff + i];
                }
                scores[t] = dot * scale;
                max = Math.max(max, scores[t]);
            }
            float sum = 0f;
            for (int t = 0; t < tokens; t++) {
                if (kept[t]) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
            }
            Arrays.fill(w, h * capacity, (h + 1) * capacity, 0f);
            for (int t = 0; t < tokens; t++) {
                float p = kept[t] ? scores[t] / sum : 0f;
                w[h * capacity + t] = p;
                if (p != 0f) {
                    for (int i = 0; i < hs; i++) {
                        out[outOff + h * hs + i] += p * values[layer][t * kvDim + kvOff + i];
                    }
                }
            }
        }
    }

    @Override
    public String statistics() {
        return "masked per-layer f32 cache: " + Arrays.toString(liveCount) + " live of " + length + " tokens";
    }

    @Override
    public void close() {
        // heap arrays: nothing to release
    }
}
