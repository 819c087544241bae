package io.pagedkv.examples.llama;

import io.pagedkv.attention.ContiguousAttention;

/**
 * The plain baseline: per layer one float array of {@code capacity x kvDim} keys and one of values,
 * reserved up front, with textbook attention ({@link ContiguousAttention}). It is the oracle the
 * paged store is compared with. Not thread-safe.
 */
public final class ContiguousKvStore implements KvStore {

    private final LlamaConfig config;
    private final int capacity;
    private final float[][] keys;
    private final float[][] values;
    private final float[] scores;
    private int length;

    /** A store for {@code capacity} tokens of a model shaped like {@code config}. */
    public ContiguousKvStore(LlamaConfig config, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.config = config;
        this.capacity = capacity;
        this.keys = new float[config.layers()][capacity * config.kvDim()];
        this.values = new float[config.layers()][capacity * config.kvDim()];
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

    /** Forgets every token (the arrays are kept), so that one store serves many short runs. */
    public void clear() {
        length = 0;
    }

    @Override
    public void append() {
        if (length >= capacity) {
            throw new IllegalStateException("length: " + length + " (expected: < capacity " + capacity + ")");
        }
        length++;
    }

    @Override
    public void write(int layer, int position, float[] k, float[] v) {
        if (position < 0 || position >= length) {
            throw new IndexOutOfBoundsException("position: " + position + " (expected: 0 <= position < " + length + ")");
        }
        int kvDim = config.kvDim();
        System.arraycopy(k, 0, keys[layer], position * kvDim, kvDim);
        System.arraycopy(v, 0, values[layer], position * kvDim, kvDim);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        ContiguousAttention.decode(config.heads(), config.kvHeads(), config.headSize(), q, 0, keys[layer],
                values[layer], length, out, 0, scores, null);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        int dim = config.dim();
        for (int i = 0; i < count; i++) {
            ContiguousAttention.decode(config.heads(), config.kvHeads(), config.headSize(), q, i * dim, keys[layer],
                    values[layer], start + i + 1, out, i * dim, scores, null);
        }
    }

    @Override
    public String statistics() {
        long bytes = 2L * config.layers() * capacity * config.kvDim() * Float.BYTES;
        return "contiguous f32 cache: " + length + " tokens in " + capacity + " reserved slots, " + bytes + " bytes";
    }

    @Override
    public void close() {
        // heap arrays: nothing to release
    }
}
