package io.pagedkv.cache;

import io.pagedkv.dtype.KvCodec;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One sequence of tokens in a {@link PagedKvCache}: a length and a block table.
 *
 * <p>Position {@code p} lives in slot {@code p % blockSize} of block {@code blockId(p / blockSize)}.
 * {@link #tryAppend(int)} reserves slots and allocates blocks only when the last one is full;
 * writes encode K/V with the layout's dtype codec into a slot; reads decode it back. {@link #fork()}
 * makes a child that shares every block (reference count + 1); the first write into a shared block
 * copies it first (copy-on-write), so parent and child never see each other's later writes. An
 * append into a partly filled shared last block copies it at append time, so {@code tryAppend}
 * reports the shortage instead of a later write.
 *
 * <p>The block table is read-only to callers: {@link #blockCount()}, {@link #blockId(int)} (no copy),
 * {@link #copyBlockTable(int[])}. It never names a free block while the sequence is open.
 *
 * <h2>Errors</h2>
 * Sizes {@code <= 0}, a layer, head or position out of range (a position must be below
 * {@link #length()}), a vector of the wrong length throw {@link IllegalArgumentException} or
 * {@link IndexOutOfBoundsException} before anything changes; any use after {@link #close()} (or after
 * the cache closed) throws {@link IllegalStateException}.
 *
 * <h2>Threading</h2>
 * Structural operations ({@code append}, {@code tryAppend}, {@code fork}, {@code close}) lock the
 * sequence, so they are safe from several threads. Writes and reads of distinct slots may run in
 * parallel from many threads without locks; a write into a shared block takes the sequence's lock
 * for the copy. A write racing with {@code close()} of the same sequence is a caller bug (it may land
 * in a block that another sequence has taken since); two writes of the same slot race as plain memory.
 */
public final class Sequence implements AutoCloseable {

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int[] NO_BLOCKS = new int[0];

    private final PagedKvCache cache;
    private final BlockPool pool;
    private final CacheLayout layout;
    private final KvCodec[] codecs; // (layer * 2 + kv) * kvHeads + head, shared with the cache
    private final long id;
    private final int blockSize;
    private final int headDim;
    private final int kvHeads;

    /** Block ids; entries {@code [0, blockCount)} are valid. Replaced (not mutated in place) on growth. */
    private volatile int[] table;
    private volatile int blockCount;
    private volatile int length;
    private volatile boolean closed;
    /** Scratch for block ids of one allocation; grown rarely, guarded by {@code this}. */
    private int[] scratch = new int[4];

    // prefix caching, guarded by this
    /** Token ids of positions {@code [0, knownTokens)}. */
    private int[] tokenIds = NO_BLOCKS;
    private int knownTokens;
    private long extraKey;
    /** Prefix entries of the leading full blocks {@code [0, chainLength)}. */
    private PrefixEntry[] chain;
    private int chainLength;
    private int reusedTokens;

    Sequence(PagedKvCache cache, long id) {
        this(cache, id, NO_BLOCKS, 0, 0);
    }

    private Sequence(PagedKvCache cache, long id, int[] table, int blockCount, int length) {
        this.cache = cache;
        this.pool = cache.pool();
        this.layout = cache.layout();
        this.codecs = cache.codecTable();
        this.id = id;
        this.blockSize = layout.blockSize();
        this.headDim = layout.shape().headDim();
        this.kvHeads = layout.shape().kvHeads();
        this.table = table;
        this.blockCount = blockCount;
        this.length = length;
    }

    // ---------------------------------------------------------------------------------------------
    // prefix caching

    /** Called once by the cache before the sequence is published: reuses cached prefix blocks. */
    int startFromPrefix(int[] prompt, long extra) {
        this.extraKey = extra;
        int maxTokens = Math.max(0, prompt.length - 1);
        PrefixEntry[] c = new PrefixEntry[maxTokens / blockSize + 1];
        int[] blocks = new int[Math.max(4, maxTokens / blockSize + 1)];
        int n = cache.prefix().match(prompt, maxTokens, extra, c, blocks);
        int tokens = n * blockSize;
        this.chain = c;
        this.chainLength = n;
        this.table = blocks;
        this.blockCount = n;
        this.tokenIds = java.util.Arrays.copyOf(prompt, Math.max(tokens, 16));
        this.knownTokens = tokens;
        this.reusedTokens = tokens;
        this.length = tokens;
        return tokens;
    }

    /** Tokens reused from the prefix cache when the sequence was opened (the engine prefills only the rest). */
    public int reusedTokens() {
        return reusedTokens;
    }

    /**
     * Appends {@code n} tokens like {@link #tryAppend(int)} and records their ids
     * {@code tokens[off .. off + n)}, so that their full blocks can be prefix-cached.
     *
     * @return {@code false}, changing nothing, if the pool is short
     * @throws IllegalArgumentException if {@code n <= 0} or the range is outside {@code tokens}
     */
    public synchronized boolean tryAppendTokens(int[] tokens, int off, int n) {
        if (tokens == null || off < 0 || n <= 0 || off > tokens.length - n) {
            throw new IllegalArgumentException("tokens range: off " + off + ", n " + n + " of length "
                    + (tokens == null ? "null" : tokens.length) + " (expected: n > 0 and 0 <= off <= length - n)");
        }
        int old = length;
        if (!tryAppend(n)) {
            return false;
        }
        if (knownTokens == old) {
            if (tokenIds.length < old + n) {
                tokenIds = java.util.Arrays.copyOf(tokenIds, Math.max(old + n, tokenIds.length * 2));
            }
            System.arraycopy(tokens, off, tokenIds, old, n);
            knownTokens = old + n;
        }
        return true;
    }

    /**
     * Appends tokens with their ids like {@link #tryAppendTokens(int[], int, int)}.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool is short
     */
    public synchronized void appendTokens(int[] tokens, int off, int n) {
        if (!tryAppendTokens(tokens, off, n)) {
            throw new PoolExhaustedException("sequence " + id + " appendTokens(" + n + ")", blocksToAppendLocked(n),
                    pool.freeBlocks(), pool.blockCount());
        }
    }

    /**
     * Offers this sequence's full blocks whose token ids are known to the prefix cache; call it once
     * their K/V is written for every layer (after a prefill, or every {@code blockSize} decode steps).
     * A later write into an indexed block copies it first.
     *
     * @return the number of leading full blocks now in the prefix chain
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public synchronized int commitPrefix() {
        checkOpen();
        int full = Math.min(knownTokens, length) / blockSize;
        if (chain == null || chain.length < full) {
            chain = chain == null ? new PrefixEntry[Math.max(full, 4)] : java.util.Arrays.copyOf(chain, Math.max(full, chain.length * 2));
        }
        chainLength = cache.prefix().commit(table, tokenIds, extraKey, chain, chainLength, full);
        return chainLength;
    }

    /**
     * Eviction changed what slot {@code slot} (and later ones) hold: stop the token ids and the prefix
     * chain before it, so no later commit indexes a block that is not a prefix of the prompt.
     */
    private void forgetPrefixFrom(int slot) {
        if (knownTokens > slot) {
            knownTokens = slot;
        }
        int block = slot / blockSize;
        if (chainLength > block) {
            chainLength = block;
        }
    }

    /** Token ids known for positions {@code [0, knownTokens())} (appended with ids or reused). */
    public int knownTokens() {
        return knownTokens;
    }

    // ---------------------------------------------------------------------------------------------
    // structure

    /**
     * Reserves {@code n} more token slots, allocating blocks as needed (all or none).
     *
     * @return {@code false}, changing nothing, if the pool has too few free blocks
     * @throws IllegalArgumentException if {@code n <= 0} or the length would overflow an int
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public synchronized boolean tryAppend(int n) {
        checkOpen();
        int need = blocksToAppendLocked(n);
        return appendLocked(n, need);
    }

    /**
     * Reserves {@code n} more token slots like {@link #tryAppend(int)}.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool has too few free blocks
     */
    public synchronized void append(int n) {
        checkOpen();
        int need = blocksToAppendLocked(n);
        if (!appendLocked(n, need)) {
            throw new PoolExhaustedException("sequence " + id + " append(" + n + ")", need, pool.freeBlocks(),
                    pool.blockCount());
        }
    }

    /** Blocks that {@code tryAppend(n)} would take from the pool now (including a copy-on-write). */
    public synchronized int blocksToAppend(int n) {
        checkOpen();
        return blocksToAppendLocked(n);
    }

    private int blocksToAppendLocked(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: > 0 tokens)");
        }
        int len = length;
        if (n > Integer.MAX_VALUE - len) {
            throw new IllegalArgumentException("n: " + n + " + length: " + len + " (expected: <= "
                    + Integer.MAX_VALUE + " tokens)");
        }
        long newBlocks = ((long) len + n + blockSize - 1) / blockSize - blockCount;
        int cow = (len % blockSize != 0 && pool.refCount(table[blockCount - 1]) > 1) ? 1 : 0;
        return (int) Math.min(Integer.MAX_VALUE, newBlocks + cow);
    }

    private boolean appendLocked(int n, int need) {
        if (need == 0) {
            cache.onAppend(n, 0);
            length = length + n;
            return true;
        }
        if (need > cache.availableBlocks()) {
            CacheEvents.poolExhausted(need, pool.freeBlocks(), pool.blockCount());
            return false; // also keeps a huge n from growing the scratch array
        }
        if (scratch.length < need) {
            scratch = new int[Math.max(need, scratch.length * 2)];
        }
        if (!cache.allocateBlocks(need, scratch)) {
            return false;
        }
        int len = length;
        int bc = blockCount;
        int newBlocks = (int) (((long) len + n + blockSize - 1) / blockSize - bc);
        int used = 0;
        if (need > newBlocks) {
            // a copy-on-write of the partly filled last block was counted; another sharer may have
            // closed since, leaving it exclusive: then hand the spare block back
            if (pool.refCount(table[bc - 1]) > 1) {
                copyInto(bc - 1, scratch[used++]);
            } else {
                pool.release(scratch[used++]);
            }
        }
        int[] t = table;
        int newCount = bc + newBlocks;
        if (newCount > t.length) {
            int[] grown = new int[Math.max(newCount, Math.max(4, t.length * 2))];
            System.arraycopy(t, 0, grown, 0, bc);
            t = grown;
        }
        for (int i = bc; i < newCount; i++) {
            INTS.setRelease(t, i, scratch[used++]);
        }
        table = t;
        blockCount = newCount;
        cache.onAppend(n, newBlocks * blockSize);
        length = len + n;
        return true;
    }

    /** Copies the shared block at table index {@code index} onto fresh block {@code fresh} and swaps it in. */
    private void copyInto(int index, int fresh) {
        int old = table[index];
        pool.copy(old, fresh);
        INTS.setRelease(table, index, fresh);
        cache.releaseBlock(old);
        if (index < chainLength) {
            chainLength = index; // the copy is not the indexed block: stop the chain before it
        }
        cache.onCopyOnWrite();
        CacheEvents.copyOnWrite(id, index, old, fresh, pool.bytesPerBlock());
    }

    /**
     * A child sequence with the same length and K/V that shares every block (reference count + 1).
     * Later writes of either side copy a shared block first and are not seen by the other.
     *
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public synchronized Sequence fork() {
        checkOpen();
        int bc = blockCount;
        int[] copy = new int[Math.max(bc, 4)];
        System.arraycopy(table, 0, copy, 0, bc);
        pool.retainAll(copy, bc);
        Sequence child = new Sequence(cache, cache.nextId(), copy, bc, length);
        child.tokenIds = tokenIds.clone();
        child.knownTokens = knownTokens;
        child.extraKey = extraKey;
        child.chain = chain == null ? null : chain.clone();
        child.chainLength = chainLength;
        cache.onFork(length, bc * blockSize);
        return child;
    }

    /**
     * Releases every block (a block shared with another sequence stays with it).
     *
     * @throws IllegalStateException if already closed, or the cache is closed
     */
    @Override
    public synchronized void close() {
        checkOpen();
        closed = true;
        int[] t = table;
        int bc = blockCount;
        for (int i = bc - 1; i >= 0; i--) { // last first: a prefix's parents end up younger in the LRU
            cache.releaseBlock(t[i]);
        }
        cache.onClose(length, bc * blockSize);
        table = NO_BLOCKS;
        blockCount = 0;
    }

    // ---------------------------------------------------------------------------------------------
    // writes

    /**
     * Writes the key of KV head {@code head} of the token at {@code position} in {@code layer} from
     * {@code src[off .. off + headDim)}.
     */
    public void writeKey(int layer, int head, int position, float[] src, int off) {
        writeHead(CacheLayout.K, layer, head, position, src, off);
    }

    /** Writes the value of one KV head of one token from {@code src[off .. off + headDim)}. */
    public void writeValue(int layer, int head, int position, float[] src, int off) {
        writeHead(CacheLayout.V, layer, head, position, src, off);
    }

    /**
     * Writes the key of one KV head of one token from {@code headDim} little-endian binary32 values
     * at byte {@code srcOffset} of {@code src}.
     */
    public void writeKey(int layer, int head, int position, MemorySegment src, long srcOffset) {
        writeHead(CacheLayout.K, layer, head, position, src, srcOffset);
    }

    /** Writes the value of one KV head of one token from a segment; see the key variant. */
    public void writeValue(int layer, int head, int position, MemorySegment src, long srcOffset) {
        writeHead(CacheLayout.V, layer, head, position, src, srcOffset);
    }

    /**
     * Writes K and V of all KV heads of the token at {@code position} in {@code layer}:
     * {@code keys} and {@code values} hold exactly {@code kvHeads * headDim} floats, head-major.
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        int want = kvHeads * headDim;
        checkLength("keys", keys == null ? -1 : keys.length, want);
        checkLength("values", values == null ? -1 : values.length, want);
        checkOpen();
        checkLayer(layer);
        checkPosition(position);
        // Validate every head before the first write (and before a copy-on-write), so a value the
        // dtype rejects (Q8_0/Q4_0: NaN, infinity) leaves the cache exactly as it was.
        for (int h = 0; h < kvHeads; h++) {
            codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].checkEncodable(keys, h * headDim, headDim);
            codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].checkEncodable(values, h * headDim, headDim);
        }
        MemorySegment block = pool.block(writableBlock(position / blockSize));
        int slot = position % blockSize;
        for (int h = 0; h < kvHeads; h++) {
            codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].encode(keys, h * headDim, headDim, block,
                    layout.unsafeOffset(layer, CacheLayout.K, h, slot));
            codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].encode(values, h * headDim, headDim, block,
                    layout.unsafeOffset(layer, CacheLayout.V, h, slot));
        }
    }

    /**
     * Writes K and V of all KV heads of one token from segments of exactly
     * {@code kvHeads * headDim} little-endian binary32 values each.
     */
    public void write(int layer, int position, MemorySegment keys, MemorySegment values) {
        long want = (long) kvHeads * headDim * Float.BYTES;
        checkBytes("keys", keys, 0, want, true);
        checkBytes("values", values, 0, want, true);
        checkOpen();
        checkLayer(layer);
        checkPosition(position);
        MemorySegment block = pool.block(writableBlock(position / blockSize));
        int slot = position % blockSize;
        long headFloatBytes = (long) headDim * Float.BYTES;
        for (int h = 0; h < kvHeads; h++) {
            codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].encode(keys, h * headFloatBytes, headDim, block,
                    layout.unsafeOffset(layer, CacheLayout.K, h, slot));
            codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].encode(values, h * headFloatBytes, headDim, block,
                    layout.unsafeOffset(layer, CacheLayout.V, h, slot));
        }
    }

    private void writeHead(int kv, int layer, int head, int position, float[] src, int off) {
        checkArray("src", src, off);
        checkOpen();
        checkLayer(layer);
        checkHead(head);
        checkPosition(position);
        KvCodec codec = codecs[(layer * 2 + kv) * kvHeads + head];
        codec.checkEncodable(src, off, headDim); // before any copy-on-write: a rejected value changes nothing
        MemorySegment block = pool.block(writableBlock(position / blockSize));
        codec.encode(src, off, headDim, block, layout.unsafeOffset(layer, kv, head, position % blockSize));
    }

    private void writeHead(int kv, int layer, int head, int position, MemorySegment src, long srcOffset) {
        checkBytes("src", src, srcOffset, (long) headDim * Float.BYTES, false);
        checkOpen();
        checkLayer(layer);
        checkHead(head);
        checkPosition(position);
        MemorySegment block = pool.block(writableBlock(position / blockSize));
        codecs[(layer * 2 + kv) * kvHeads + head].encode(src, srcOffset, headDim, block, layout.unsafeOffset(layer, kv, head, position % blockSize));
    }

    /** The block at table index {@code index}, copied first if shared. Lock-free when exclusive. */
    private int writableBlock(int index) {
        int b = (int) INTS.getAcquire(table, index);
        if (pool.refCountAcquire(b) == 1) {
            return b;
        }
        synchronized (this) {
            checkOpen();
            b = table[index];
            if (pool.refCountAcquire(b) == 1) {
                return b;
            }
            if (!cache.allocateBlocks(1, scratch)) {
                throw new PoolExhaustedException("sequence " + id + " copy-on-write of block index " + index,
                        1, pool.freeBlocks(), pool.blockCount());
            }
            int fresh = scratch[0];
            copyInto(index, fresh);
            return fresh;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // eviction primitives, used by EvictingSequence; none runs concurrently with reads or writes of
    // this sequence (eviction happens between decode steps)

    /**
     * Copies the K and V bytes of every layer and head from slot {@code from} onto slot {@code to}
     * (raw bytes, no re-encoding); the target block is copied first if shared.
     */
    synchronized void copySlot(int from, int to) {
        checkOpen();
        checkPosition(from);
        checkPosition(to);
        int dstId = writableBlock(to / blockSize);
        int srcId = table[from / blockSize];
        forgetPrefixFrom(to); // slot `to` now holds another token: no prefix chain may cover it
        MemorySegment src = pool.block(srcId);
        MemorySegment dst = pool.block(dstId);
        int fromSlot = from % blockSize;
        int toSlot = to % blockSize;
        long headBytes = layout.headBytes();
        int layers = layout.shape().layers();
        for (int l = 0; l < layers; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < kvHeads; h++) {
                    MemorySegment.copy(src, layout.unsafeOffset(l, kv, h, fromSlot), dst,
                            layout.unsafeOffset(l, kv, h, toSlot), headBytes);
                }
            }
        }
    }

    /**
     * Forgets the token ids from slot {@code from} on: its content is about to change (eviction), so
     * no later {@code commitPrefix} may index a block at or after it under the old ids.
     */
    synchronized void forgetTokenIds(int from) {
        forgetPrefixFrom(Math.max(0, from));
    }

    /** Drops the slots from {@code newLength} on, releasing the blocks that no longer hold any. */
    synchronized void truncate(int newLength) {
        checkOpen();
        int len = length;
        if (newLength < 0 || newLength > len) {
            throw new IllegalArgumentException("newLength: " + newLength + " (expected: 0 <= newLength <= length " + len + ")");
        }
        int bc = blockCount;
        int newCount = (newLength + blockSize - 1) / blockSize;
        int[] t = table;
        for (int i = bc - 1; i >= newCount; i--) {
            cache.releaseBlock(t[i]); // through the prefix index, so an indexed block joins its LRU
        }
        forgetPrefixFrom(newLength);
        blockCount = newCount;
        length = newLength;
        cache.onAppend(newLength - len, -(bc - newCount) * blockSize);
    }

    /**
     * Releases the full block at table index {@code index} and re-links the table: later entries move
     * down one place (their slots are renumbered by {@code -blockSize}); no K/V byte is copied and no
     * entry names the released block.
     */
    synchronized void unlinkBlock(int index) {
        checkOpen();
        int bc = blockCount;
        int len = length;
        if (index < 0 || index >= bc || (long) (index + 1) * blockSize > len) {
            throw new IllegalArgumentException("index: " + index + " (expected: a full block, 0 <= index < "
                    + Math.min(bc, len / blockSize) + ")");
        }
        int[] t = table;
        int released = t[index];
        for (int i = index; i < bc - 1; i++) {
            INTS.setRelease(t, i, t[i + 1]);
        }
        blockCount = bc - 1;
        length = len - blockSize;
        forgetPrefixFrom(index * blockSize); // later blocks are no longer a prefix of the prompt
        cache.releaseBlock(released);
        cache.onAppend(-blockSize, -blockSize);
    }

    // ---------------------------------------------------------------------------------------------
    // reads

    /** Decodes the key of one KV head of the token at {@code position} into {@code dst[off .. off + headDim)}. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        readHead(CacheLayout.K, layer, head, position, dst, off);
    }

    /** Decodes the value of one KV head of one token into {@code dst[off .. off + headDim)}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        readHead(CacheLayout.V, layer, head, position, dst, off);
    }

    private void readHead(int kv, int layer, int head, int position, float[] dst, int off) {
        checkArray("dst", dst, off);
        checkOpen();
        checkLayer(layer);
        checkHead(head);
        checkPosition(position);
        int b = (int) INTS.getAcquire(table, position / blockSize);
        codecs[(layer * 2 + kv) * kvHeads + head].decode(pool.block(b), layout.unsafeOffset(layer, kv, head, position % blockSize), headDim, dst, off);
    }

    /** Zero-copy keys of one KV head for all slots of the block at table index {@code index}. */
    public MemorySegment keys(int index, int layer, int head) {
        return cache.keys(blockId(index), layer, head);
    }

    /** Zero-copy values of one KV head for all slots of the block at table index {@code index}. */
    public MemorySegment values(int index, int layer, int head) {
        return cache.values(blockId(index), layer, head);
    }

    // ---------------------------------------------------------------------------------------------
    // block table and queries

    /** A process-unique id of this sequence within its cache (for logs and events). */
    public long id() {
        return id;
    }

    /** Tokens appended so far. */
    public int length() {
        return length;
    }

    /** Blocks in the block table: {@code ceil(length / blockSize)}. */
    public int blockCount() {
        return blockCount;
    }

    /**
     * The block id at table index {@code index} (positions {@code index * blockSize ..}).
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #blockCount()}
     */
    public int blockId(int index) {
        int bc = blockCount;
        if (index < 0 || index >= bc) {
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < blockCount " + bc + ")");
        }
        return (int) INTS.getAcquire(table, index);
    }

    /**
     * Copies the block table into {@code dst[0 .. blockCount())} and returns the count.
     *
     * @throws IllegalArgumentException if {@code dst} is shorter than {@link #blockCount()}
     */
    public synchronized int copyBlockTable(int[] dst) {
        int bc = blockCount;
        if (dst.length < bc) {
            throw new IllegalArgumentException("dst.length: " + dst.length + " (expected: >= blockCount " + bc + ")");
        }
        System.arraycopy(table, 0, dst, 0, bc);
        return bc;
    }

    /** The cache this sequence belongs to. */
    public PagedKvCache cache() {
        return cache;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "Sequence[id=" + id + ", length=" + length + ", blocks=" + blockCount + (closed ? ", closed" : "") + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // checks (all before any change)

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sequence " + id + ": closed (expected: open)");
        }
        cache.checkOpen();
    }

    private void checkLayer(int layer) {
        int layers = layout.shape().layers();
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
    }

    private void checkHead(int head) {
        if (head < 0 || head >= kvHeads) {
            throw new IndexOutOfBoundsException("head: " + head + " (expected: 0 <= head < kvHeads " + kvHeads + ")");
        }
    }

    private void checkPosition(int position) {
        int len = length;
        if (position < 0 || position >= len) {
            throw new IndexOutOfBoundsException("position: " + position + " (expected: 0 <= position < length "
                    + len + ", append first)");
        }
    }

    private void checkArray(String what, float[] a, int off) {
        if (a == null) {
            throw new IllegalArgumentException(what + ": null (expected: float[" + headDim + "])");
        }
        if (off < 0 || off > a.length - headDim) {
            throw new IllegalArgumentException(what + " offset: " + off + " with length " + a.length
                    + " (expected: 0 <= offset <= length - headDim " + headDim + ")");
        }
    }

    private static void checkLength(String what, int actual, int want) {
        if (actual != want) {
            throw new IllegalArgumentException(what + ".length: " + (actual < 0 ? "null" : actual)
                    + " (expected: kvHeads * headDim = " + want + ")");
        }
    }

    private static void checkBytes(String what, MemorySegment s, long off, long want, boolean exact) {
        if (s == null) {
            throw new IllegalArgumentException(what + ": null (expected: a segment of " + want + " bytes)");
        }
        long size = s.byteSize();
        if (exact ? size != want : (off < 0 || off > size - want)) {
            throw new IllegalArgumentException(what + ".byteSize: " + size + " at offset " + off
                    + " (expected: " + (exact ? "exactly " : "at least ") + want + " bytes of binary32)");
        }
    }
}
