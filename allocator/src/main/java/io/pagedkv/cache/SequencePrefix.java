package io.pagedkv.cache;

import java.util.Arrays;

/**
 * The prefix-caching state of one {@link Sequence}: the token ids of its leading positions, the
 * {@link PrefixKeys} that name its blocks with them, the chained hashes of its full blocks
 * ({@link BlockHashes}), and the chain of prefix entries its leading full blocks are indexed under.
 *
 * <p>Hashes are computed where tokens arrive, never under the prefix index's lock: a prompt's at open
 * (before the lookup, which only reads them), an appended block's when its last token's id is
 * recorded ({@link #record}, one hash per block, only while prefix caching is on; a commit hashes
 * what is still missing, under this sequence's lock). Invariant: {@code hashes[i]} for
 * {@code i < hashedBlocks} is the chained hash of {@code tokenIds[0 .. (i + 1) * blockSize)}; ids
 * past {@code knownTokens} are the prompt's, kept so that a prefill that appends the same ids keeps
 * their hashes (a recorded id that differs drops the hashes from its block on).
 *
 * <p>Guarded by the sequence's structure lock held exclusively; {@link #stopChainAt(int)} (a
 * copy-on-write inside a write) also runs under the shared structure lock plus the sequence's
 * copy-on-write lock, which excludes every exclusive user.
 */
final class SequencePrefix {

    private static final int[] NO_TOKENS = new int[0];
    private static final long[] NO_HASHES = new long[0];

    private final PrefixHasher hasher;
    private final int blockSize;

    /** Token ids of positions {@code [0, knownTokens)}. */
    private int[] tokenIds = NO_TOKENS;
    private int knownTokens;
    /** Chained hashes of blocks {@code [0, hashedBlocks)} of {@code tokenIds} (see the invariant above). */
    private long[] hashes = NO_HASHES;
    private int hashedBlocks;
    private PrefixKeys keys = PrefixKeys.NONE;
    /** Prefix entries of the leading full blocks {@code [0, chainLength)}. */
    private PrefixEntry[] chain;
    private int chainLength;
    /**
     * Lowest chain index whose entry names a block this sequence does not hold: at commit, a block
     * whose prefix and tokens were already indexed under another block adopts that entry. Such an
     * entry may be reclaimed later (its block unreferenced in the LRU), which would end the chain for
     * good; the next commit checks the adopted entries from here on and re-indexes this sequence's own
     * blocks past a dead one. {@code chainLength} or more when there is none.
     */
    private int adoptedFrom;
    private int reusedTokens;

    SequencePrefix(PrefixHasher hasher, int blockSize) {
        this.hasher = hasher;
        this.blockSize = blockSize;
    }

    /** A copy for a fork. */
    SequencePrefix copy() {
        SequencePrefix c = new SequencePrefix(hasher, blockSize);
        c.tokenIds = tokenIds.clone();
        c.knownTokens = knownTokens;
        c.hashes = hashes.clone();
        c.hashedBlocks = hashedBlocks;
        c.keys = keys;
        c.chain = chain == null ? null : chain.clone();
        c.chainLength = chainLength;
        c.adoptedFrom = adoptedFrom;
        return c;
    }

    /**
     * Starts from a prefix hit of {@code n} blocks (their entries in {@code hit}) for {@code prompt}, whose
     * full blocks' hashes the lookup used ({@code promptHashes}, kept: a prefill of the same ids does
     * not hash them again).
     */
    void start(int[] prompt, PrefixKeys keys, long[] promptHashes, PrefixEntry[] hit, int n) {
        int tokens = n * blockSize;
        this.keys = keys;
        this.chain = hit;
        this.chainLength = n;
        this.adoptedFrom = n; // hit blocks are the sequence's own
        this.hashes = promptHashes;
        this.hashedBlocks = promptHashes.length;
        this.tokenIds = Arrays.copyOf(prompt, Math.max(promptHashes.length * blockSize, Math.max(tokens, 16)));
        this.knownTokens = tokens;
        this.reusedTokens = tokens;
    }

    /** Tokens reused from the prefix cache at open. */
    int reusedTokens() {
        return reusedTokens;
    }

    /** Token ids known for {@code [0, knownTokens())}. */
    int knownTokens() {
        return knownTokens;
    }

    /**
     * Records the ids of {@code n} tokens appended at {@code oldLength}, if the ids so far are complete,
     * and, if {@code hashing} (prefix caching is on), hashes the blocks they fill.
     */
    void record(int oldLength, int[] tokens, int off, int n, boolean hashing) {
        if (knownTokens != oldLength) {
            return;
        }
        int hashedTokens = hashedBlocks * blockSize;
        if (hashedTokens > oldLength) { // ids kept from the prompt: their hashes hold while the ids agree
            int end = Math.min(hashedTokens, oldLength + n);
            int m = Arrays.mismatch(tokenIds, oldLength, end, tokens, off, off + end - oldLength);
            if (m >= 0) {
                hashedBlocks = (oldLength + m) / blockSize;
            }
        }
        if (tokenIds.length < oldLength + n) {
            tokenIds = Arrays.copyOf(tokenIds, Math.max(oldLength + n, tokenIds.length * 2));
        }
        System.arraycopy(tokens, off, tokenIds, oldLength, n);
        knownTokens = oldLength + n;
        if (hashing) {
            hashUpTo(knownTokens / blockSize);
        }
    }

    /** Hashes blocks {@code [hashedBlocks, blocks)} (their ids known). */
    private void hashUpTo(int blocks) {
        if (blocks <= hashedBlocks) {
            return;
        }
        if (hashes.length < blocks) {
            hashes = Arrays.copyOf(hashes, Math.max(blocks, Math.max(4, hashes.length * 2)));
        }
        BlockHashes.extend(hasher, hashes, hashedBlocks, blocks, tokenIds, keys, blockSize);
        hashedBlocks = blocks;
    }

    /**
     * The content of position {@code slot} (and later ones) changed: stop the ids and the chain before
     * it, so no later commit indexes a block that is not a prefix of the prompt.
     */
    void forgetFrom(int slot) {
        if (knownTokens > slot) {
            knownTokens = slot;
        }
        if (hashedBlocks > slot / blockSize) {
            hashedBlocks = slot / blockSize;
        }
        stopChainAt(slot / blockSize);
    }

    /** Block {@code index} is no longer the indexed block (copy-on-write): the chain stops before it. */
    void stopChainAt(int index) {
        if (chainLength > index) {
            chainLength = index;
        }
    }

    /**
     * Indexes the full blocks that are written and whose ids are known.
     *
     * @param written tokens written in every layer
     * @return the chain length
     */
    int commit(PrefixCache prefix, int[] table, int length, int written) {
        int full = Math.min(Math.min(knownTokens, length), written) / blockSize;
        int from = Math.min(adoptedFrom, chainLength);
        if (full <= chainLength && from == chainLength) {
            return chainLength;
        }
        if (chain == null || chain.length < full) {
            chain = chain == null ? new PrefixEntry[Math.max(full, 4)] : Arrays.copyOf(chain, Math.max(full, chain.length * 2));
        }
        hashUpTo(full); // blocks recorded while prefix caching was off; usually none
        chainLength = prefix.commit(table, tokenIds, keys, hashes, chain, chainLength, full, from);
        adoptedFrom = chainLength;
        for (int i = from; i < chainLength; i++) {
            if (chain[i].blockId != table[i]) {
                adoptedFrom = i;
                break;
            }
        }
        return chainLength;
    }

    /** Offers the chain's blocks to the prefix cache's offload hook. @return blocks offered */
    int offload(PrefixCache prefix) {
        return chain == null ? 0 : prefix.offloadChain(chain, chainLength);
    }
}
