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
     * The position the next token's query and key are rotated at: its index in the sequence
     * ({@link #length()}) unless the store places positions otherwise (StreamingLLM's rule).
     */
    default int nextRopePosition() {
        return length();
    }

    /** Most tokens this store can hold. */
    int capacity();

    /**
     * Reserves the slot of position {@link #length()}; the length grows by one.
     *
     * @throws IllegalStateException when the store is full, naming the length and the capacity
     */
    void append();

    /** Stores the keys and values of all KV heads ({@code kvHeads * headSize} each) of one token in one layer. */
    void write(int layer, int position, float[] keys, float[] values);

    /** Attends {@code q} (all query heads) over the stored tokens of {@code layer}, into {@code out}. */
    void attend(int layer, float[] q, float[] out);

    /**
     * Attends the queries of {@code count} consecutive tokens at positions {@code start ..} (token
     * {@code i}'s query heads at {@code q[i * dim ..]}, output likewise) with a causal mask: the
     * token at position {@code p} sees tokens {@code 0..p}. Their keys and values must be written.
     */
    void attendChunk(int layer, int start, int count, float[] q, float[] out);

    /** A one-line summary of the memory this store holds, for the end of a run. */
    String statistics();

    /** Releases the store's memory. */
    @Override
    void close();
}
