package io.pagedkv.examples.llama;

import io.pagedkv.eviction.RopeRerotation;
import io.pagedkv.eviction.RopeStyle;
import java.util.Arrays;

/**
 * A contiguous store in which tokens can be evicted: slot = position, an evicted slot is skipped by
 * attention exactly as if its keys and values had been freed, and the normalised attention weights
 * of the latest step are kept per layer (0 on evicted slots) for policies and quality metrics. With
 * {@link RotaryMode#ORIGINAL} keys stay rotated at their original positions; with {@link
 * RotaryMode#CACHE} (StreamingLLM) {@link #reposition()} re-rotates every kept key from the key as
 * written to its place among the kept tokens, and new tokens are rotated at their place. Used to
 * measure what an eviction policy costs in model quality. Not thread-safe.
 */
public final class MaskedKvStore implements KvStore {

    private final LlamaConfig c;
    private final int capacity;
    private final RotaryMode mode;
    private final float[][] written;
    private final int[] writtenAt;
    private final float[][] keys;
    private final float[][] values;
    private final float[][] weights;
    private final boolean[] live;
    private final float[] scores;
    private int length;
    private int liveCount;

    /** A store for {@code capacity} tokens with keys at their original positions. */
    public MaskedKvStore(LlamaConfig config, int capacity) {
        this(config, capacity, RotaryMode.ORIGINAL);
    }

    /** A store for {@code capacity} tokens of a model shaped like {@code config}, in rotary {@code mode}. */
    public MaskedKvStore(LlamaConfig config, int capacity, RotaryMode mode) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.c = config;
        this.capacity = capacity;
        this.mode = mode;
        this.keys = new float[config.layers()][capacity * config.kvDim()];
        this.written = mode == RotaryMode.CACHE ? new float[config.layers()][capacity * config.kvDim()] : keys;
        this.writtenAt = new int[capacity];
        this.values = new float[config.layers()][capacity * config.kvDim()];
        this.weights = new float[config.layers()][config.heads() * capacity];
        this.live = new boolean[capacity];
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

    /** Tokens not evicted. */
    public int liveTokens() {
        return liveCount;
    }

    /** Whether the token at {@code slot} is still attended to. */
    public boolean isLive(int slot) {
        return slot >= 0 && slot < length && live[slot];
    }

    /**
     * Drops the token at {@code slot} from all later attention.
     *
     * @throws IllegalArgumentException if the slot is not live
     */
    public void evict(int slot) {
        if (!isLive(slot)) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: live, 0 <= slot < " + length + ")");
        }
        live[slot] = false;
        liveCount--;
    }

    /** The position the next appended token is rotated at: its place among the kept tokens in {@link RotaryMode#CACHE}. */
    private int nextRopePosition() {
        return mode == RotaryMode.CACHE ? liveCount : length;
    }

    /**
     * The position the token at {@code position} was rotated at when it was written (its keys in
     * {@link RotaryMode#CACHE} may have been re-rotated since, by {@link #reposition()}).
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= position < length()}
     */
    @Override
    public int ropePosition(int position) {
        if (position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("position: " + position + " (expected: 0 <= position < " + length + ")");
        }
        return writtenAt[position];
    }

    /**
     * StreamingLLM's rule after an eviction batch: every kept key is re-rotated from the key as
     * written (never from an already re-rotated one) to its place among the kept tokens. A no-op
     * in {@link RotaryMode#ORIGINAL}.
     */
    public void reposition() {
        if (mode != RotaryMode.CACHE) {
            return;
        }
        int hs = c.headSize();
        int place = 0;
        for (int t = 0; t < length; t++) {
            if (!live[t]) {
                continue;
            }
            for (int l = 0; l < c.layers(); l++) {
                for (int h = 0; h < c.kvHeads(); h++) {
                    int off = (t * c.kvHeads() + h) * hs;
                    RopeRerotation.rerotate(written[l], off, hs, writtenAt[t], place, LlamaDecoder.ROPE_THETA,
                            RopeStyle.INTERLEAVED, keys[l], off);
                }
            }
            place++;
        }
    }

    @Override
    public void append() {
        if (length >= capacity) {
            throw new IllegalStateException("length: " + length + " (expected: < capacity " + capacity + ")");
        }
        writtenAt[length] = nextRopePosition();
        live[length++] = true;
        liveCount++;
    }

    @Override
    public void write(int layer, int position, float[] k, float[] v) {
        int kvDim = c.kvDim();
        System.arraycopy(k, 0, keys[layer], position * kvDim, kvDim);
        if (written != keys) {
            System.arraycopy(k, 0, written[layer], position * kvDim, kvDim);
        }
        System.arraycopy(v, 0, values[layer], position * kvDim, kvDim);
    }

    /** The keys of {@code layer}: the vector of KV head {@code h} of slot {@code s} at {@code (s * kvHeads + h) * headSize}. */
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

    /** Attends one token's query over the live tokens among the first {@code tokens}. */
    private void attendUpTo(int layer, float[] q, int qOff, float[] out, int outOff, int tokens) {
        int hs = c.headSize();
        int kvDim = c.kvDim();
        int group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] w = weights[layer];
        Arrays.fill(out, outOff, outOff + c.dim(), 0f);
        for (int h = 0; h < c.heads(); h++) {
            int kvOff = (h / group) * hs;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < tokens; t++) {
                if (!live[t]) {
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
                if (live[t]) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
            }
            for (int t = 0; t < tokens; t++) {
                float p = live[t] ? scores[t] / sum : 0f;
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
        return "masked f32 cache: " + liveCount + " live of " + length + " tokens";
    }

    @Override
    public void close() {
        // heap arrays: nothing to release
    }
}
