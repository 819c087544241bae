package io.pagedkv.eviction;

import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.SlotMoveListener;

/**
 * Applies an {@link EvictionPolicy}'s decisions to an {@link EvictingSequence}: the glue an engine
 * calls once per token.
 *
 * <p>{@link #append(int)} places the token (reusing a victim's slot first) and tells the policy;
 * {@link #evict()} asks the policy for victims and turns them into holes, and for a block-granular
 * policy ({@code quantum() > 1}) releases the blocks that became empty, with no copy; {@link
 * #compact()} (after the budget shrinks, e.g. at the end of a prefill) releases the all-hole blocks,
 * moves the tail into the remaining holes and frees the trailing blocks. Every slot renumbering is reported to the policy ({@code onMove}).
 * Nothing allocates per token except when the victim buffer first grows. Not thread-safe, like both
 * halves.
 */
public final class SequenceEvictor {

    private final EvictingSequence seq;
    private final EvictionPolicy policy;
    private final SlotMoveListener toPolicy;
    private int[] victims;
    private long blocksReleased;
    private long slotMoves;

    /**
     * Binds a fresh {@code policy} to {@code seq}; tokens the sequence already holds (a prefix-cache
     * hit) are shown to the policy as appended, in slot order.
     */
    public SequenceEvictor(EvictingSequence seq, EvictionPolicy policy) {
        if (seq == null || policy == null) {
            throw new IllegalArgumentException("seq, policy: " + seq + ", " + policy + " (expected: non-null)");
        }
        if (policy.liveTokens() != 0) {
            throw new IllegalArgumentException("policy live tokens: " + policy.liveTokens() + " (expected: 0, a fresh policy)");
        }
        this.seq = seq;
        this.policy = policy;
        for (int s = 0; s < seq.slots(); s++) {
            int p = seq.positionOf(s);
            if (p != EvictingSequence.HOLE) {
                policy.onAppend(s, p);
            }
        }
        this.toPolicy = policy::onMove;
        this.victims = new int[Math.max(16, policy.budget() + policy.quantum())];
    }

    /** The sequence. */
    public EvictingSequence sequence() {
        return seq;
    }

    /** The policy. */
    public EvictionPolicy policy() {
        return policy;
    }

    /** Places the token with original {@code position}; returns its slot (write its K/V there). */
    public int append(int position) {
        int slot = seq.append(position);
        policy.onAppend(slot, position);
        return slot;
    }

    /** Evicts what the policy picks; returns the number of tokens evicted. */
    public int evict() {
        int pending = policy.pendingEvictions();
        if (pending > victims.length) {
            victims = new int[Math.max(pending, victims.length * 2)];
        }
        int n = policy.evict(victims);
        for (int i = 0; i < n; i++) {
            seq.evict(victims[i]);
        }
        if (n > 0 && policy.quantum() > 1) {
            blocksReleased += seq.releaseEmptyBlocks(toPolicy);
        }
        return n;
    }

    /**
     * Compresses the holes: releases every block that holds only holes (no copy), then tail-fills the
     * rest; returns the slot moves (at most one per hole).
     */
    public int compact() {
        blocksReleased += seq.releaseEmptyBlocks(toPolicy);
        int moves = seq.compact(toPolicy);
        slotMoves += moves;
        return moves;
    }

    /** Blocks released whole by block-granular eviction so far. */
    public long blocksReleased() {
        return blocksReleased;
    }

    /** Slot moves made by compaction so far. */
    public long slotMoves() {
        return slotMoves;
    }
}
