package io.pagedkv.cache;

import io.pagedkv.dtype.KvCodec;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.StampedLock;

/**
 * One sequence of tokens in a {@link PagedKvCache}: a length, a block table and a written mark.
 *
 * <p>Position {@code p} lives in slot {@code p % blockSize} of block {@code blockId(p / blockSize)}.
 * {@link #tryAppend(int)} reserves slots and allocates blocks only when the last one is full;
 * writes encode K/V with the layout's dtype codec into a slot; reads decode it back. {@link #fork()}
 * makes a child that shares every block (reference count + 1); the first write into a shared block
 * copies it first (copy-on-write), so parent and child never see each other's later writes. An
 * append into a partly filled shared last block copies it at append time, so {@code tryAppend}
 * reports the shortage instead of a later write.
 *
 * <h2>Written mark</h2>
 * A reserved slot may still hold bytes of its block's previous owner (blocks are not scrubbed when
 * freed). So the sequence keeps, per layer, how many leading tokens have been written
 * ({@link #written(int)}): {@link #readKey}/{@link #readValue} of a position at or above it throw,
 * {@link #keys}/{@link #values} views cover only written slots, and {@link #commitPrefix()} indexes
 * only full blocks written in every layer ({@link #writtenTokens()}). A whole-token
 * {@link #write(int, int, float[], float[]) write} of the next position of a layer advances that
 * layer's mark; an engine that writes out of order, one head at a time or through
 * {@link #writableBlock(int)} states what it wrote with {@link #markWritten(int)} (a promise the cache
 * cannot check). Tokens reused from the prefix cache and a fork's inherited tokens count as written.
 *
 * <p>The block table is read-only to callers: {@link #blockCount()}, {@link #blockId(int)} (no copy),
 * {@link #copyBlockTable(int[])}. It never names a free block while the sequence is open.
 *
 * <h2>Errors</h2>
 * Sizes {@code <= 0}, a layer, head or position out of range (a position must be below
 * {@link #length()}), a vector of the wrong length throw {@link IllegalArgumentException} or
 * {@link IndexOutOfBoundsException} before anything changes; a read of an unwritten position and any
 * use after {@link #close()} (or after the cache closed) throw {@link IllegalStateException}. A closed
 * sequence holds nothing: {@link #length()}, {@link #blockCount()} and the written marks are 0, and
 * {@code close()} again does nothing.
 *
 * <h2>Threading</h2>
 * A structure lock ({@link StampedLock}) orders everything: structural operations ({@code append},
 * {@code tryAppend}, {@code fork}, {@code commitPrefix}, {@code close}, eviction) hold it exclusively;
 * writes, reads, views and {@code markWritten} hold it shared, so any number of threads write and read
 * distinct slots in parallel, and a fork or a prefix commit waits for the writes in flight and is never
 * reached by a write that started before it (a block that became shared never changes again). A write
 * into a shared block copies it under a copy-on-write lock. A write or read racing with {@code close()}
 * either completes before the blocks are released or throws. Zero-copy views escape the lock: a view
 * is valid while the sequence holds that block (until its next copy-on-write, eviction or close).
 * Lock order: structure, copy-on-write, prefix index, pool.
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
    private final int layers;

    private final StampedLock structure = new StampedLock();
    private final Object cowLock = new Object();
    private final WrittenMark written;
    private final SequencePrefix prefix;

    /** Block ids; entries {@code [0, blockCount)} are valid. Replaced (not mutated in place) on growth. */
    private volatile int[] table;
    private volatile int blockCount;
    private volatile int length;
    private volatile boolean closed;
    /** Scratch for block ids of one allocation; guarded by the exclusive structure lock. */
    private int[] scratch = new int[4];
    /** Scratch of one copy-on-write; guarded by {@link #cowLock}. */
    private final int[] cowScratch = new int[1];

    Sequence(PagedKvCache cache, long id) {
        this(cache, id, NO_BLOCKS, 0, 0, null, new SequencePrefix(cache.prefix().hasher(), cache.layout().blockSize()));
    }

    private Sequence(PagedKvCache cache, long id, int[] table, int blockCount, int length, WrittenMark written,
            SequencePrefix prefix) {
        this.cache = cache;
        this.pool = cache.blockPool();
        this.layout = cache.layout();
        this.codecs = cache.codecTable();
        this.id = id;
        this.blockSize = layout.blockSize();
        this.headDim = layout.shape().headDim();
        this.kvHeads = layout.shape().kvHeads();
        this.layers = layout.shape().layers();
        this.written = written != null ? written : new WrittenMark(layers);
        this.prefix = prefix;
        this.table = table;
        this.blockCount = blockCount;
        this.length = length;
    }

    // ---------------------------------------------------------------------------------------------
    // prefix caching

    /** Called once by the cache before the sequence is published: reuses cached prefix blocks. */
    int startFromPrefix(int[] prompt, PrefixKeys keys) {
        int maxTokens = Math.max(0, prompt.length - 1);
        PrefixEntry[] hit = new PrefixEntry[maxTokens / blockSize + 1];
        int[] blocks = new int[Math.max(4, maxTokens / blockSize + 1)];
        PrefixCache index = cache.prefix();
        // hashed here, outside the index's lock; the lookup reads one hash per block
        long[] hashes = index.enabled() ? BlockHashes.ofPrompt(index.hasher(), prompt, maxTokens, keys, blockSize)
                : BlockHashes.NONE;
        int n = index.match(prompt, maxTokens, keys, hashes, hit, blocks);
        int tokens = n * blockSize;
        prefix.start(prompt, keys, hashes, hit, n);
        this.table = blocks;
        this.blockCount = n;
        this.written.markAllAtLeast(tokens); // cached blocks were written by the request that committed them
        this.length = tokens;
        return tokens;
    }

    /**
     * Starts from a grouped cache's hit ({@link PrefixCache#matchGroups}): model blocks {@code [from, n)},
     * already retained, in {@code blocks[0 .. n - from)}, their entries in {@code chain} at their model
     * block indices. Called once by the cache before the sequence is published.
     *
     * @return the tokens the sequence holds: {@code (n - from) * blockSize}
     */
    int startFromHit(int[] prompt, PrefixKeys keys, long[] hashes, PrefixEntry[] chain, int from, int n, int[] blocks) {
        int tokens = (n - from) * blockSize;
        prefix.start(prompt, keys, hashes, chain, from, n);
        this.table = blocks;
        this.blockCount = n - from;
        this.written.markAllAtLeast(tokens); // cached blocks were written by the request that committed them
        this.length = tokens;
        return tokens;
    }

    /**
     * Tokens reused from the prefix cache when the sequence was opened (the engine prefills only the
     * rest), in model positions: a sliding group's sequence opened from its window's blocks alone holds
     * fewer.
     */
    public int reusedTokens() {
        return prefix.reusedTokens();
    }

    /**
     * Appends {@code n} tokens like {@link #tryAppend(int)} and records their ids
     * {@code tokens[off .. off + n)}, so that their full blocks can be prefix-cached.
     *
     * @return {@code false}, changing nothing, if the pool is short
     * @throws IllegalArgumentException if {@code n <= 0} or the range is outside {@code tokens}
     */
    public boolean tryAppendTokens(int[] tokens, int off, int n) {
        checkTokenRange(tokens, off, n);
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int old = length;
            if (!appendLocked(n, blocksToAppendLocked(n))) {
                return false;
            }
            prefix.record(old, tokens, off, n, cache.prefix().enabled());
            return true;
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Appends tokens with their ids like {@link #tryAppendTokens(int[], int, int)}.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool is short
     */
    public void appendTokens(int[] tokens, int off, int n) {
        checkTokenRange(tokens, off, n);
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int old = length;
            int need = blocksToAppendLocked(n);
            if (!appendLocked(n, need)) {
                throw new PoolExhaustedException("sequence " + id + " appendTokens(" + n + ")", need, pool.freeBlocks(),
                        pool.blockCount());
            }
            prefix.record(old, tokens, off, n, cache.prefix().enabled());
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    private static void checkTokenRange(int[] tokens, int off, int n) {
        if (tokens == null || off < 0 || n <= 0 || off > tokens.length - n) {
            throw new IllegalArgumentException("tokens range: off " + off + ", n " + n + " of length "
                    + (tokens == null ? "null" : tokens.length) + " (expected: n > 0 and 0 <= off <= length - n)");
        }
    }

    /**
     * Offers this sequence's full blocks to the prefix cache: those whose token ids are known and
     * whose every slot is written in every layer ({@link #writtenTokens()}); call it after a prefill
     * or every {@code blockSize} decode steps. Waits for writes in flight; a later write into an
     * indexed block copies it first.
     *
     * @return the number of leading full blocks now in the prefix chain
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public int commitPrefix() {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            return prefix.commit(cache.prefix(), table, length, written.min());
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Swap-mode preemption: commits this sequence's written full blocks ({@link #commitPrefix()}) and
     * hands each block of its prefix chain not handed before to the cache's {@link PrefixOffload}, so
     * the K/V survives the blocks' reclaim (and other servers sharing the tier can restore it).
     *
     * @return blocks handed to the hook (0 without one)
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public int offloadPrefix() {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            prefix.commit(cache.prefix(), table, length, written.min());
            return prefix.offload(cache.prefix());
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /** Token ids known for positions {@code [0, knownTokens())} (appended with ids or reused). */
    public int knownTokens() {
        long stamp = structure.readLock();
        try {
            return prefix.knownTokens();
        } finally {
            structure.unlockRead(stamp);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // written mark

    /** Leading tokens of {@code layer} written (readable): {@code [0, written(layer))}. */
    public int written(int layer) {
        checkLayer(layer);
        return written.of(layer);
    }

    /** Leading tokens written in every layer: what {@link #commitPrefix()} may index. */
    public int writtenTokens() {
        return written.min();
    }

    /**
     * States that tokens {@code [0, tokens)} are written in every layer (an engine that writes out of
     * order, per head, in bulk or through {@link #writableBlock(int)}). Never lowers a mark. The cache
     * cannot check this promise: slots that were not really written may hold another request's bytes.
     *
     * @throws IllegalArgumentException if {@code tokens} is negative or above {@link #length()}
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public void markWritten(int tokens) {
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkMark(tokens);
            written.markAllAtLeast(tokens);
        } finally {
            structure.unlockRead(stamp);
        }
    }

    /**
     * States that tokens {@code [0, tokens)} of {@code layer} are written; see {@link #markWritten(int)}.
     *
     * @throws IndexOutOfBoundsException if the layer is out of range
     */
    public void markWritten(int layer, int tokens) {
        checkLayer(layer);
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkMark(tokens);
            written.markAtLeast(layer, tokens);
        } finally {
            structure.unlockRead(stamp);
        }
    }

    private void checkMark(int tokens) {
        int len = length;
        if (tokens < 0 || tokens > len) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: 0 <= tokens <= length " + len + ")");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // structure

    /**
     * Reserves {@code n} more token slots, allocating blocks as needed (all or none).
     *
     * @return {@code false}, changing nothing, if the pool cannot hand out the blocks
     * @throws IllegalArgumentException if {@code n <= 0} or the length would overflow an int
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public boolean tryAppend(int n) {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            return appendLocked(n, blocksToAppendLocked(n));
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Reserves {@code n} more token slots like {@link #tryAppend(int)}.
     *
     * @throws PoolExhaustedException (nothing changed) if the pool cannot hand out the blocks
     */
    public void append(int n) {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int need = blocksToAppendLocked(n);
            if (!appendLocked(n, need)) {
                throw new PoolExhaustedException("sequence " + id + " append(" + n + ")", need, pool.freeBlocks(),
                        pool.blockCount());
            }
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /** Blocks that {@code tryAppend(n)} would take from the pool now (including a copy-on-write). */
    public int blocksToAppend(int n) {
        long stamp = structure.readLock();
        try {
            checkOpen();
            return blocksToAppendLocked(n);
        } finally {
            structure.unlockRead(stamp);
        }
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

    /** Holds the structure lock exclusively. */
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

    /**
     * Copies the shared block at table index {@code index} onto fresh block {@code fresh} and swaps it
     * in. Holds the structure lock exclusively, or shared plus {@link #cowLock}.
     */
    private void copyInto(int index, int fresh) {
        int[] t = table;
        int old = t[index];
        pool.copy(old, fresh);
        INTS.setRelease(t, index, fresh); // before the release: a racing fast path sees the swap
        cache.releaseBlock(old);
        prefix.stopChainAt(index); // the copy is not the indexed block
        cache.onCopyOnWrite();
        CacheEvents.copyOnWrite(id, index, old, fresh, pool.bytesPerBlock());
    }

    /**
     * A child sequence with the same length, written marks and K/V that shares every block (reference
     * count + 1). Waits for writes in flight; later writes of either side copy a shared block first
     * and are not seen by the other.
     *
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public Sequence fork() {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int bc = blockCount;
            int[] copy = new int[Math.max(bc, 4)];
            System.arraycopy(table, 0, copy, 0, bc);
            pool.retainAll(copy, bc);
            Sequence child = new Sequence(cache, cache.nextId(), copy, bc, length, written.copy(), prefix.copy());
            cache.onFork(length, bc * blockSize);
            return child;
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Releases every block (a block shared with another sequence or the prefix index stays with it).
     * Waits for writes and reads in flight. Idempotent; after the cache closed it only marks the
     * sequence closed (the memory went with the cache).
     */
    @Override
    public void close() {
        long stamp = structure.writeLock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            int[] t = table;
            int bc = blockCount;
            int len = length;
            table = NO_BLOCKS;
            blockCount = 0;
            length = 0;
            written.lowerTo(0);
            if (cache.isClosed()) {
                return;
            }
            cache.releaseBlocks(t, bc); // one pool call; last first: a prefix's parents end up younger in the LRU
            cache.onClose(len, bc * blockSize);
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // writes

    /**
     * Writes the key of KV head {@code head} of the token at {@code position} in {@code layer} from
     * {@code src[off .. off + headDim)}. A single-head write does not advance the written mark (the
     * token is complete only with every head's K and V): see {@link #markWritten(int)}.
     */
    public void writeKey(int layer, int head, int position, float[] src, int off) {
        writeHead(CacheLayout.K, layer, head, position, src, off);
    }

    /** Writes the value of one KV head of one token from {@code src[off .. off + headDim)}; see the key variant. */
    public void writeValue(int layer, int head, int position, float[] src, int off) {
        writeHead(CacheLayout.V, layer, head, position, src, off);
    }

    /**
     * Writes the key of one KV head of one token from {@code headDim} little-endian binary32 values
     * at byte {@code srcOffset} of {@code src}; see the array variant.
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
     * {@code keys} and {@code values} hold exactly {@code kvHeads * headDim} floats, head-major. Writing
     * the next unwritten position of the layer advances its written mark.
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        int want = kvHeads * headDim;
        checkLength("keys", keys == null ? -1 : keys.length, want);
        checkLength("values", values == null ? -1 : values.length, want);
        writeToken(layer, position, keys, 0, values, 0);
    }

    /**
     * Writes K and V of all KV heads of one token from {@code kvHeads * headDim} floats at
     * {@code keys[keysOffset ..)} and {@code values[valuesOffset ..)} (an engine's packed buffers).
     */
    public void write(int layer, int position, float[] keys, int keysOffset, float[] values, int valuesOffset) {
        int want = kvHeads * headDim;
        checkRange("keys", keys, keysOffset, want);
        checkRange("values", values, valuesOffset, want);
        writeToken(layer, position, keys, keysOffset, values, valuesOffset);
    }

    private void writeToken(int layer, int position, float[] keys, int ko, float[] values, int vo) {
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkLayer(layer);
            checkPosition(position);
            // Validate every head before the first write (and before a copy-on-write), so a value the
            // dtype rejects (Q8_0/Q4_0: NaN, infinity) leaves the cache exactly as it was.
            for (int h = 0; h < kvHeads; h++) {
                codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].checkEncodable(keys, ko + h * headDim, headDim);
                codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].checkEncodable(values, vo + h * headDim, headDim);
            }
            MemorySegment block = pool.segment(exclusiveBlock(position / blockSize));
            int slot = position % blockSize;
            for (int h = 0; h < kvHeads; h++) {
                codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].encode(keys, ko + h * headDim, headDim, block,
                        layout.unsafeOffset(layer, CacheLayout.K, h, slot));
                codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].encode(values, vo + h * headDim, headDim, block,
                        layout.unsafeOffset(layer, CacheLayout.V, h, slot));
            }
            written.recordToken(layer, position);
        } finally {
            structure.unlockRead(stamp);
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
        writeToken(layer, position, keys, 0, values, 0);
    }

    /**
     * Writes K and V of all KV heads of one token from {@code kvHeads * headDim} little-endian binary32
     * values at byte {@code keysOffset} of {@code keys} and {@code valuesOffset} of {@code values}.
     */
    public void write(int layer, int position, MemorySegment keys, long keysOffset, MemorySegment values,
            long valuesOffset) {
        long want = (long) kvHeads * headDim * Float.BYTES;
        checkBytes("keys", keys, keysOffset, want, false);
        checkBytes("values", values, valuesOffset, want, false);
        writeToken(layer, position, keys, keysOffset, values, valuesOffset);
    }

    private void writeToken(int layer, int position, MemorySegment keys, long ko, MemorySegment values, long vo) {
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkLayer(layer);
            checkPosition(position);
            MemorySegment block = pool.segment(exclusiveBlock(position / blockSize));
            int slot = position % blockSize;
            long headFloatBytes = (long) headDim * Float.BYTES;
            for (int h = 0; h < kvHeads; h++) {
                codecs[(layer * 2 + CacheLayout.K) * kvHeads + h].encode(keys, ko + h * headFloatBytes, headDim, block,
                        layout.unsafeOffset(layer, CacheLayout.K, h, slot));
                codecs[(layer * 2 + CacheLayout.V) * kvHeads + h].encode(values, vo + h * headFloatBytes, headDim,
                        block, layout.unsafeOffset(layer, CacheLayout.V, h, slot));
            }
            written.recordToken(layer, position);
        } finally {
            structure.unlockRead(stamp);
        }
    }

    private void writeHead(int kv, int layer, int head, int position, float[] src, int off) {
        checkArray("src", src, off);
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkLayer(layer);
            checkHead(head);
            checkPosition(position);
            KvCodec codec = codecs[(layer * 2 + kv) * kvHeads + head];
            codec.checkEncodable(src, off, headDim); // before any copy-on-write: a rejected value changes nothing
            MemorySegment block = pool.segment(exclusiveBlock(position / blockSize));
            codec.encode(src, off, headDim, block, layout.unsafeOffset(layer, kv, head, position % blockSize));
        } finally {
            structure.unlockRead(stamp);
        }
    }

    private void writeHead(int kv, int layer, int head, int position, MemorySegment src, long srcOffset) {
        checkBytes("src", src, srcOffset, (long) headDim * Float.BYTES, false);
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkLayer(layer);
            checkHead(head);
            checkPosition(position);
            MemorySegment block = pool.segment(exclusiveBlock(position / blockSize));
            codecs[(layer * 2 + kv) * kvHeads + head].encode(src, srcOffset, headDim, block,
                    layout.unsafeOffset(layer, kv, head, position % blockSize));
        } finally {
            structure.unlockRead(stamp);
        }
    }

    /**
     * The whole block at table index {@code index}, writable: its copy-on-write is resolved first (a
     * shared block is copied, so the returned block is this sequence's alone). For engines that write
     * K/V themselves (bulk, other dtypes): offsets come from {@link CacheLayout}; nothing is encoded and
     * the written mark does not move, so say what was written with {@link #markWritten(int)}. The
     * segment is valid until this sequence's next {@code fork}, {@code commitPrefix}, eviction or
     * {@code close}, which the caller must not race with its writes.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #blockCount()}
     * @throws PoolExhaustedException (nothing changed) if a copy is needed and the pool is short
     * @throws IllegalStateException if the sequence or the cache is closed
     */
    public MemorySegment writableBlock(int index) {
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkIndex(index);
            return pool.segment(exclusiveBlock(index));
        } finally {
            structure.unlockRead(stamp);
        }
    }

    /**
     * The block at table index {@code index}, copied first if shared. Lock-free when exclusive. The
     * caller holds the structure lock (shared or exclusive), so no fork or prefix commit can share
     * the block while the caller writes it.
     */
    private int exclusiveBlock(int index) {
        int[] t = table;
        int b = (int) INTS.getAcquire(t, index);
        // Only this sequence's own fork or commit could share an exclusive block, and both wait for
        // the structure lock the caller holds. A block this sequence just copied away (another thread
        // of it won the copy) is seen by the second read of the table entry.
        if (pool.refCountAcquire(b) == 1 && (int) INTS.getAcquire(t, index) == b) {
            return b;
        }
        synchronized (cowLock) {
            b = (int) INTS.getAcquire(t, index);
            if (pool.refCountAcquire(b) == 1) {
                return b;
            }
            if (!cache.allocateBlocks(1, cowScratch)) {
                throw new PoolExhaustedException("sequence " + id + " copy-on-write of block index " + index,
                        1, pool.freeBlocks(), pool.blockCount());
            }
            int fresh = cowScratch[0];
            copyInto(index, fresh);
            return fresh;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // eviction primitives, used by EvictingSequence; each holds the structure lock exclusively

    /**
     * Copies the K and V bytes of every layer and head from slot {@code from} onto slot {@code to}
     * (raw bytes, no re-encoding); the target block is copied first if shared. If {@code from} was not
     * written in a layer, that layer's mark drops to {@code to}.
     */
    void copySlot(int from, int to) {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            checkPosition(from);
            checkPosition(to);
            int dstId = exclusiveBlock(to / blockSize);
            int srcId = table[from / blockSize];
            prefix.forgetFrom(to); // slot `to` now holds another token: no prefix chain may cover it
            MemorySegment src = pool.segment(srcId);
            MemorySegment dst = pool.segment(dstId);
            int fromSlot = from % blockSize;
            int toSlot = to % blockSize;
            long headBytes = layout.headBytes();
            for (int l = 0; l < layers; l++) {
                for (int kv = 0; kv < 2; kv++) {
                    for (int h = 0; h < kvHeads; h++) {
                        MemorySegment.copy(src, layout.unsafeOffset(l, kv, h, fromSlot), dst,
                                layout.unsafeOffset(l, kv, h, toSlot), headBytes);
                    }
                }
            }
            written.slotCopied(from, to);
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Makes the blocks at the distinct table indices {@code indices[0 .. n)} exclusive: every shared one
     * is copied onto a fresh block, all fresh blocks taken in one all-or-nothing allocation. A copy
     * keeps the bytes, so the sequence reads the same after it; later writes and {@link #copySlot}s
     * into these blocks take no block.
     *
     * @return {@code false}, changing nothing, if the pool is short
     */
    boolean makeWritable(int[] indices, int n) {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int bc = blockCount;
            int need = 0;
            for (int i = 0; i < n; i++) {
                int index = indices[i];
                if (index < 0 || index >= bc) {
                    throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < blockCount "
                            + bc + ")");
                }
                if (pool.refCount(table[index]) > 1) {
                    need++;
                }
            }
            if (need == 0) {
                return true;
            }
            if (scratch.length < need) {
                scratch = new int[Math.max(need, scratch.length * 2)];
            }
            if (need > cache.availableBlocks() || !cache.allocateBlocks(need, scratch)) {
                CacheEvents.poolExhausted(need, pool.freeBlocks(), pool.blockCount());
                return false;
            }
            int used = 0;
            for (int i = 0; i < n && used < need; i++) {
                if (pool.refCount(table[indices[i]]) > 1) {
                    copyInto(indices[i], scratch[used++]);
                }
            }
            while (used < need) {
                pool.release(scratch[used++]); // another sharer closed meanwhile: the spare goes back
            }
            return true;
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Forgets the token ids from slot {@code from} on: its content is about to change (eviction), so
     * no later {@code commitPrefix} may index a block at or after it under the old ids.
     */
    void forgetTokenIds(int from) {
        long stamp = structure.writeLock();
        try {
            prefix.forgetFrom(Math.max(0, from));
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /** Drops the slots from {@code newLength} on, releasing the blocks that no longer hold any. */
    void truncate(int newLength) {
        long stamp = structure.writeLock();
        try {
            checkOpen();
            int len = length;
            if (newLength < 0 || newLength > len) {
                throw new IllegalArgumentException("newLength: " + newLength + " (expected: 0 <= newLength <= length "
                        + len + ")");
            }
            int bc = blockCount;
            int newCount = (newLength + blockSize - 1) / blockSize;
            int[] t = table;
            for (int i = bc - 1; i >= newCount; i--) {
                cache.releaseBlock(t[i]); // through the prefix index, so an indexed block joins its LRU
            }
            prefix.forgetFrom(newLength);
            written.lowerTo(newLength);
            blockCount = newCount;
            length = newLength;
            cache.onAppend(newLength - len, -(bc - newCount) * blockSize);
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    /**
     * Releases the full block at table index {@code index} and re-links the table: later entries move
     * down one place (their slots are renumbered by {@code -blockSize}); no K/V byte is copied and no
     * entry names the released block.
     */
    void unlinkBlock(int index) {
        unlink(index, false);
    }

    /**
     * Releases the full block at table index 0 as a sliding window does ({@link GroupedSequence}): like
     * {@code unlinkBlock(0)}, but the later blocks keep their token ids and prefix names (their model
     * positions did not change, only the table's offset), so the sequence keeps committing them.
     */
    void releaseFront() {
        unlink(0, true);
    }

    private void unlink(int index, boolean window) {
        long stamp = structure.writeLock();
        try {
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
            if (window) {
                prefix.releasedFront();
            } else {
                prefix.forgetFrom(index * blockSize); // later blocks are no longer a prefix of the prompt
            }
            written.removed(index * blockSize, blockSize);
            cache.releaseBlock(released);
            cache.onAppend(-blockSize, -blockSize);
        } finally {
            structure.unlockWrite(stamp);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // reads

    /**
     * Decodes the key of one KV head of the token at {@code position} into {@code dst[off .. off + headDim)}.
     *
     * @throws IllegalStateException if the position is not written in that layer yet (see
     *     {@link #written(int)}), or the sequence or the cache is closed
     */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        readHead(CacheLayout.K, layer, head, position, dst, off);
    }

    /** Decodes the value of one KV head of one token into {@code dst[off .. off + headDim)}; see {@link #readKey}. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        readHead(CacheLayout.V, layer, head, position, dst, off);
    }

    private void readHead(int kv, int layer, int head, int position, float[] dst, int off) {
        checkArray("dst", dst, off);
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkLayer(layer);
            checkHead(head);
            checkPosition(position);
            checkWritten(layer, position);
            int index = position / blockSize;
            int[] t = table;
            KvCodec codec = codecs[(layer * 2 + kv) * kvHeads + head];
            long offset = layout.unsafeOffset(layer, kv, head, position % blockSize);
            while (true) {
                int b = (int) INTS.getAcquire(t, index);
                codec.decode(pool.segment(b), offset, headDim, dst, off);
                // A copy-on-write by another thread of this sequence may have swapped the entry while
                // we read, and the old block could since have been freed and reused: read again.
                VarHandle.loadLoadFence();
                if ((int) INTS.getAcquire(t, index) == b) {
                    return;
                }
            }
        } finally {
            structure.unlockRead(stamp);
        }
    }

    /**
     * Zero-copy, read-only keys of one KV head for the written slots of the block at table index
     * {@code index}: slot {@code s} at byte {@code s * headBytes}, {@code byteSize() / headBytes}
     * slots (fewer than {@code blockSize} while the block is being filled).
     *
     * @throws IllegalStateException if the layout's order is {@link BlockOrder#TOKEN_RUNS} (a head's
     *     slots are not contiguous there: use {@link #readKey} or {@link #writableBlock} with
     *     {@link CacheLayout#offset}), or the sequence or the cache is closed
     */
    public MemorySegment keys(int index, int layer, int head) {
        return view(CacheLayout.K, index, layer, head);
    }

    /** Zero-copy, read-only values of one KV head for the written slots of a block; see {@link #keys}. */
    public MemorySegment values(int index, int layer, int head) {
        return view(CacheLayout.V, index, layer, head);
    }

    private MemorySegment view(int kv, int index, int layer, int head) {
        cache.requireHeadRuns(kv == CacheLayout.K ? "keys(index, layer, head)" : "values(index, layer, head)");
        long stamp = structure.readLock();
        try {
            checkOpen();
            checkIndex(index);
            checkLayer(layer);
            checkHead(head);
            int slots = Math.max(0, Math.min(blockSize, written.of(layer) - index * blockSize));
            return pool.block(table[index]).asSlice(layout.runOffset(layer, kv, head), (long) slots * layout.headBytes());
        } finally {
            structure.unlockRead(stamp);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // block table and queries

    /** A process-unique id of this sequence within its cache (for logs and events). */
    public long id() {
        return id;
    }

    /** Tokens appended so far (0 once closed). */
    public int length() {
        return length;
    }

    /** Blocks in the block table: {@code ceil(length / blockSize)} (0 once closed). */
    public int blockCount() {
        return blockCount;
    }

    /**
     * The block id at table index {@code index} (positions {@code index * blockSize ..}).
     *
     * @throws IndexOutOfBoundsException if {@code index} is not below {@link #blockCount()}
     * @throws IllegalStateException if the sequence is closed
     */
    public int blockId(int index) {
        int bc = blockCount;
        if (index < 0 || index >= bc) {
            if (closed) {
                throw new IllegalStateException("sequence " + id + ": closed (expected: open)");
            }
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < blockCount " + bc + ")");
        }
        return (int) INTS.getAcquire(table, index);
    }

    /**
     * Copies the block table into {@code dst[0 .. blockCount())} and returns the count.
     *
     * @throws IllegalArgumentException if {@code dst} is shorter than {@link #blockCount()}
     */
    public int copyBlockTable(int[] dst) {
        long stamp = structure.readLock();
        try {
            int bc = blockCount;
            if (dst.length < bc) {
                throw new IllegalArgumentException("dst.length: " + dst.length + " (expected: >= blockCount " + bc + ")");
            }
            System.arraycopy(table, 0, dst, 0, bc);
            return bc;
        } finally {
            structure.unlockRead(stamp);
        }
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
        return "Sequence[id=" + id + ", length=" + length + ", blocks=" + blockCount + ", written=" + written.min()
                + (closed ? ", closed" : "") + "]";
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
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
    }

    private void checkHead(int head) {
        if (head < 0 || head >= kvHeads) {
            throw new IndexOutOfBoundsException("head: " + head + " (expected: 0 <= head < kvHeads " + kvHeads + ")");
        }
    }

    private void checkIndex(int index) {
        int bc = blockCount;
        if (index < 0 || index >= bc) {
            throw new IndexOutOfBoundsException("index: " + index + " (expected: 0 <= index < blockCount " + bc + ")");
        }
    }

    private void checkPosition(int position) {
        int len = length;
        if (position < 0 || position >= len) {
            throw new IndexOutOfBoundsException("position: " + position + " (expected: 0 <= position < length "
                    + len + ", append first)");
        }
    }

    private void checkWritten(int layer, int position) {
        int w = written.of(layer);
        if (position >= w) {
            throw new IllegalStateException("position: " + position + " of layer " + layer + " not written (expected: < "
                    + w + " written; write it, or markWritten after writing it another way)");
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

    private static void checkRange(String what, float[] a, int off, int want) {
        if (a == null) {
            throw new IllegalArgumentException(what + ": null (expected: float[>= " + want + "])");
        }
        if (off < 0 || off > a.length - want) {
            throw new IllegalArgumentException(what + " offset: " + off + " with length " + a.length
                    + " (expected: 0 <= offset <= length - kvHeads * headDim " + want + ")");
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
