package io.pagedkv.cache;

import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A paged KV cache: one {@link BlockPool} laid out by a {@link CacheLayout}, and the
 * {@link Sequence}s that map their token positions onto its blocks.
 *
 * <p>A sequence's token at position {@code p} lives in slot {@code p % blockSize} of the block
 * {@code seq.blockId(p / blockSize)}; inside a block, bytes are ordered by
 * {@link CacheLayout#offset(int, int, int, int)} so that the keys (and the values) of one KV head for
 * all slots of a block are one contiguous run, which {@link #keys(int, int, int)} and
 * {@link #values(int, int, int)} hand out as zero-copy views.
 *
 * <h2>The decode loop of an engine</h2>
 * <pre>{@code
 * CacheLayout layout = new CacheLayout(shape, KvDType.F16, 16);
 * try (PagedKvCache cache = new PagedKvCache(layout, 4096)) {
 *     Sequence seq = cache.openSequence();
 *     for (int step = 0; step < maxTokens; step++) {
 *         if (!seq.tryAppend(1)) {                 // reserve a slot; false = pool full, nothing changed
 *             break;                               // (a scheduler would preempt or evict here)
 *         }
 *         int pos = seq.length() - 1;
 *         for (int layer = 0; layer < shape.layers(); layer++) {
 *             projectKv(layer, pos, k, v);         // k, v: float[kvHeads * headDim]
 *             seq.write(layer, pos, k, v);         // encoded by the layout's dtype codec
 *             for (int b = 0; b < seq.blockCount(); b++) {   // attention walks the block table
 *                 int tokens = Math.min(layout.blockSize(), seq.length() - b * layout.blockSize());
 *                 for (int h = 0; h < shape.kvHeads(); h++) {
 *                     MemorySegment keys = cache.keys(seq.blockId(b), layer, h);     // blockSize slots
 *                     MemorySegment values = cache.values(seq.blockId(b), layer, h);
 *                     attend(q, h, keys, values, tokens);
 *                 }
 *             }
 *         }
 *     }
 *     seq.close();
 * }
 * }</pre>
 *
 * <h2>Invariants</h2>
 * Conservation: {@code freeBlocks + usedBlocks + cachedBlocks == totalBlocks}. A block's reference
 * count is the number of open sequences whose table names it, plus one while the prefix index holds
 * it (a cached-unreferenced block has count 1: the index's); a block with count above 1 is never
 * written in place (the writer copies it first). Failed operations change nothing.
 *
 * <h2>Isolation</h2>
 * A request reads only K/V that it, the prefix it reused or the parent it forked from wrote: reads
 * stop at each sequence's written mark, only written blocks enter the prefix cache, a prefix hit
 * compares token ids and {@link PrefixKeys} (salt, key, range keys) exactly, and every view handed
 * out is read-only. Freed blocks are not scrubbed; the written mark is what keeps their old bytes
 * unreadable. docs/allocator.md ("Guarantees") lists each promise with the test that checks it.
 *
 * <h2>Layer groups</h2>
 * A cache is usually stand-alone (it owns its pool). It can also be one layer group of a
 * {@link GroupedKvCache} ({@link GroupedKvCache#group(int)}): then its layout is the group's, its pool
 * and prefix index are shared with the other groups (any free block serves any group; prefix entries
 * are keyed by group), {@link #stats()} counts blocks over the whole pool but sequences and tokens of
 * this group only, and {@link #close()} closes every group.
 *
 * <h2>Threading</h2>
 * Thread-safe: sequences may be opened, appended, forked and closed from many threads at once, and
 * many threads may write and read K/V of distinct slots in parallel (each holding its sequence's
 * structure lock shared). Operations on one sequence are described in {@link Sequence}.
 * {@link #close()} should not race with other use: after it, every operation throws
 * {@link IllegalStateException} and old segments throw instead of reading freed memory.
 */
public final class PagedKvCache implements AutoCloseable {

    private final CacheLayout layout;
    private final BlockPool pool;
    private final BlockPoolView poolView;
    private final KvCodec codec;
    private final KvCodec[] codecs; // (layer * 2 + kv) * kvHeads + head
    private final PrefixCache prefix;
    private final AtomicLong nextSequenceId = new AtomicLong();
    private final AtomicInteger openSequences = new AtomicInteger();
    private final LongAdder liveTokens = new LongAdder();
    private final LongAdder reservedSlots = new LongAdder();
    private final LongAdder copyOnWriteCopies = new LongAdder();
    /** The grouped cache this is one layer group of, or null for a stand-alone cache (the default). */
    private final GroupedKvCache owner;
    /** This cache's layer group within {@link #owner} (0 when stand-alone). */
    private final int group;
    private volatile boolean closed;

    /**
     * A cache of {@code blockCount} blocks shaped by {@code layout}.
     *
     * @throws IllegalArgumentException if {@code blockCount <= 0} or the pool would overflow
     * @throws UnsupportedOperationException if the layout's dtype has no codec yet
     */
    public PagedKvCache(CacheLayout layout, int blockCount) {
        this(layout, blockCount, layout == null ? null : KvCodecs.of(layout.dtype()));
    }

    /**
     * A cache of {@code blockCount} blocks that encodes with {@code codec} (for example a scaled FP8
     * codec from {@link KvCodecs#of(io.pagedkv.dtype.KvDType, float)}).
     *
     * @throws IllegalArgumentException if the codec's dtype is not the layout's
     */
    public PagedKvCache(CacheLayout layout, int blockCount, KvCodec codec) {
        this(layout, blockCount, codec, PrefixHasher.standard());
    }

    /**
     * A cache of {@code blockCount} blocks encoding with {@code codec} and naming prefix blocks with
     * {@code hasher} (tests inject a colliding one).
     */
    public PagedKvCache(CacheLayout layout, int blockCount, KvCodec codec, PrefixHasher hasher) {
        this(layout, blockCount, codec, null, hasher);
    }

    /**
     * A cache of {@code blockCount} FP8 blocks with a separate K and V scale per (layer, KV head): the
     * codec of each (layer, K|V, head) is built once here, so writes and reads allocate nothing.
     *
     * @throws IllegalArgumentException if {@code scales} is null, its shape is not the layout's
     *     {@code layers x kvHeads}, or a scale is not 1 while the dtype is not FP8
     */
    public PagedKvCache(CacheLayout layout, int blockCount, KvScales scales) {
        this(layout, blockCount, layout == null ? null : KvCodecs.of(layout.dtype()), checkScales(layout, scales),
                PrefixHasher.standard());
    }

    private static KvScales checkScales(CacheLayout layout, KvScales scales) {
        if (scales == null) {
            throw new IllegalArgumentException("scales: null (expected: KvScales)");
        }
        if (layout == null) {
            return scales; // the main constructor names the null layout
        }
        int layers = layout.shape().layers();
        int heads = layout.shape().kvHeads();
        if (scales.layers() != layers || scales.kvHeads() != heads) {
            throw new IllegalArgumentException("scales: " + scales.layers() + " layers x " + scales.kvHeads()
                    + " kv heads (expected: " + layers + " x " + heads + " of the layout)");
        }
        boolean fp8 = layout.dtype() == io.pagedkv.dtype.KvDType.FP8_E4M3
                || layout.dtype() == io.pagedkv.dtype.KvDType.FP8_E5M2;
        if (!fp8 && !scales.allOne()) {
            throw new IllegalArgumentException("dtype: " + layout.dtype()
                    + " with per-head scales (expected: fp8_e4m3 or fp8_e5m2; other dtypes take only scale 1)");
        }
        return scales;
    }

    private PagedKvCache(CacheLayout layout, int blockCount, KvCodec codec, KvScales scales, PrefixHasher hasher) {
        this(layout, blockCount, codec, scales, hasher, 0, null, PoolThreading.LOCKED);
    }

    private PagedKvCache(CacheLayout layout, int blockCount, KvCodec codec, KvScales scales, PrefixHasher hasher,
            int blocksPerChunk, FaultInjector faults, PoolThreading threading) {
        if (hasher == null) {
            throw new IllegalArgumentException("hasher: null (expected: a PrefixHasher)");
        }
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: a CacheLayout)");
        }
        if (codec == null || codec.dtype() != layout.dtype()) {
            throw new IllegalArgumentException("codec: " + (codec == null ? "null" : codec.dtype())
                    + " (expected: a codec of the layout's dtype " + layout.dtype() + ")");
        }
        int layers = layout.shape().layers();
        int heads = layout.shape().kvHeads();
        KvCodec[] table = new KvCodec[layers * 2 * heads];
        for (int l = 0; l < layers; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < heads; h++) {
                    table[(l * 2 + kv) * heads + h] = scales == null ? codec
                            : KvCodecs.of(layout.dtype(), scales.scale(l, kv, h));
                }
            }
        }
        this.codec = codec;
        this.codecs = table;
        this.layout = layout;
        BlockPool.Builder pb = BlockPool.builder(blockCount, layout.bytesPerBlock()).faults(faults).threading(threading);
        this.pool = (blocksPerChunk > 0 ? pb.blocksPerChunk(blocksPerChunk) : pb).build();
        this.poolView = new BlockPoolView(pool);
        this.prefix = new PrefixCache(pool, layout.blockSize(), hasher);
        this.owner = null;
        this.group = 0;
    }

    /**
     * Layer group {@code group} of {@code owner}: a cache shaped by the group's layout over the
     * owner's shared pool, pool view and prefix index (the owner closes the pool).
     */
    PagedKvCache(GroupedKvCache owner, int group, CacheLayout groupLayout, BlockPool pool, BlockPoolView poolView,
            PrefixCache prefix) {
        this.owner = owner;
        this.group = group;
        this.layout = groupLayout;
        this.codec = KvCodecs.of(groupLayout.dtype());
        int n = groupLayout.shape().layers() * 2 * groupLayout.shape().kvHeads();
        this.codecs = new KvCodec[n];
        java.util.Arrays.fill(codecs, codec);
        this.pool = pool;
        this.poolView = poolView;
        this.prefix = prefix;
    }

    /**
     * A builder for a cache of {@code blockCount} blocks shaped by {@code layout}, for the optional
     * knobs: codec, per-head FP8 scales, prefix hasher, chunk size and fault injection.
     */
    public static Builder builder(CacheLayout layout, int blockCount) {
        return new Builder(layout, blockCount);
    }

    /**
     * Optional settings of a {@link PagedKvCache}, validated once in {@link #build()}. Not thread-safe;
     * build on one thread.
     */
    public static final class Builder {
        private final CacheLayout layout;
        private final int blockCount;
        private KvCodec codec;
        private KvScales scales;
        private PrefixHasher hasher = PrefixHasher.standard();
        private int blocksPerChunk;
        private FaultInjector faults;
        private PoolThreading threading = PoolThreading.LOCKED;

        private Builder(CacheLayout layout, int blockCount) {
            this.layout = layout;
            this.blockCount = blockCount;
        }

        /** Encodes with {@code codec} (of the layout's dtype); default: the dtype's plain codec. */
        public Builder codec(KvCodec codec) {
            this.codec = codec;
            return this;
        }

        /** Per-(layer, K|V, KV head) FP8 scales; excludes {@link #codec(KvCodec)}. */
        public Builder scales(KvScales scales) {
            this.scales = scales;
            return this;
        }

        /** Names prefix blocks with {@code hasher}; default {@link PrefixHasher#standard()}. */
        public Builder hasher(PrefixHasher hasher) {
            this.hasher = hasher;
            return this;
        }

        /**
         * Reserves memory {@code blocksPerChunk} blocks at a time (default: 64 MiB chunks); tests use
         * small chunks so that chunk commits happen often.
         */
        public Builder blocksPerChunk(int blocksPerChunk) {
            if (blocksPerChunk <= 0) {
                throw new IllegalArgumentException("blocksPerChunk: " + blocksPerChunk + " (expected: > 0)");
            }
            this.blocksPerChunk = blocksPerChunk;
            return this;
        }

        /** Consults {@code faults} on every pool allocation and chunk commit (tests); default none. */
        public Builder faults(FaultInjector faults) {
            this.faults = faults;
            return this;
        }

        /**
         * How the pool lets threads allocate and free (default {@link PoolThreading#LOCKED}):
         * {@link PoolThreading#OWNER} when one scheduler thread appends, forks and closes every
         * sequence (workers may still write and read K/V), {@link PoolThreading#THREAD_CACHES} when
         * many threads do.
         */
        public Builder threading(PoolThreading threading) {
            if (threading == null) {
                throw new IllegalArgumentException("threading: null (expected: a PoolThreading)");
            }
            this.threading = threading;
            return this;
        }

        /**
         * The cache.
         *
         * @throws IllegalArgumentException if the layout is null, {@code blockCount <= 0}, the codec's
         *     dtype is not the layout's, both a codec and scales were given, or the scales do not fit
         */
        public PagedKvCache build() {
            if (codec != null && scales != null) {
                throw new IllegalArgumentException("codec and scales: both set (expected: one; scales build their own codecs)");
            }
            KvCodec c = codec != null ? codec : layout == null ? null : KvCodecs.of(layout.dtype());
            KvScales s = scales == null ? null : checkScales(layout, scales);
            return new PagedKvCache(layout, blockCount, c, s, hasher, blocksPerChunk, faults, threading);
        }
    }

    /**
     * A cache with as many blocks as fit in {@code bytes} bytes.
     *
     * @throws IllegalArgumentException if not even one block fits, or more than
     *     {@link Integer#MAX_VALUE} blocks would
     */
    public static PagedKvCache ofBytes(CacheLayout layout, long bytes) {
        long blocks = bytes / layout.bytesPerBlock();
        if (blocks <= 0 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bytes: " + bytes + " holds " + blocks + " blocks of "
                    + layout.bytesPerBlock() + " bytes (expected: 1 .. " + Integer.MAX_VALUE + " blocks)");
        }
        return new PagedKvCache(layout, (int) blocks);
    }

    /** Opens an empty sequence (no blocks until its first append). */
    public Sequence openSequence() {
        checkOpen();
        Sequence s = new Sequence(this, nextId());
        openSequences.incrementAndGet();
        return s;
    }

    /**
     * Opens a sequence for {@code prompt}, starting it with the longest chain of cached full blocks
     * that match the prompt's leading tokens and {@code keys} (shared, reference count + 1). At most
     * {@code prompt.length - 1} tokens are reused, so the engine always computes the last prompt
     * token. {@link Sequence#reusedTokens()} tells how many tokens to skip; the engine appends and
     * prefills the rest with {@link Sequence#appendTokens(int[], int, int)}. The blocks this sequence
     * commits later are named with the same keys.
     *
     * @param keys salt, whole-sequence key and per-range keys that must also match
     *     ({@link PrefixKeys#NONE} if none)
     * @throws IllegalArgumentException if {@code prompt} or {@code keys} is null
     */
    public Sequence openSequence(int[] prompt, PrefixKeys keys) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: null (expected: token ids)");
        }
        if (keys == null) {
            throw new IllegalArgumentException("keys: null (expected: PrefixKeys, NONE if none)");
        }
        checkOpen();
        Sequence s = new Sequence(this, nextId());
        int reused = s.startFromPrefix(prompt, keys.inGroup(group));
        openSequences.incrementAndGet();
        liveTokens.add(reused);
        reservedSlots.add(reused);
        return s;
    }

    /**
     * Opens a sequence of this layer group from a grouped cache's hit (see {@link Sequence#startFromHit}):
     * model blocks {@code [from, n)}, already retained, in {@code blocks}.
     */
    Sequence openFromHit(int[] prompt, PrefixKeys groupKeys, long[] hashes, PrefixEntry[] chain, int from, int n,
            int[] blocks) {
        Sequence s = new Sequence(this, nextId());
        int held = s.startFromHit(prompt, groupKeys, hashes, chain, from, n, blocks);
        openSequences.incrementAndGet();
        liveTokens.add(held);
        reservedSlots.add(held);
        return s;
    }

    /**
     * {@link #openSequence(int[], PrefixKeys)} with a whole-sequence extra key only.
     *
     * @param extraKey a key that must also match (a LoRA id; 0 if none)
     */
    public Sequence openSequence(int[] prompt, long extraKey) {
        return openSequence(prompt, PrefixKeys.of(extraKey));
    }

    /** {@link #openSequence(int[], PrefixKeys)} with no extra key. */
    public Sequence openSequence(int[] prompt) {
        return openSequence(prompt, PrefixKeys.NONE);
    }

    /**
     * What {@code openSequence(Arrays.copyOf(prompt, length), keys)} would reuse from the prefix cache
     * now, without taking anything: no reference, no LRU move, no counter change (an engine's
     * admission probe, so that a request it then refuses leaves the cache exactly as it was). On the
     * same thread, with no other thread changing the cache in between, the open that follows reuses
     * exactly {@link PrefixProbe#tokens()} tokens.
     *
     * @param length the prompt's tokens are {@code prompt[0 .. length)}
     * @throws IllegalArgumentException if {@code prompt} or {@code keys} is null, or {@code length} is
     *     outside {@code [0, prompt.length]}
     */
    public PrefixProbe probePrefix(int[] prompt, int length, PrefixKeys keys) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: null (expected: token ids)");
        }
        if (length < 0 || length > prompt.length) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0 <= length <= prompt.length "
                    + prompt.length + ")");
        }
        if (keys == null) {
            throw new IllegalArgumentException("keys: null (expected: PrefixKeys, NONE if none)");
        }
        checkOpen();
        int maxTokens = Math.max(0, length - 1);
        PrefixKeys groupKeys = keys.inGroup(group);
        // hashed here, outside the index's lock; the probe reads one hash per block
        long[] hashes = prefix.enabled()
                ? BlockHashes.ofPrompt(prefix.hasher(), prompt, maxTokens, groupKeys, layout.blockSize())
                : BlockHashes.NONE;
        long r = prefix.peek(prompt, maxTokens, groupKeys, hashes);
        int blocks = (int) (r >>> 32);
        return new PrefixProbe(blocks * layout.blockSize(), blocks, (int) r);
    }

    /**
     * Sends every block the prefix cache reclaims, and every block of a sequence preempted in swap mode
     * ({@link Sequence#offloadPrefix()}), to {@code hook} before the block is reused; null stops it.
     */
    public void setPrefixOffload(PrefixOffload hook) {
        checkOpen();
        prefix.setOffload(hook);
    }

    /** Offload hook calls that threw (counted; the reclaim went on). */
    public long prefixOffloadFailures() {
        return prefix.offloadFailures();
    }

    /**
     * Starts restoring the blocks that follow the cached prefix of {@code prompt[0 .. length)} from a
     * tier below the pool: at most {@code maxBlocks} fresh blocks (the prompt's full blocks before its
     * last token, as {@link #openSequence(int[], PrefixKeys)} reuses), taken only while
     * {@code keepFreeBlocks} blocks stay available. See {@link PrefixRestore}.
     *
     * @return null, having changed nothing, when there is nothing to restore or no room
     * @throws IllegalArgumentException if {@code prompt} or {@code keys} is null, {@code length} is
     *     outside {@code [0, prompt.length]}, {@code maxBlocks < 1} or {@code keepFreeBlocks < 0}
     */
    public PrefixRestore beginPrefixRestore(int[] prompt, int length, PrefixKeys keys, int maxBlocks,
            int keepFreeBlocks) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: null (expected: token ids)");
        }
        if (length < 0 || length > prompt.length) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0 <= length <= prompt.length "
                    + prompt.length + ")");
        }
        if (keys == null) {
            throw new IllegalArgumentException("keys: null (expected: PrefixKeys, NONE if none)");
        }
        if (maxBlocks < 1 || keepFreeBlocks < 0) {
            throw new IllegalArgumentException("maxBlocks: " + maxBlocks + ", keepFreeBlocks: " + keepFreeBlocks
                    + " (expected: maxBlocks >= 1, keepFreeBlocks >= 0)");
        }
        checkOpen();
        PrefixKeys groupKeys = keys.inGroup(group);
        // hashed here, outside the index's lock, as for a match: one lookup per block under it
        long[] hashes = prefix.enabled()
                ? BlockHashes.ofPrompt(prefix.hasher(), prompt, Math.max(0, length - 1), groupKeys, layout.blockSize())
                : BlockHashes.NONE;
        return prefix.beginRestore(this, prompt, length, groupKeys, hashes, maxBlocks, keepFreeBlocks);
    }

    /** Drops every cached prefix; cached-unreferenced blocks return to the free list. */
    public void resetPrefixCache() {
        checkOpen();
        prefix.reset();
    }

    /** Turns prefix caching on or off (off drops the index); on by default. */
    public void setPrefixCaching(boolean enabled) {
        checkOpen();
        prefix.setEnabled(enabled);
    }

    /** Prefix-cache counters. */
    public PrefixCacheStats prefixStats() {
        return prefix.stats();
    }

    // ---------------------------------------------------------------------------------------------
    // admission

    /** Whether {@code seq.tryAppend(n)} would succeed now (a snapshot under concurrency). */
    public boolean canAppend(Sequence seq, int n) {
        return seq.blocksToAppend(n) <= availableBlocks();
    }

    /** Free blocks now (cached-unreferenced prefix blocks are not counted; see {@link #stats()}). */
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    /**
     * Blocks a new sequence of {@code tokens} tokens needs.
     *
     * @throws IllegalArgumentException if {@code tokens < 0}
     */
    public int blocksNeeded(long tokens) {
        long b = layout.blocksFor(tokens);
        return b > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) b;
    }

    /** A snapshot of occupancy and counters. */
    public CacheStats stats() {
        int free = pool.freeBlocks();
        int cached = prefix.cachedBlocks();
        long live = liveTokens.sum();
        return new CacheStats(pool.blockCount(), free, pool.blockCount() - free - cached, cached, pool.sharedBlocks(),
                openSequences.get(), live, reservedSlots.sum() - live, copyOnWriteCopies.sum(), layout.blockSize());
    }

    // ---------------------------------------------------------------------------------------------
    // kernel views

    /**
     * Zero-copy, read-only view of the keys of KV head {@code head} in layer {@code layer} for all
     * {@code blockSize} slots of block {@code blockId}: {@link CacheLayout#headRunBytes()} bytes, slot
     * {@code s} at byte {@code s * headBytes}, encoded in the layout's dtype. Only the slots the
     * holding sequence has written ({@link Sequence#written(int)}) hold its K/V; the others may hold a
     * previous owner's bytes. Writes go through {@link Sequence} (or {@link Sequence#writableBlock(int)}).
     * A head is one contiguous run only in {@link BlockOrder#HEAD_RUNS}; a {@link BlockOrder#TOKEN_RUNS}
     * cache refuses the view (read {@link #block} at {@link CacheLayout#offset} instead).
     *
     * @throws IndexOutOfBoundsException if layer or head is out of range
     * @throws IllegalArgumentException if the block id is out of range
     * @throws IllegalStateException if the block is free, the cache is closed, or the layout's order is
     *     {@link BlockOrder#TOKEN_RUNS}
     */
    public MemorySegment keys(int blockId, int layer, int head) {
        requireHeadRuns("keys(blockId, layer, head)");
        return pool.block(blockId).asSlice(layout.runOffset(layer, CacheLayout.K, head), layout.headRunBytes());
    }

    /** Zero-copy, read-only view of the values of one KV head for all slots of a block; see {@link #keys}. */
    public MemorySegment values(int blockId, int layer, int head) {
        requireHeadRuns("values(blockId, layer, head)");
        return pool.block(blockId).asSlice(layout.runOffset(layer, CacheLayout.V, head), layout.headRunBytes());
    }

    /** A per-head run view exists only when a head's slots are contiguous. */
    void requireHeadRuns(String view) {
        if (layout.order() != BlockOrder.HEAD_RUNS) {
            throw new IllegalStateException(view + ": layout order " + layout.order()
                    + " (expected: HEAD_RUNS for a contiguous per-head view; in TOKEN_RUNS read block(blockId) at"
                    + " layout().offset(layer, kv, head, slot), one head's slots " + layout.slotStrideBytes()
                    + " bytes apart)");
        }
    }

    /**
     * All {@code bytesPerBlock} bytes of an allocated block, read-only, for kernels that add
     * {@link CacheLayout#offset} themselves and want no per-call allocation (a slice made once per
     * block); see {@link #keys} for which slots hold the holder's K/V.
     */
    public MemorySegment block(int blockId) {
        return pool.block(blockId);
    }

    // ---------------------------------------------------------------------------------------------
    // accessors

    /** The layout: shape, dtype, block size and the offset formula. */
    public CacheLayout layout() {
        return layout;
    }

    /**
     * The cache-wide codec of the layout's dtype; with per-head {@link KvScales} this is the unscaled
     * codec and {@link #codec(int, int, int)} is the one that writes and reads each head.
     */
    public KvCodec codec() {
        return codec;
    }

    /**
     * The codec that writes and reads (layer, {@link CacheLayout#K} or {@link CacheLayout#V}, head):
     * the same object on every call (no allocation).
     *
     * @throws IndexOutOfBoundsException if layer, kv or head is out of range
     */
    public KvCodec codec(int layer, int kv, int head) {
        int layers = layout.shape().layers();
        int heads = layout.shape().kvHeads();
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0.." + (layers - 1) + ")");
        }
        if (kv != CacheLayout.K && kv != CacheLayout.V) {
            throw new IndexOutOfBoundsException("kv: " + kv + " (expected: 0 (K) or 1 (V))");
        }
        if (head < 0 || head >= heads) {
            throw new IndexOutOfBoundsException("head: " + head + " (expected: 0.." + (heads - 1) + ")");
        }
        return codecs[(layer * 2 + kv) * heads + head];
    }

    /** The per-(layer, K|V, head) codec table, indexed {@code (layer * 2 + kv) * kvHeads + head}; not copied. */
    KvCodec[] codecTable() {
        return codecs;
    }

    /**
     * A read-only view of the pool (counts, reference counts, handles, read-only bytes): sequences own
     * the blocks they name, so an engine cannot allocate, release or write blocks behind their back.
     */
    public BlockPoolView pool() {
        return poolView;
    }

    /** The pool itself, for the package (sequences, tests). */
    BlockPool blockPool() {
        return pool;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases all memory; every sequence becomes unusable (its operations throw
     * {@link IllegalStateException}; its {@code close()} does nothing). Idempotent.
     *
     * @throws IllegalStateException if the memory is still in use by an I/O operation on a block's
     *     buffer: the cache then stays open and usable, and a later {@code close()} frees it
     */
    @Override
    public void close() {
        if (owner != null) {
            owner.close(); // one pool under every group: closing one group closes them all
            return;
        }
        pool.close(); // first: a refused close leaves everything open
        closed = true;
    }

    /** Marks this group cache closed after its owner closed the shared pool. */
    void markClosed() {
        closed = true;
    }

    /** The grouped cache this is a layer group of, or null for a stand-alone cache. */
    GroupedKvCache owner() {
        return owner;
    }

    /** This cache's layer group (0 when stand-alone). */
    int group() {
        return group;
    }

    // ---------------------------------------------------------------------------------------------
    // package-private hooks used by Sequence (prefix caching will hook into allocation here)

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cache: closed (expected: open)");
        }
    }

    long nextId() {
        return nextSequenceId.getAndIncrement();
    }

    /**
     * Blocks an allocation may take now: free ones plus cached-unreferenced prefix blocks, which an
     * allocation reclaims on demand (use this, not {@link #freeBlocks()}, for admission).
     */
    public int availableBlocks() {
        return prefix.available();
    }

    /**
     * Takes {@code n} blocks for a sequence, reclaiming cached prefix blocks if the free ones are too
     * few; all or nothing. One pool call decides when enough blocks are free: if the pool refuses
     * them anyway (a chunk's memory, an injected fault) the answer is no, with nothing reclaimed.
     */
    boolean allocateBlocks(int n, int[] out) {
        if (pool.freeBlocks() >= n) {
            if (pool.allocate(n, out)) {
                if (owner != null) {
                    owner.claimed(group, out, n);
                }
                return true;
            }
            if (pool.freeBlocks() >= n) {
                return false;
            }
        }
        if (prefix.allocate(n, out)) {
            if (owner != null) {
                owner.claimed(group, out, n);
            }
            return true;
        }
        return false;
    }

    void releaseBlock(int blockId) {
        prefix.release(blockId);
    }

    /** Releases a sequence's {@code table[0 .. n)} in one pool call, as if one by one from the last. */
    void releaseBlocks(int[] table, int n) {
        prefix.releaseAll(table, n);
    }

    PrefixCache prefix() {
        return prefix;
    }

    void onAppend(int tokens, int newSlots) {
        liveTokens.add(tokens);
        reservedSlots.add(newSlots);
    }

    void onFork(int tokens, int slots) {
        openSequences.incrementAndGet();
        liveTokens.add(tokens);
        reservedSlots.add(slots);
    }

    void onClose(int tokens, int slots) {
        openSequences.decrementAndGet();
        liveTokens.add(-tokens);
        reservedSlots.add(-slots);
    }

    void onCopyOnWrite() {
        copyOnWriteCopies.increment();
    }
}
