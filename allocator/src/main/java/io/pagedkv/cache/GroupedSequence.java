package io.pagedkv.cache;

import java.lang.foreign.MemorySegment;

/**
 * One sequence of a {@link GroupedKvCache}: a {@link Sequence} per layer group over the shared pool,
 * appended together and addressed by <em>model</em> layer and model position.
 *
 * <h2>Appends are all or nothing across groups</h2>
 * {@link #tryAppend(int)} first counts what every group needs; if the shared pool cannot give all of
 * it, no group appends anything and the cache is exactly as it was. Only if another thread takes
 * blocks between the count and the allocation (or the pool refuses blocks it has, e.g. a chunk's
 * memory cannot be reserved) does a group fail after others succeeded; those are then cut back to
 * their old length, so no group has appended anything (a copy-on-write of a shared, partly filled
 * last block that such a group made stays: the same bytes in a private block).
 *
 * <h2>Sliding groups free the blocks outside their window</h2>
 * The query at position {@code p} of a sliding group with window {@code W} attends to positions
 * {@code p - W + 1 .. p}. So once the sequence has {@code L} tokens, no later query can see a
 * position below {@code L - W + 1}, and a block entirely below it is <em>outside the window</em>.
 * {@link #tryAppend(int)} releases such blocks (those outside the window of the first new token,
 * computed from the length before the append, so a chunk's earlier queries keep what they attend),
 * and {@link #releaseOutsideWindow()} releases those outside the window of the next token to come;
 * an engine calls it after a step's attention. After it, a sliding group holds at most
 * {@code ceil(W / blockSize) + 1} blocks ({@link LayerGroups#maxWindowBlocks}). A released block
 * leaves the group's block table (later entries move down), so group position
 * {@code p - firstPosition(g)} holds model position {@code p}; positions below
 * {@link #firstPosition(int)} throw on read and write. The release before an append is counted as
 * available room, so a full pool does not refuse a decode step that frees a block; when the append
 * needs that room and then fails anyway (another thread took blocks), the released blocks stay
 * released: no query could read them any more.
 *
 * <p>A global group keeps every block: its group positions are the model positions.
 *
 * <h2>Threading</h2>
 * Structural operations ({@code tryAppend}, {@code releaseOutsideWindow}, {@code fork},
 * {@code close}) belong to one scheduler thread; writes and reads of distinct slots may run on many
 * threads between them, as with {@link Sequence}.
 */
public final class GroupedSequence implements AutoCloseable {

    private final GroupedKvCache cache;
    private final LayerGroups groups;
    private final Sequence[] seqs;
    /** Per group: model positions released from the front (a multiple of the block size). */
    private final int[] first;
    private final int blockSize;
    private final int reused;
    private final int[] oldLength;
    private final int[] needs;
    private final int[] dead;

    GroupedSequence(GroupedKvCache cache, Sequence[] seqs, int[] first, int reused) {
        this.reused = reused;
        this.cache = cache;
        this.groups = cache.groups();
        this.seqs = seqs;
        this.first = first;
        this.blockSize = cache.groupLayout().blockSize();
        this.oldLength = new int[seqs.length];
        this.needs = new int[seqs.length];
        this.dead = new int[seqs.length];
    }

    // ---------------------------------------------------------------------------------------------
    // structure

    /**
     * Reserves {@code n} more token slots in every group (all groups or none), after releasing the
     * sliding groups' blocks outside the window of the first new token.
     *
     * @return {@code false} if the pool cannot give every group its blocks; then nothing is appended
     * @throws IllegalArgumentException if {@code n <= 0} or the length would overflow an int
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public boolean tryAppend(int n) {
        return append(null, 0, n);
    }

    /**
     * Appends {@code n} tokens with their ids {@code tokens[off .. off + n)} in every group (all or
     * none), so that their full blocks can be prefix-cached; see {@link #tryAppend(int)}.
     *
     * @throws IllegalArgumentException if {@code n <= 0} or the range is outside {@code tokens}
     */
    public boolean tryAppendTokens(int[] tokens, int off, int n) {
        if (tokens == null || off < 0 || n <= 0 || off > tokens.length - n) {
            throw new IllegalArgumentException("tokens range: off " + off + ", n " + n + " of length "
                    + (tokens == null ? "null" : tokens.length) + " (expected: n > 0 and 0 <= off <= length - n)");
        }
        return append(tokens, off, n);
    }

    /**
     * Appends like {@link #tryAppend(int)}.
     *
     * @throws PoolExhaustedException (nothing appended) if the pool is short
     */
    public void append(int n) {
        if (!tryAppend(n)) {
            throw new PoolExhaustedException("grouped sequence append(" + n + ")", blocksToAppend(n),
                    cache.freeBlocks(), cache.blockCount());
        }
    }

    /** Blocks {@code tryAppend(n)} would take from the pool now, over all groups (before any release). */
    public int blocksToAppend(int n) {
        int total = 0;
        for (Sequence s : seqs) {
            total += s.blocksToAppend(n);
        }
        return total;
    }

    private boolean append(int[] tokens, int off, int n) {
        checkOpen();
        int len = length();
        if (n <= 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: > 0 tokens)");
        }
        if (n > Integer.MAX_VALUE - len) {
            throw new IllegalArgumentException("n: " + n + " + length: " + len + " (expected: <= "
                    + Integer.MAX_VALUE + " tokens)");
        }
        long need = 0;
        int freedByRelease = 0;
        for (int g = 0; g < seqs.length; g++) {
            needs[g] = seqs[g].blocksToAppend(n);
            need += needs[g];
            dead[g] = deadBlocks(g, len);
            for (int i = 0; i < dead[g]; i++) {
                if (cache.becomesAvailable(seqs[g].blockId(i))) {
                    freedByRelease++;
                }
            }
        }
        int available = cache.availableBlocks();
        if (need > (long) available + freedByRelease) {
            CacheEvents.poolExhausted((int) Math.min(Integer.MAX_VALUE, need), cache.freeBlocks(), cache.blockCount());
            return false;
        }
        boolean releaseFirst = need > available;
        if (releaseFirst) {
            releaseDead();
        }
        for (int g = 0; g < seqs.length; g++) {
            oldLength[g] = seqs[g].length();
            boolean ok = tokens == null ? seqs[g].tryAppend(n) : seqs[g].tryAppendTokens(tokens, off, n);
            if (!ok) {
                for (int k = 0; k < g; k++) {
                    seqs[k].truncate(oldLength[k]); // another thread took blocks meanwhile: undo
                }
                return false;
            }
        }
        if (!releaseFirst) {
            releaseDead();
        }
        return true;
    }

    /** Releases the blocks counted in {@link #dead}. */
    private void releaseDead() {
        for (int g = 0; g < seqs.length; g++) {
            for (int i = 0; i < dead[g]; i++) {
                seqs[g].releaseFront();
            }
            first[g] += dead[g] * blockSize;
            dead[g] = 0;
        }
    }

    /**
     * Blocks at the front of group {@code g}'s table that hold only positions no query from
     * position {@code nextQuery} on can see (0 for a global group).
     */
    private int deadBlocks(int g, int nextQuery) {
        int w = groups.window(g);
        if (w == 0) {
            return 0;
        }
        long keepFrom = (long) nextQuery - w + 1; // the first position the query at nextQuery attends to
        long d = (keepFrom - first[g]) / blockSize; // whole blocks entirely below keepFrom
        return (int) Math.max(0, Math.min(d, seqs[g].blockCount()));
    }

    /**
     * Releases every sliding group's blocks that lie entirely outside the window of the next token
     * (position {@link #length()}); call it after a step's attention. Never needs a block.
     *
     * @return the blocks released from the block tables (shared ones stay with their other holders)
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public int releaseOutsideWindow() {
        checkOpen();
        int len = length();
        int total = 0;
        for (int g = 0; g < seqs.length; g++) {
            dead[g] = deadBlocks(g, len);
            total += dead[g];
        }
        releaseDead();
        return total;
    }

    /**
     * Offers every group's full written blocks to the prefix cache (see {@link Sequence#commitPrefix()}).
     * A sliding group keeps committing after it released blocks: each block is indexed under its
     * chained hash (the whole model prefix up to it), so a later prompt's hit finds its window's blocks
     * without the released ones (see {@link GroupedKvCache#openSequence(int[], PrefixKeys)}).
     *
     * @return the shortest chain over the groups, in model blocks: how far every group has committed
     */
    public int commitPrefix() {
        checkOpen();
        int min = Integer.MAX_VALUE;
        for (Sequence s : seqs) {
            min = Math.min(min, s.commitPrefix());
        }
        return min;
    }

    /**
     * A child sequence with the same tokens in every group, sharing every block (copy-on-write).
     *
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public GroupedSequence fork() {
        checkOpen();
        Sequence[] child = new Sequence[seqs.length];
        for (int g = 0; g < seqs.length; g++) {
            child[g] = seqs[g].fork();
        }
        return new GroupedSequence(cache, child, first.clone(), reused);
    }

    /** Releases every group's blocks. Idempotent. */
    @Override
    public void close() {
        for (Sequence s : seqs) {
            s.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // writes and reads by model layer and model position

    /**
     * Writes K and V of all KV heads of the token at model {@code position} in model {@code layer}
     * ({@code kvHeads * headDim} floats each, head-major); see {@link Sequence#write(int, int, float[], float[])}.
     *
     * @throws IllegalStateException if the position was released (outside a sliding window)
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        int g = groups.groupOf(layer);
        seqs[g].write(groups.layerInGroup(layer), groupPosition(g, layer, position), keys, values);
    }

    /** Writes K and V of one token from packed buffers at the given offsets; see {@link #write(int, int, float[], float[])}. */
    public void write(int layer, int position, float[] keys, int keysOffset, float[] values, int valuesOffset) {
        int g = groups.groupOf(layer);
        seqs[g].write(groups.layerInGroup(layer), groupPosition(g, layer, position), keys, keysOffset, values,
                valuesOffset);
    }

    /** Writes K and V of one token from little-endian binary32 segments; see the array variant. */
    public void write(int layer, int position, MemorySegment keys, MemorySegment values) {
        int g = groups.groupOf(layer);
        seqs[g].write(groups.layerInGroup(layer), groupPosition(g, layer, position), keys, values);
    }

    /** Decodes the key of one KV head of the token at model {@code position} in model {@code layer}. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        int g = groups.groupOf(layer);
        seqs[g].readKey(groups.layerInGroup(layer), head, groupPosition(g, layer, position), dst, off);
    }

    /** Decodes the value of one KV head of the token at model {@code position} in model {@code layer}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        int g = groups.groupOf(layer);
        seqs[g].readValue(groups.layerInGroup(layer), head, groupPosition(g, layer, position), dst, off);
    }

    /**
     * States that model positions {@code [0, tokens)} are written in every layer of every group (see
     * {@link Sequence#markWritten(int)}); released positions are skipped.
     */
    public void markWritten(int tokens) {
        for (int g = 0; g < seqs.length; g++) {
            seqs[g].markWritten(Math.max(0, tokens - first[g]));
        }
    }

    /**
     * States that model positions {@code [0, tokens)} are written in model {@code layer} (see
     * {@link Sequence#markWritten(int, int)}); released positions are skipped. Never lowers a mark.
     *
     * @throws IndexOutOfBoundsException if the layer is out of range
     * @throws IllegalArgumentException if {@code tokens} is negative or above {@link #length()}
     */
    public void markWritten(int layer, int tokens) {
        int g = groups.groupOf(layer);
        seqs[g].markWritten(groups.layerInGroup(layer), Math.max(0, tokens - first[g]));
    }

    /**
     * Leading model positions written (readable) in model {@code layer}: its group's written mark plus
     * the positions the group released.
     *
     * @throws IndexOutOfBoundsException if the layer is out of range
     */
    public int written(int layer) {
        int g = groups.groupOf(layer);
        return seqs[g].written(groups.layerInGroup(layer)) + first[g];
    }

    /**
     * The whole block at index {@code index} of group {@code group}'s table (model positions from
     * {@code firstPosition(group) + index * blockSize}), writable: its copy-on-write resolved first;
     * see {@link Sequence#writableBlock(int)}.
     *
     * @throws IndexOutOfBoundsException if the group or the index is out of range
     * @throws PoolExhaustedException (nothing changed) if a copy is needed and the pool is short
     */
    public MemorySegment writableBlock(int group, int index) {
        return seqs[checkGroup(group)].writableBlock(index);
    }

    private int groupPosition(int g, int layer, int position) {
        int p = position - first[g];
        if (position >= 0 && p < 0) {
            throw new IllegalStateException("position: " + position + " of layer " + layer + " was released outside the "
                    + groups.window(g) + "-token window of group " + g + " (expected: >= " + first[g] + ")");
        }
        return p;
    }

    // ---------------------------------------------------------------------------------------------
    // queries

    /** Tokens appended so far, in model positions (0 once closed). */
    public int length() {
        return seqs[0].isClosed() ? 0 : seqs[0].length() + first[0];
    }

    /** Tokens reused from the prefix cache when the sequence was opened. */
    public int reusedTokens() {
        return reused;
    }

    /** The first model position group {@code group} still holds (0 for a global group). */
    public int firstPosition(int group) {
        return first[checkGroup(group)];
    }

    /** Blocks in group {@code group}'s table. */
    public int blockCount(int group) {
        return seqs[checkGroup(group)].blockCount();
    }

    /** Block id at index {@code index} of group {@code group}'s table (model positions from {@code firstPosition(group) + index * blockSize}). */
    public int blockId(int group, int index) {
        return seqs[checkGroup(group)].blockId(index);
    }

    /** Copies group {@code group}'s block table into {@code dst} and returns its length. */
    public int copyBlockTable(int group, int[] dst) {
        return seqs[checkGroup(group)].copyBlockTable(dst);
    }

    /** Leading model positions written in every layer of group {@code group}. */
    public int writtenTokens(int group) {
        Sequence s = seqs[checkGroup(group)];
        return s.writtenTokens() + first[group];
    }

    /** The layer groups. */
    public LayerGroups groups() {
        return groups;
    }

    /** The cache this sequence belongs to. */
    public GroupedKvCache cache() {
        return cache;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return seqs[0].isClosed();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("GroupedSequence[length=").append(length());
        for (int g = 0; g < seqs.length; g++) {
            b.append(", g").append(g).append(": blocks=").append(seqs[g].blockCount()).append(" from ").append(first[g]);
        }
        return b.append(']').toString();
    }

    private void checkOpen() {
        cache.checkOpen();
        if (seqs[0].isClosed()) {
            throw new IllegalStateException("grouped sequence: closed (expected: open)");
        }
    }

    private int checkGroup(int group) {
        if (group < 0 || group >= seqs.length) {
            throw new IndexOutOfBoundsException("group: " + group + " (expected: 0 <= group < " + seqs.length + ")");
        }
        return group;
    }
}
