package io.pagedkv.cache;

import java.util.Arrays;

/**
 * A {@link Sequence} whose tokens can be evicted: each slot remembers its token's original position
 * id, evicted slots become holes, and three primitives turn holes into memory.
 *
 * <ul>
 *   <li><b>Slot reuse</b>: {@link #append(int)} writes the new token into a hole if there is one (in
 *       steady state, one token in and one out, the victim's slot), so no hole is ever left behind
 *       and nothing is copied.</li>
 *   <li><b>Block-granular release</b>: {@link #releaseEmptyBlocks} releases every full block whose
 *       slots are all holes, with no K/V copy: the block table is re-linked (later entries move down,
 *       their slots are renumbered by {@code -blockSize}, reported to the listener), so no entry ever
 *       names a freed block.</li>
 *   <li><b>Tail-fill compaction</b>: {@link #compact} moves the last live slots into the holes below
 *       the live count and frees the trailing blocks: at most one slot move (all layers and heads) per
 *       hole, never a shift of every survivor.</li>
 * </ul>
 * Moves write through copy-on-write, so a block shared with a fork or a prefix is copied before it
 * changes; an eviction also stops the sequence's token ids at the evicted slot, so a later
 * {@code commitPrefix} never indexes a block whose content no longer matches its ids. Memory order then differs from position order: {@link #positionOf(int)} gives a slot's
 * original position; K/V of slot s is read with the sequence's {@code readKey(layer, head, s, ...)}.
 *
 * <p>Not thread-safe: eviction runs on the engine's scheduler thread between decode steps, never
 * while other threads read or write this sequence.
 */
public final class EvictingSequence implements AutoCloseable {

    /** {@link #positionOf(int)} of a hole. */
    public static final int HOLE = -1;

    private final Sequence seq;
    private int[] positionOfSlot;
    private int[] holes;
    private int holeCount;
    private int live;

    /**
     * Wraps an open sequence; tokens it already holds (e.g. a prefix-cache hit) keep their slots as
     * positions ({@code positionOf(s) == s}).
     */
    public EvictingSequence(Sequence seq) {
        if (seq == null || seq.isClosed()) {
            throw new IllegalArgumentException("seq: " + seq + " (expected: an open sequence)");
        }
        this.seq = seq;
        int len = seq.length();
        this.positionOfSlot = new int[Math.max(16, len)];
        for (int s = 0; s < len; s++) {
            positionOfSlot[s] = s;
        }
        this.holes = new int[16];
        this.live = len;
    }

    private EvictingSequence(Sequence seq, int[] positionOfSlot, int[] holes, int holeCount, int live) {
        this.seq = seq;
        this.positionOfSlot = positionOfSlot;
        this.holes = holes;
        this.holeCount = holeCount;
        this.live = live;
    }

    /** The underlying sequence: write and read K/V by slot, walk the block table. */
    public Sequence sequence() {
        return seq;
    }

    /** Kept tokens. */
    public int liveTokens() {
        return live;
    }

    /** Slots in use or holes: the underlying sequence's length. */
    public int slots() {
        return seq.length();
    }

    /** Holes waiting for reuse, release or compaction. */
    public int holes() {
        return holeCount;
    }

    /** The original position of the token in {@code slot}, or {@link #HOLE}. */
    public int positionOf(int slot) {
        if (slot < 0 || slot >= seq.length()) {
            throw new IndexOutOfBoundsException("slot: " + slot + " (expected: 0 <= slot < " + seq.length() + ")");
        }
        return positionOfSlot[slot];
    }

    /**
     * Places the token with original {@code position} in a hole if there is one, else in a new slot at
     * the tail (allocating a block if needed); returns the slot to write its K/V into.
     *
     * @throws PoolExhaustedException (nothing changed) if a new block is needed and the pool is empty
     */
    public int append(int position) {
        if (position < 0) {
            throw new IllegalArgumentException("position: " + position + " (expected: >= 0)");
        }
        int slot;
        if (holeCount > 0) {
            slot = holes[--holeCount];
        } else {
            seq.append(1);
            slot = seq.length() - 1;
            if (slot >= positionOfSlot.length) {
                positionOfSlot = Arrays.copyOf(positionOfSlot, Math.max(slot + 1, positionOfSlot.length * 2));
            }
        }
        positionOfSlot[slot] = position;
        live++;
        return slot;
    }

    /**
     * Evicts the token in {@code slot}: the slot becomes a hole (its bytes stay until reused,
     * released or compacted away).
     *
     * @throws IllegalArgumentException if the slot is out of range or already a hole
     */
    public void evict(int slot) {
        if (slot < 0 || slot >= seq.length() || positionOfSlot[slot] == HOLE) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: a live slot below " + seq.length() + ")");
        }
        seq.forgetTokenIds(slot);
        positionOfSlot[slot] = HOLE;
        if (holeCount == holes.length) {
            holes = Arrays.copyOf(holes, holes.length * 2);
        }
        holes[holeCount++] = slot;
        live--;
    }

    /**
     * Releases every full block whose slots are all holes, re-linking the block table; reports the
     * renumbered live slots to {@code listener} in increasing slot order; returns the blocks released.
     */
    public int releaseEmptyBlocks(SlotMoveListener listener) {
        int bs = seq.cache().layout().blockSize();
        int end = seq.length();
        int fullBlocks = end / bs;
        int released = 0;
        // Unlink from the highest index down so lower indices stay valid; the table shifts ints only.
        for (int index = fullBlocks - 1; index >= 0; index--) {
            if (allHoles(index * bs, bs)) {
                seq.unlinkBlock(index);
                released++;
            }
        }
        if (released == 0) {
            return 0;
        }
        // One pass renumbers the slots: a slot moves down by bs per released block before it. In
        // increasing order every target is a released slot or one vacated by an earlier move.
        int shift = 0;
        for (int start = 0; start < end; start += bs) {
            boolean gone = start + bs <= end && allHoles(start, bs);
            if (gone) {
                shift += bs;
                continue;
            }
            int stop = Math.min(end, start + bs);
            for (int s = start; s < stop; s++) {
                int p = positionOfSlot[s];
                positionOfSlot[s - shift] = p;
                if (p != HOLE && shift > 0) {
                    listener.moved(s, s - shift);
                }
            }
        }
        Arrays.fill(positionOfSlot, end - shift, end, HOLE);
        rebuildHoles();
        return released;
    }

    /**
     * Tail-fill compaction: moves each live slot at or above the live count into a hole below it
     * (reporting each move), then drops the tail and its blocks; returns the number of slot moves.
     */
    public int compact(SlotMoveListener listener) {
        int end = seq.length();
        int hole = 0;
        int moves = 0;
        for (int from = end - 1; from >= live; from--) {
            if (positionOfSlot[from] == HOLE) {
                continue;
            }
            while (positionOfSlot[hole] != HOLE) {
                hole++;
            }
            seq.copySlot(from, hole);
            positionOfSlot[hole] = positionOfSlot[from];
            positionOfSlot[from] = HOLE;
            listener.moved(from, hole);
            moves++;
        }
        seq.truncate(live);
        holeCount = 0;
        return moves;
    }

    /** A fork sharing every block (copy-on-write) with the same slots, positions and holes. */
    public EvictingSequence fork() {
        return new EvictingSequence(seq.fork(), positionOfSlot.clone(), holes.clone(), holeCount, live);
    }

    /** Closes the underlying sequence. */
    @Override
    public void close() {
        seq.close();
    }

    private boolean allHoles(int from, int count) {
        for (int s = from; s < from + count; s++) {
            if (positionOfSlot[s] != HOLE) {
                return false;
            }
        }
        return true;
    }

    private void rebuildHoles() {
        holeCount = 0;
        int end = seq.length();
        for (int s = end - 1; s >= 0; s--) {
            if (positionOfSlot[s] == HOLE) {
                if (holeCount == holes.length) {
                    holes = Arrays.copyOf(holes, holes.length * 2);
                }
                holes[holeCount++] = s;
            }
        }
    }

    @Override
    public String toString() {
        return "EvictingSequence[" + seq + ", live=" + live + ", holes=" + holeCount + "]";
    }
}
