package io.pagedkv.examples.llama;

/**
 * Where a decoder keeps the keys and values of the tokens it has seen, and the attention over them.
 *
 * <p>A decode step calls {@link #append()} once to reserve the next position, then for every layer
 * {@link #write} the new token's keys and values and {@link #attend} the layer's query over all
 * {@link #length()} tokens. Implementations allocate nothing per token. Not thread-safe: one
 * decoding thread owns a store.
 */
public interface KvStore extends AutoCloseable {

    /** Tokens stored so far. */
    int length();

    /**
     * The RoPE position the kept token at stream {@code position} is rotated at, asked by the decoder
     * right after {@link #append()} placed it: {@code position} itself unless the store places
     * positions otherwise (StreamingLLM's positions inside the cache, {@link RotaryMode#CACHE}).
     */
    default int ropePosition(int position) {
        return position;
    }

    /** Most tokens this store can hold. */
    int capacity();

    /**
     * Reserves the slot of position {@link #length()}; the length grows by one.
     *
     * @throws IllegalStateException when the store is full, naming the length and the capacity
     */
    void append();

    /**
     * Reserves the slots of the {@code n} positions {@link #length()} .. {@code length() + n - 1} of a
     * prompt chunk; the length grows by {@code n}. A store that evicts makes room for all of them at
     * once before placing any, so that the tokens of a chunk never evict each other. The default
     * appends them one by one.
     *
     * @throws IllegalArgumentException if {@code n <= 0} or {@code n > maxChunk()}
     * @throws IllegalStateException when the store cannot hold them, naming the length and the capacity
     */
    default void append(int n) {
        if (n <= 0 || n > maxChunk()) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 <= n <= maxChunk " + maxChunk() + ")");
        }
        if (n > capacity() - length()) {
            throw new IllegalStateException("length: " + length() + " + " + n + " (expected: <= capacity " + capacity() + ")");
        }
        for (int i = 0; i < n; i++) {
            append();
        }
    }

    /**
     * The most tokens one prompt chunk may have now ({@link #append(int)}, then {@link #attendChunk}):
     * a store under an eviction budget limits it to what one eviction can make room for, so a longer
     * prompt is prefilled in several chunks with evictions between them. Unlimited by default.
     */
    default int maxChunk() {
        return Integer.MAX_VALUE;
    }

    /** Stores the keys and values of all KV heads ({@code kvHeads * headSize} each) of one token in one layer. */
    void write(int layer, int position, float[] keys, float[] values);

    /**
     * Whether {@link #writeChunk} stores a chunk of tokens in one call (a bulk path); when not, a
     * decoder writes a chunk token by token with {@link #write}.
     */
    default boolean bulkWrites() {
        return false;
    }

    /**
     * Stores the keys and values of {@code count} consecutive tokens of {@code layer} at positions
     * {@code start ..}, token {@code i}'s at {@code keys[i * kvHeads * headSize ..]} (likewise values):
     * the same K/V as {@code count} calls of {@link #write}, in one call.
     *
     * @throws UnsupportedOperationException if {@link #bulkWrites()} is false
     */
    default void writeChunk(int layer, int start, int count, float[] keys, float[] values) {
        throw new UnsupportedOperationException("writeChunk: " + getClass().getSimpleName() + " has no bulk path"
                + " (expected: bulkWrites() true; write token by token)");
    }

    /** Attends {@code q} (all query heads) over the stored tokens of {@code layer}, into {@code out}. */
    void attend(int layer, float[] q, float[] out);

    /**
     * Attends the queries of {@code count} consecutive tokens at positions {@code start ..} (token
     * {@code i}'s query heads at {@code q[i * dim ..]}, output likewise) with a causal mask: the
     * token at position {@code p} sees the kept tokens at positions {@code 0..p}. Their keys and
     * values must be written.
     */
    void attendChunk(int layer, int start, int count, float[] q, float[] out);

    /** A one-line summary of the memory this store holds, for the end of a run. */
    String statistics();

    /** Releases the store's memory. */
    @Override
    void close();
}
