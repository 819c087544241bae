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
 * <p>Ids, hashes and the chain are kept by <em>model</em> position and model block. A sliding-window
 * group's sequence releases its leading blocks ({@link #releasedFront()}): {@code base} model positions
 * are gone from its block table, so table index {@code i} holds model block {@code i + base / blockSize},
 * and every position or index a caller passes (a length, a written mark, a slot, a table index) is the
 * sequence's own, {@code base} below the model's. Its later full blocks are still committed, each by its
 * chained hash ({@link PrefixCache#commitByHash}); a group whose entries chain by parent commits nothing
 * once it has released a block. {@code base} is 0 for every other sequence.
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
    /** Model positions released from the front of the sequence's table (a multiple of the block size). */
    private int base;

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
        c.base = base;
        return c;
    }

    /**
     * Starts from a prefix hit of {@code n} blocks (their entries in {@code hit}) for {@code prompt}, whose
     * full blocks' hashes the lookup used ({@code promptHashes}, kept: a prefill of the same ids does
     * not hash them again).
     */
    void start(int[] prompt, PrefixKeys keys, long[] promptHashes, PrefixEntry[] hit, int n) {
        start(prompt, keys, promptHashes, hit, 0, n);
    }

    /**
     * Starts from a hit of model blocks {@code [from, n)} (their entries in {@code hit} at those indices):
     * a sliding group's sequence opened from the blocks of its window alone, the first {@code from}
     * blocks never held.
     */
    void start(int[] prompt, PrefixKeys keys, long[] promptHashes, PrefixEntry[] hit, int from, int n) {
        int tokens = n * blockSize;
        this.base = from * blockSize;
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

    /** Tokens reused from the prefix cache at open, in model positions (the hit's length). */
    int reusedTokens() {
        return reusedTokens;
    }

    /** Token ids known for the sequence's positions {@code [0, knownTokens())}. */
    int knownTokens() {
        return Math.max(0, knownTokens - base);
    }

    /**
     * The sequence released its leading block as a sliding window does: the blocks after it keep their
     * model positions, ids, hashes and chain; only the table's offset moves.
     */
    void releasedFront() {
        base += blockSize;
    }

    /**
     * Records the ids of {@code n} tokens appended at {@code oldLength}, if the ids so far are complete,
     * and, if {@code hashing} (prefix caching is on), hashes the blocks they fill.
     */
    void record(int sequenceLength, int[] tokens, int off, int n, boolean hashing) {
        int oldLength = sequenceLength + base;
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
    void forgetFrom(int sequenceSlot) {
        int slot = sequenceSlot + base;
        if (knownTokens > slot) {
            knownTokens = slot;
        }
        if (hashedBlocks > slot / blockSize) {
            hashedBlocks = slot / blockSize;
        }
        if (chainLength > slot / blockSize) {
            chainLength = slot / blockSize;
        }
    }

    /** Block {@code index} is no longer the indexed block (copy-on-write): the chain stops before it. */
    void stopChainAt(int tableIndex) {
        int index = tableIndex + base / blockSize;
        if (chainLength > index) {
            chainLength = index;
        }
    }

    /**
     * Indexes the full blocks that are written and whose ids are known.
     *
     * @param length the sequence's length (table slots)
     * @param written the sequence's tokens written in every layer
     * @return the chain length, in model blocks
     */
    int commit(PrefixCache prefix, int[] table, int length, int written) {
        int full = Math.min(Math.min(knownTokens, length + base), written + base) / blockSize;
        int from = Math.min(adoptedFrom, chainLength);
        if (full <= chainLength && from == chainLength) {
            return chainLength;
        }
        boolean byHash = prefix.byHash(keys.group());
        if (base > 0 && !byHash) {
            return chainLength; // the chain walks from block 0, which this sequence no longer holds
        }
        if (chain == null || chain.length < full) {
            chain = chain == null ? new PrefixEntry[Math.max(full, 4)] : Arrays.copyOf(chain, Math.max(full, chain.length * 2));
        }
        hashUpTo(full); // blocks recorded while prefix caching was off; usually none
        int tableBase = base / blockSize;
        chainLength = byHash
                ? prefix.commitByHash(table, tableBase, tokenIds, keys, hashes, chain, chainLength, full, from)
                : prefix.commit(table, tokenIds, keys, hashes, chain, chainLength, full, from);
        adoptedFrom = chainLength;
        for (int i = Math.max(from, tableBase); i < chainLength; i++) {
            if (chain[i].blockId != table[i - tableBase]) {
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
