package io.pagedkv.cache;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.agrona.collections.Int2IntHashMap;

/**
 * A sequence whose tokens can be evicted: it numbers the tokens it is given (positions 0, 1, 2, ...),
 * places each in a slot of the underlying {@link Sequence}, writes and reads K/V <i>by position</i>,
 * turns evicted slots into holes, and has three primitives that turn holes into memory.
 *
 * <ul>
 *   <li><b>Slot reuse</b>: {@link #append(int)} places the new token in a hole if there is one (in
 *       steady state, one token in and one out, the victim's slot), so no hole is left behind and
 *       nothing is copied.</li>
 *   <li><b>Block-granular release</b>: {@link #releaseEmptyBlocks} releases every full block whose
 *       slots are all holes, with no K/V copy: the block table is re-linked (later entries move down,
 *       their slots are renumbered by {@code -blockSize}, reported to the listener), so no entry ever
 *       names a freed block.</li>
 *   <li><b>Tail-fill compaction</b>: {@link #compact} moves the last live slots into the holes below
 *       the live count and frees the trailing blocks: at most one slot move (all layers and heads) per
 *       hole, never a shift of every survivor.</li>
 * </ul>
 *
 * <p><b>One write path.</b> Engines write K/V with {@link #write(int, int, float[], float[])} and
 * friends by <i>position</i>; the sequence maps the position to its slot and encodes through the
 * cache's codecs. The wrapped {@link Sequence} is owned from construction on and is not handed out:
 * a change made to it directly (an append, a close) is detected at the next call and refused with an
 * {@link IllegalStateException}. Memory order differs from position order after reuse and compaction:
 * {@link #positionOf(int)} gives a slot's position, {@link #slotOf(int)} a position's slot; attention
 * kernels walk {@link #blockId(int)} over {@link #slots()} slots and skip {@linkplain #isHole holes}.
 *
 * <p><b>Failure.</b> Every operation that takes blocks is all-or-nothing: {@link #append(int)} takes a
 * hole's block copy (copy-on-write, if the block is shared with a fork or the prefix cache) or the new
 * tail block before the token counts as placed, and {@link #compact} takes every copy-on-write block
 * it needs before it moves anything; when the pool is short they throw {@link
 * PoolExhaustedException} and the sequence is exactly as it was. Moves write through copy-on-write,
 * so a block shared with a fork or a prefix is copied before it changes; an eviction also stops the
 * sequence's known token ids at the evicted slot, so a later {@link #commitPrefix()} never indexes a
 * block whose content no longer matches its ids.
 *
 * <p>Not thread-safe: eviction runs on the engine's scheduler thread between decode steps, never while
 * other threads read or write this sequence.
 */
public final class EvictingSequence implements AutoCloseable {

    /** {@link #positionOf(int)} of a hole, and {@link #slotOf(int)} of a position not kept. */
    public static final int HOLE = -1;

    /** {@link #tryAppend(int)}'s answer when the pool is short. */
    public static final int NO_POSITION = -1;

    private final Sequence seq;
    private final int blockSize;
    private final int[] oneId = new int[1];
    private int[] positionOfSlot;
    private final Int2IntHashMap slotOfPosition;
    private int[] holes;
    private int holeCount;
    private int live;
    private int slots;
    private int nextPosition;
    private int[] blockScratch = new int[4];
    /** Blocks the last failed placement or compaction asked for (for its exception). */
    private int lastNeed;

    /**
     * Takes ownership of {@code seq}: an empty sequence, or a prefix-cache hit with nothing appended
     * after the reused tokens (these keep their slots as positions, {@code positionOf(s) == s}).
     *
     * @throws IllegalArgumentException if {@code seq} is null, closed, or holds tokens that are not a
     *     prefix hit (an {@code EvictingSequence} must see every token placed)
     */
    public EvictingSequence(Sequence seq) {
        if (seq == null || seq.isClosed()) {
            throw new IllegalArgumentException("seq: " + seq + " (expected: an open sequence)");
        }
        int len = seq.length();
        if (len != 0 && len != seq.reusedTokens()) {
            throw new IllegalArgumentException("seq: length " + len + ", reused " + seq.reusedTokens()
                    + " (expected: an empty sequence or a prefix hit with nothing appended, so every token is placed here)");
        }
        this.seq = seq;
        this.blockSize = seq.cache().layout().blockSize();
        this.positionOfSlot = new int[Math.max(16, len)];
        Arrays.fill(positionOfSlot, HOLE);
        this.slotOfPosition = new Int2IntHashMap(Math.max(16, 2 * len), 0.65f, HOLE);
        for (int s = 0; s < len; s++) {
            positionOfSlot[s] = s;
            slotOfPosition.put(s, s);
        }
        this.holes = new int[16];
        this.live = len;
        this.slots = len;
        this.nextPosition = len;
    }

    private EvictingSequence(Sequence seq, EvictingSequence parent) {
        this.seq = seq;
        this.blockSize = parent.blockSize;
        this.positionOfSlot = parent.positionOfSlot.clone();
        this.slotOfPosition = new Int2IntHashMap(parent.slotOfPosition);
        this.holes = parent.holes.clone();
        this.holeCount = parent.holeCount;
        this.live = parent.live;
        this.slots = parent.slots;
        this.nextPosition = parent.nextPosition;
    }

    // ---------------------------------------------------------------------------------------------
    // queries

    /** Kept tokens. */
    public int liveTokens() {
        return live;
    }

    /** Slots in use or holes: the length attention kernels walk. */
    public int slots() {
        return slots;
    }

    /** Holes waiting for reuse, release or compaction. */
    public int holes() {
        return holeCount;
    }

    /** Tokens placed so far (kept or evicted): the position the next token gets. */
    public int nextPosition() {
        return nextPosition;
    }

    /** Tokens reused from the prefix cache when the wrapped sequence was opened (positions 0 .. n-1). */
    public int reusedTokens() {
        return seq.reusedTokens();
    }

    /**
     * The original position of the token in {@code slot}, or {@link #HOLE}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= slot < slots()}
     */
    public int positionOf(int slot) {
        checkSlot(slot);
        return positionOfSlot[slot];
    }

    /** Whether {@code slot} is a hole (attention must skip it). */
    public boolean isHole(int slot) {
        checkSlot(slot);
        return positionOfSlot[slot] == HOLE;
    }

    /** The slot of the kept token at {@code position}, or {@link #HOLE} if it was evicted or never placed. */
    public int slotOf(int position) {
        return position < 0 ? HOLE : slotOfPosition.get(position);
    }

    /** Blocks in the block table: {@code ceil(slots() / blockSize)}. */
    public int blockCount() {
        return seq.blockCount();
    }

    /**
     * The block id at table index {@code index} (slots {@code index * blockSize ..}).
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #blockCount()}
     */
    public int blockId(int index) {
        return seq.blockId(index);
    }

    /** Copies the block table into {@code dst[0 .. blockCount())} and returns the count. */
    public int copyBlockTable(int[] dst) {
        return seq.copyBlockTable(dst);
    }

    /** The cache the sequence lives in (its layout, codecs and block memory). */
    public PagedKvCache cache() {
        return seq.cache();
    }

    /** The wrapped sequence's id (for logs and events). */
    public long id() {
        return seq.id();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return seq.isClosed();
    }

    // ---------------------------------------------------------------------------------------------
    // placing tokens

    /**
     * Places one token with id {@code tokenId} (a hole first, else a new slot at the tail) and returns
     * its position. The id is recorded for prefix caching while no token has been evicted.
     *
     * @throws PoolExhaustedException (nothing changed) if a block is needed and the pool is short
     */
    public int append(int tokenId) {
        int p = tryAppend(tokenId);
        if (p == NO_POSITION) {
            throw exhausted("append", 1);
        }
        return p;
    }

    /** Places one token like {@link #append(int)}; returns {@link #NO_POSITION}, changing nothing, if the pool is short. */
    public int tryAppend(int tokenId) {
        checkInSync();
        oneId[0] = tokenId;
        return place(oneId, 0, 1, true);
    }

    /**
     * Places {@code n} tokens with ids {@code tokenIds[off .. off + n)} like {@link #append(int)}, all
     * or none; returns the first one's position.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool is short
     * @throws IllegalArgumentException if {@code n <= 0} or the range is outside the array
     */
    public int appendTokens(int[] tokenIds, int off, int n) {
        if (tokenIds == null || off < 0 || n <= 0 || off > tokenIds.length - n) {
            throw new IllegalArgumentException("tokenIds range: off " + off + ", n " + n + " of length "
                    + (tokenIds == null ? "null" : tokenIds.length) + " (expected: n > 0 and 0 <= off <= length - n)");
        }
        checkInSync();
        int p = place(tokenIds, off, n, true);
        if (p == NO_POSITION) {
            throw exhausted("appendTokens", n);
        }
        return p;
    }

    /**
     * Places {@code n} tokens without ids (nothing for the prefix cache), all or none; returns the
     * first one's position.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool is short
     * @throws IllegalArgumentException if {@code n <= 0}
     */
    public int appendWithoutIds(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: > 0 tokens)");
        }
        checkInSync();
        int p = place(null, 0, n, false);
        if (p == NO_POSITION) {
            throw exhausted("appendWithoutIds", n);
        }
        return p;
    }

    /** Places n tokens: holes first (each hole's block made writable first), then the tail. */
    private int place(int[] ids, int off, int n, boolean withIds) {
        if (n > Integer.MAX_VALUE - nextPosition) {
            throw new IllegalArgumentException("n: " + n + " + positions placed " + nextPosition + " (expected: <= "
                    + Integer.MAX_VALUE + ")");
        }
        int fromHoles = Math.min(holeCount, n);
        int tail = n - fromHoles;
        int oldLength = slots;
        if (tail > 0) {
            boolean ok = withIds ? seq.tryAppendTokens(ids, off + fromHoles, tail) : seq.tryAppend(tail);
            if (!ok) {
                lastNeed = seq.blocksToAppend(tail);
                return NO_POSITION;
            }
        }
        if (fromHoles > 0) {
            int blocks = holeBlocks(fromHoles);
            if (!seq.makeWritable(blockScratch, blocks)) {
                lastNeed = blocks;
                if (tail > 0) {
                    seq.truncate(oldLength); // undo the tail: its blocks were fresh, so back they go
                }
                return NO_POSITION;
            }
        }
        // Nothing can fail from here on: the token(s) now count as placed.
        int first = nextPosition;
        for (int i = 0; i < fromHoles; i++) {
            mark(holes[--holeCount], nextPosition++);
        }
        if (tail > 0) {
            int newLength = oldLength + tail;
            if (newLength > positionOfSlot.length) {
                int grown = Math.max(newLength, positionOfSlot.length * 2);
                int old = positionOfSlot.length;
                positionOfSlot = Arrays.copyOf(positionOfSlot, grown);
                Arrays.fill(positionOfSlot, old, grown, HOLE);
            }
            slots = newLength;
            for (int s = oldLength; s < newLength; s++) {
                mark(s, nextPosition++);
            }
        }
        return first;
    }

    /** Writes the distinct block indices of the top {@code count} holes into blockScratch; returns how many. */
    private int holeBlocks(int count) {
        if (blockScratch.length < count) {
            blockScratch = new int[Math.max(count, blockScratch.length * 2)];
        }
        int n = 0;
        for (int i = 0; i < count; i++) {
            int b = holes[holeCount - 1 - i] / blockSize;
            boolean seen = false;
            for (int j = 0; j < n && !seen; j++) {
                seen = blockScratch[j] == b;
            }
            if (!seen) {
                blockScratch[n++] = b;
            }
        }
        return n;
    }

    private void mark(int slot, int position) {
        positionOfSlot[slot] = position;
        slotOfPosition.put(position, slot);
        live++;
    }

    // ---------------------------------------------------------------------------------------------
    // eviction primitives

    /**
     * Evicts the token in {@code slot}: the slot becomes a hole (its bytes stay until reused,
     * released or compacted away).
     *
     * @throws IllegalArgumentException if the slot is out of range or already a hole
     */
    public void evict(int slot) {
        checkInSync();
        if (slot < 0 || slot >= slots || positionOfSlot[slot] == HOLE) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: a live slot below " + slots + ")");
        }
        seq.forgetTokenIds(slot);
        slotOfPosition.remove(positionOfSlot[slot]);
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
     * Takes no block, so it cannot fail for want of memory.
     */
    public int releaseEmptyBlocks(SlotMoveListener listener) {
        checkInSync();
        int bs = blockSize;
        int end = slots;
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
                    slotOfPosition.put(p, s - shift);
                    listener.moved(s, s - shift);
                }
            }
        }
        Arrays.fill(positionOfSlot, end - shift, end, HOLE);
        slots = end - shift;
        rebuildHoles();
        return released;
    }

    /**
     * Tail-fill compaction: moves each live slot at or above the live count into a hole below it
     * (reporting each move), then drops the tail and its blocks; returns the number of slot moves.
     * Every copy-on-write block the moves need is taken first, in one allocation.
     *
     * @throws PoolExhaustedException (nothing changed) if those blocks are not available
     */
    public int compact(SlotMoveListener listener) {
        checkInSync();
        int end = slots;
        // Plan: the targets are the holes below `live`, in increasing order; collect their blocks.
        int targets = 0;
        int distinct = 0;
        int lastBlock = -1;
        for (int s = 0; s < live; s++) {
            if (positionOfSlot[s] == HOLE) {
                targets++;
                int b = s / blockSize;
                if (b != lastBlock) {
                    if (blockScratch.length == distinct) {
                        blockScratch = Arrays.copyOf(blockScratch, distinct * 2);
                    }
                    blockScratch[distinct++] = b;
                    lastBlock = b;
                }
            }
        }
        if (targets > 0 && !seq.makeWritable(blockScratch, distinct)) {
            lastNeed = distinct;
            throw exhausted("compact (copy-on-write of the blocks its " + targets + " moves write into)", 0);
        }
        // No move can fail from here on: every target block is exclusive.
        int hole = 0;
        int moves = 0;
        for (int from = end - 1; from >= live; from--) {
            int p = positionOfSlot[from];
            if (p == HOLE) {
                continue;
            }
            while (positionOfSlot[hole] != HOLE) {
                hole++;
            }
            seq.copySlot(from, hole);
            positionOfSlot[hole] = p;
            positionOfSlot[from] = HOLE;
            slotOfPosition.put(p, hole);
            listener.moved(from, hole);
            moves++;
        }
        seq.truncate(live);
        Arrays.fill(positionOfSlot, live, end, HOLE);
        slots = live;
        holeCount = 0;
        return moves;
    }

    // ---------------------------------------------------------------------------------------------
    // K/V by position

    /**
     * Writes K and V of all KV heads of the token at {@code position} in {@code layer}:
     * {@code keys} and {@code values} hold exactly {@code kvHeads * headDim} floats, head-major.
     *
     * @throws IllegalArgumentException if the position is not kept (evicted or never placed), or as
     *     {@link Sequence#write(int, int, float[], float[])}
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        seq.write(layer, slotFor(position), keys, values);
    }

    /** Writes K and V of all KV heads of one token from segments of little-endian binary32; see the array variant. */
    public void write(int layer, int position, MemorySegment keys, MemorySegment values) {
        seq.write(layer, slotFor(position), keys, values);
    }

    /**
     * Writes K and V of all KV heads of the token at {@code position} from an engine's packed buffers:
     * {@code keys[keysOff .. keysOff + kvHeads * headDim)} and the same for values, head-major. Every
     * head is checked encodable before the first is written, so a rejected value changes nothing.
     *
     * @throws IllegalArgumentException if a range is outside its array, the position is not kept, or
     *     the dtype rejects a value
     */
    public void write(int layer, int position, float[] keys, int keysOff, float[] values, int valuesOff) {
        int slot = slotFor(position);
        CacheLayout layout = seq.cache().layout();
        int kvHeads = layout.shape().kvHeads();
        int headDim = layout.shape().headDim();
        int width = kvHeads * headDim;
        checkRange("keys", keys, keysOff, width);
        checkRange("values", values, valuesOff, width);
        if (layer < 0 || layer >= layout.shape().layers()) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layout.shape().layers() + ")");
        }
        seq.write(layer, slot, keys, keysOff, values, valuesOff); // checks every head first, then advances the mark
    }

    /**
     * Writes K and V of all KV heads of one token from packed segments: {@code kvHeads * headDim}
     * little-endian binary32 values at byte {@code keysOffset} of {@code keys}, and the same for values.
     */
    public void write(int layer, int position, MemorySegment keys, long keysOffset, MemorySegment values, long valuesOffset) {
        int slot = slotFor(position);
        CacheLayout layout = seq.cache().layout();
        int kvHeads = layout.shape().kvHeads();
        long headBytes = (long) layout.shape().headDim() * Float.BYTES;
        checkRange("keys", keys, keysOffset, kvHeads * headBytes);
        checkRange("values", values, valuesOffset, kvHeads * headBytes);
        seq.write(layer, slot, keys, keysOffset, values, valuesOffset);
    }

    private static void checkRange(String what, float[] a, int off, int n) {
        if (a == null || off < 0 || off > a.length - n) {
            throw new IllegalArgumentException(what + " range: off " + off + ", " + n + " floats of length "
                    + (a == null ? "null" : a.length) + " (expected: 0 <= off <= length - kvHeads * headDim)");
        }
    }

    private static void checkRange(String what, MemorySegment s, long off, long bytes) {
        if (s == null || off < 0 || off > s.byteSize() - bytes) {
            throw new IllegalArgumentException(what + " range: offset " + off + ", " + bytes + " bytes of "
                    + (s == null ? "null" : s.byteSize()) + " (expected: 0 <= offset <= byteSize - kvHeads * headDim * 4)");
        }
    }

    /** Writes the key of KV head {@code head} of the token at {@code position} from {@code src[off .. off + headDim)}. */
    public void writeKey(int layer, int head, int position, float[] src, int off) {
        seq.writeKey(layer, head, slotFor(position), src, off);
    }

    /** Writes the value of one KV head of one token from {@code src[off .. off + headDim)}. */
    public void writeValue(int layer, int head, int position, float[] src, int off) {
        seq.writeValue(layer, head, slotFor(position), src, off);
    }

    /** Writes the key of one KV head of one token from binary32 values at byte {@code srcOffset} of {@code src}. */
    public void writeKey(int layer, int head, int position, MemorySegment src, long srcOffset) {
        seq.writeKey(layer, head, slotFor(position), src, srcOffset);
    }

    /** Writes the value of one KV head of one token from a segment; see the key variant. */
    public void writeValue(int layer, int head, int position, MemorySegment src, long srcOffset) {
        seq.writeValue(layer, head, slotFor(position), src, srcOffset);
    }

    /** Decodes the key of one KV head of the kept token at {@code position} into {@code dst[off .. off + headDim)}. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        seq.readKey(layer, head, slotFor(position), dst, off);
    }

    /** Decodes the value of one KV head of the kept token at {@code position} into {@code dst[off ..]}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        seq.readValue(layer, head, slotFor(position), dst, off);
    }

    private int slotFor(int position) {
        checkInSync();
        int slot = slotOf(position);
        if (slot == HOLE) {
            throw new IllegalArgumentException("position: " + position + " (expected: a kept position; "
                    + (position >= 0 && position < nextPosition ? "it was evicted" : "placed so far: 0 .. " + (nextPosition - 1))
                    + ")");
        }
        return slot;
    }

    // ---------------------------------------------------------------------------------------------
    // prefix, fork, close

    /**
     * Offers the full leading blocks whose token ids are known to the prefix cache (see {@link
     * Sequence#commitPrefix()}); after an eviction only the blocks before the first evicted slot
     * qualify. Call it once their K/V is written.
     *
     * @return the leading full blocks now in the prefix chain
     */
    public int commitPrefix() {
        checkInSync();
        return seq.commitPrefix();
    }

    /** A fork sharing every block (copy-on-write) with the same slots, positions and holes. */
    public EvictingSequence fork() {
        checkInSync();
        return new EvictingSequence(seq.fork(), this);
    }

    /** Closes the underlying sequence. */
    @Override
    public void close() {
        seq.close();
    }

    // ---------------------------------------------------------------------------------------------

    private void checkInSync() {
        if (seq.isClosed()) {
            throw new IllegalStateException("evicting sequence " + seq.id() + ": closed (expected: open)");
        }
        int len = seq.length();
        if (len != slots) {
            throw new IllegalStateException("sequence " + seq.id() + ": length " + len + " (expected: " + slots
                    + "; it was changed directly, not through its EvictingSequence)");
        }
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IndexOutOfBoundsException("slot: " + slot + " (expected: 0 <= slot < " + slots + ")");
        }
    }

    private PoolExhaustedException exhausted(String op, int tokens) {
        PagedKvCache cache = seq.cache();
        return new PoolExhaustedException("evicting sequence " + seq.id() + " " + op + (tokens > 0 ? "(" + tokens + ")" : ""),
                lastNeed, cache.availableBlocks(), cache.stats().totalBlocks());
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
        for (int s = slots - 1; s >= 0; s--) {
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
        return "EvictingSequence[id=" + seq.id() + ", slots=" + slots + ", live=" + live + ", holes=" + holeCount + "]";
    }
}
