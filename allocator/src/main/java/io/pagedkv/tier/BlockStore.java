package io.pagedkv.tier;

import java.lang.foreign.MemorySegment;

/**
 * A store of block values (the SPI of the tiers): the K/V bytes of one full block of the pool, named
 * by a {@link BlockKey} and framed by {@link BlockValueFormat} (header, token ids, CRC32C).
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #put} copies the payload; the caller may reuse its block as soon as put returns. A put
 *       of an existing key replaces the value.</li>
 *   <li>{@link #get} serves a value only if it passes every check of {@link BlockValueFormat}: the
 *       framing and checksum ({@link #REJECTED} and counted as corrupt otherwise; the value is dropped),
 *       the fingerprint, parent hash, hash, salt, token count, payload length and every token id equal
 *       the caller's ({@link #REJECTED} and counted as mismatched otherwise). So a stored value is never
 *       served for another block, layout or tenant, and a damaged one never at all.</li>
 *   <li>On a hit, {@code dst} holds exactly the payload that was put. On any other result the bytes
 *       of {@code dst} are unspecified (a tier may have read into it before a check failed); they are
 *       never a verified value. {@link BlockTransferQueue} gives the stronger "untouched" guarantee.</li>
 *   <li>Hot-path calls answer with codes, never exceptions, for what the store or its network can do
 *       wrong ({@link #UNAVAILABLE}: an I/O or network failure, counted); bad arguments (null, negative
 *       counts, a range outside {@code tokens}) throw {@link IllegalArgumentException} and change nothing.</li>
 *   <li>Stores emit {@link KvEvent}s to their listeners when a value is stored, removed (also evicted
 *       or dropped as corrupt) and when the store is cleared; listeners run on the calling thread.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * Implementations are thread-safe: workers of a {@link BlockTransferQueue} call them concurrently.
 *
 * <h2>Integration with the prefix cache</h2>
 * When the prefix cache reclaims an indexed block it offloads it: {@code put(key(entry.hash, salt),
 * entry.parent.hash, entry.tokens, 0, blockSize, pool.block(id))}; when a prefix match misses the pool
 * it asks for the following blocks in chain order: {@code get(key(h, salt), parentHash, prompt,
 * i * blockSize, blockSize, pool.block(fresh))}, stopping at the first non-hit. Both go through a
 * {@link BlockTransferQueue} so the scheduler thread never waits on a tier.
 */
public interface BlockStore extends AutoCloseable {

    /** {@link #get}: no value under this key. */
    int MISS = -1;
    /** {@link #get}: a value was found but failed a check (corrupt, or another block's): never served. */
    int REJECTED = -2;
    /** {@link #get}: the store could not answer (I/O error, network down, timeout). */
    int UNAVAILABLE = -3;

    /** The medium's name in events and stats ({@code "cpu"}, {@code "disk"}, {@code "redis"}, ...). */
    String medium();

    /**
     * Stores a block's bytes under {@code key}.
     *
     * @param key the block's key
     * @param parentHash the chained hash of the block before it ({@code PrefixHasher.ROOT} for the first)
     * @param tokens holds the block's token ids at {@code [from, from + count)}
     * @param payload the block's bytes (the pool block, or a copy of it)
     * @return true if stored; false if the store could not take it (too large for it, full of pinned
     *     values, unavailable), counted in {@link #stats()}
     * @throws IllegalArgumentException on a null argument or a token range outside {@code tokens}
     */
    boolean put(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment payload);

    /**
     * Restores a block's bytes into {@code dst} if a value under {@code key} passes every check.
     *
     * @param dst receives the payload; its size is the expected payload length
     * @return the number of bytes restored ({@code dst.byteSize()}) on a hit, else {@link #MISS},
     *     {@link #REJECTED} or {@link #UNAVAILABLE}
     * @throws IllegalArgumentException on a null argument, a token range outside {@code tokens}, or a
     *     read-only {@code dst}
     */
    int get(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst);

    /** Whether a value is stored under {@code key} (not verified; false when unavailable). */
    boolean contains(BlockKey key);

    /** Removes the value under {@code key}; true if there was one. */
    boolean remove(BlockKey key);

    /** Removes every value of this store. */
    void clear();

    /** A snapshot of the counters. */
    TierStats stats();

    /** Adds a listener for this store's events (called on the thread that caused the event). */
    void addListener(KvEventListener listener);

    /** Removes a listener added before; true if it was there. */
    boolean removeListener(KvEventListener listener);

    /** Releases the store's memory, files handles or connections; values in durable tiers stay. */
    @Override
    void close();

    /** Checks the arguments every store takes; throws {@link IllegalArgumentException} naming the bad one. */
    static void checkArgs(BlockKey key, int[] tokens, int from, int count, MemorySegment bytes, String bytesName) {
        if (key == null) {
            throw new IllegalArgumentException("key: null (expected: a BlockKey)");
        }
        if (tokens == null) {
            throw new IllegalArgumentException("tokens: null (expected: the block's token ids)");
        }
        if (from < 0 || count < 0 || from > tokens.length - count) {
            throw new IllegalArgumentException("tokens [" + from + ", " + from + " + " + count + "): outside [0, "
                    + tokens.length + ")");
        }
        if (bytes == null) {
            throw new IllegalArgumentException(bytesName + ": null (expected: a MemorySegment)");
        }
    }
}
