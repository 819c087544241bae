package io.pagedkv.cache;

/**
 * The chained prefix hashes of a token sequence's full blocks: {@code hashes[i]} names block
 * {@code i} ({@code tokens[i * blockSize .. (i + 1) * blockSize)}) after the blocks before it, as
 * {@link PrefixHasher#hash} chains them from {@link PrefixHasher#ROOT}, with the block's extra key
 * from {@link PrefixKeys#hashKey(int, int)}.
 *
 * <p>They are computed where the tokens arrive, outside the prefix index's lock: a prompt's once
 * before its lookup ({@link #ofPrompt}), a sequence's as its appended tokens fill blocks
 * ({@link SequencePrefix}), so that a lookup or a commit under the index's lock only reads one hash
 * per block and probes the table once per block. Stateless; thread-safe.
 */
final class BlockHashes {

    /** No hashes (shared, never written). */
    static final long[] NONE = new long[0];

    private BlockHashes() {
    }

    /**
     * The hashes of the full blocks of {@code tokens[0 .. maxTokens)}: {@code maxTokens / blockSize} of
     * them (a new array; an empty one when there is no full block).
     */
    static long[] ofPrompt(PrefixHasher hasher, int[] tokens, int maxTokens, PrefixKeys keys, int blockSize) {
        int blocks = maxTokens / blockSize;
        if (blocks == 0) {
            return NONE;
        }
        long[] hashes = new long[blocks];
        extend(hasher, hashes, 0, blocks, tokens, keys, blockSize);
        return hashes;
    }

    /**
     * Fills {@code hashes[from .. to)} from {@code hashes[from - 1]} (or {@link PrefixHasher#ROOT} for
     * block 0) and the blocks' tokens in {@code tokens}.
     */
    static void extend(PrefixHasher hasher, long[] hashes, int from, int to, int[] tokens, PrefixKeys keys,
            int blockSize) {
        long parent = from == 0 ? PrefixHasher.ROOT : hashes[from - 1];
        for (int b = from; b < to; b++) {
            parent = hasher.hash(parent, tokens, b * blockSize, blockSize, keys.hashKey(b, blockSize));
            hashes[b] = parent;
        }
    }
}
