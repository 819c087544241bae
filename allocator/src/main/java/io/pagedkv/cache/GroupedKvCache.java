package io.pagedkv.cache;

/**
 * A paged KV cache whose layers are split into {@link LayerGroups}: one {@link BlockPool} of
 * equal-sized blocks and one prefix index shared by every group, and per group a
 * {@link PagedKvCache} ({@link #group(int)}) shaped by the group's layout, whose sequences hold that
 * group's block tables.
 *
 * <p>This is vLLM's hybrid KV cache manager in small: one page size, so any free block serves any
 * group, and a sequence is one block table per group ({@link GroupedSequence}). A sliding group's
 * blocks that fall entirely outside its window are freed while the global group keeps all of its
 * own, so a hybrid model (Gemma-2, gpt-oss) fits more tokens in the same memory than an all-global
 * layout would. The one-group case is today's {@link PagedKvCache}, which stays the default.
 *
 * <pre>{@code
 * CacheLayout model = CacheLayout.of(ModelPresets.GEMMA_2_9B, KvDType.F16);
 * try (GroupedKvCache cache = new GroupedKvCache(model, LayerGroups.of(model.shape()), 4096)) {
 *     GroupedSequence seq = cache.openSequence();
 *     if (seq.tryAppend(1)) {                                  // all groups or none
 *         for (int layer = 0; layer < 42; layer++) {
 *             seq.write(layer, seq.length() - 1, k, v);        // by model layer
 *         }
 *     }
 *     seq.close();
 * }
 * }</pre>
 *
 * <h2>Invariants</h2>
 * Conservation over the shared pool: {@code free + sum over groups of (usedBlocks(g) + cachedBlocks(g))
 * == blockCount}; a block serves one group at a time (it is recorded as that group's when a group's
 * allocation takes it); a prefix-cache hit never crosses groups (the index keys every block by its
 * group as well as its tokens and {@link PrefixKeys}); a hit of {@code h} tokens holds every block
 * below {@code h} in a global group and exactly the blocks covering the window of position {@code h}
 * in a sliding group (vLLM's hybrid rule; a sliding group's blocks are indexed by chained hash alone,
 * so they stay findable after the blocks before them are released and reclaimed).
 *
 * <h2>Threading</h2>
 * As {@link PagedKvCache}: the group caches are thread-safe, allocation and reclaim are serialized by
 * the shared pool and prefix index. {@link #usedBlocks(int)} and {@link #cachedBlocks(int)} scan the
 * pool: exact when no other thread changes the cache, a snapshot otherwise. Closing the grouped cache
 * or any group cache closes all of them.
 */
public final class GroupedKvCache implements AutoCloseable {

    private final CacheLayout modelLayout;
    private final CacheLayout groupLayout;
    private final LayerGroups groups;
    private final BlockPool pool;
    private final BlockPoolView poolView;
    private final PrefixCache prefix;
    private final PagedKvCache[] caches;
    /** Per group its window in tokens, 0 for a global group. */
    private final int[] windows;
    /** The group each block was last allocated to (plain writes: a statistic, exact when quiescent). */
    private final int[] groupOfBlock;
    private volatile boolean closed;

    /**
     * A cache of {@code blockCount} blocks of {@code groups.groupLayout(modelLayout)}'s size.
     *
     * @throws IllegalArgumentException if an argument is null, the layout's layers are not the groups'
     *     model layers, or {@code blockCount <= 0}
     */
    public GroupedKvCache(CacheLayout modelLayout, LayerGroups groups, int blockCount) {
        this(modelLayout, groups, blockCount, null);
    }

    /** As the public constructor, with {@code faults} consulted on every pool allocation (tests). */
    GroupedKvCache(CacheLayout modelLayout, LayerGroups groups, int blockCount, FaultInjector faults) {
        if (modelLayout == null) {
            throw new IllegalArgumentException("modelLayout: null (expected: a CacheLayout)");
        }
        if (groups == null) {
            throw new IllegalArgumentException("groups: null (expected: LayerGroups)");
        }
        this.modelLayout = modelLayout;
        this.groups = groups;
        this.groupLayout = groups.groupLayout(modelLayout);
        this.pool = BlockPool.builder(blockCount, groupLayout.bytesPerBlock()).faults(faults).build();
        this.poolView = new BlockPoolView(pool);
        this.windows = new int[groups.groupCount()];
        boolean[] byHash = new boolean[windows.length];
        for (int g = 0; g < windows.length; g++) {
            windows[g] = groups.window(g);
            byHash[g] = windows[g] > 0;
        }
        this.prefix = new PrefixCache(pool, groupLayout.blockSize(), PrefixHasher.standard(), byHash);
        this.groupOfBlock = new int[blockCount];
        this.caches = new PagedKvCache[groups.groupCount()];
        for (int g = 0; g < caches.length; g++) {
            caches[g] = new PagedKvCache(this, g, groupLayout, pool, poolView, prefix);
        }
    }

    /**
     * A grouped cache with as many blocks as fit in {@code bytes} bytes.
     *
     * @throws IllegalArgumentException if not even one block fits, or more than
     *     {@link Integer#MAX_VALUE} would
     */
    public static GroupedKvCache ofBytes(CacheLayout modelLayout, LayerGroups groups, long bytes) {
        long per = groups.groupLayout(modelLayout).bytesPerBlock();
        long blocks = bytes / per;
        if (blocks <= 0 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bytes: " + bytes + " holds " + blocks + " blocks of " + per
                    + " bytes (expected: 1 .. " + Integer.MAX_VALUE + " blocks)");
        }
        return new GroupedKvCache(modelLayout, groups, (int) blocks);
    }

    /** Opens an empty grouped sequence: one empty sequence per group. */
    public GroupedSequence openSequence() {
        checkOpen();
        Sequence[] seqs = new Sequence[caches.length];
        for (int g = 0; g < caches.length; g++) {
            seqs[g] = caches[g].openSequence();
        }
        return new GroupedSequence(this, seqs, new int[caches.length], 0);
    }

    /** {@link #openSequence(int[], PrefixKeys)} with no extra key. */
    public GroupedSequence openSequence(int[] prompt) {
        return openSequence(prompt, PrefixKeys.NONE);
    }

    /**
     * Opens a grouped sequence for {@code prompt}, reusing the longest prefix the groups have cached
     * under vLLM's hybrid rule: a hit of {@code h} tokens (a multiple of the block size, at most
     * {@code prompt.length - 1}) needs every block below {@code h} in a global group, but in a sliding
     * group of window {@code W} only the blocks holding positions {@code max(0, h - W + 1) .. h - 1},
     * those the query at {@code h} (the first token not reused) attends to. A sliding group's
     * sequence then opens from those blocks alone: {@link GroupedSequence#firstPosition(int)} is
     * {@code floor(max(0, h - W + 1) / blockSize) * blockSize}. The lookup and the references are
     * taken under the prefix index's lock in one go (nothing is taken beyond the hit).
     * {@link GroupedSequence#reusedTokens()} tells the engine how many tokens to skip.
     *
     * @throws IllegalArgumentException if {@code prompt} or {@code keys} is null
     */
    public GroupedSequence openSequence(int[] prompt, PrefixKeys keys) {
        checkPrompt(prompt, keys);
        checkOpen();
        int n = caches.length;
        int blockSize = groupLayout.blockSize();
        int maxTokens = Math.max(0, prompt.length - 1);
        PrefixKeys[] groupKeys = groupKeys(keys);
        long[][] hashes = hashes(prompt, maxTokens, groupKeys); // outside the index's lock
        PrefixEntry[][] chains = new PrefixEntry[n][maxTokens / blockSize + 1];
        int[][] blocks = new int[n][Math.max(4, maxTokens / blockSize + 1)];
        int k = prefix.matchGroups(prompt, maxTokens, groupKeys, hashes, windows, true, chains, blocks, null);
        Sequence[] seqs = new Sequence[n];
        int[] first = new int[n];
        for (int g = 0; g < n; g++) {
            int from = PrefixCache.firstHitBlock(windows[g], k, blockSize);
            first[g] = from * blockSize;
            seqs[g] = caches[g].openFromHit(prompt, groupKeys[g], hashes[g], chains[g], from, k, blocks[g]);
        }
        return new GroupedSequence(this, seqs, first, k * blockSize);
    }

    /**
     * What {@code openSequence(Arrays.copyOf(prompt, length), keys)} would reuse now, without taking
     * anything (no reference, no LRU move, no counter change): an engine's admission probe. On the same
     * thread, with no other thread changing the cache in between, the open that follows reuses exactly
     * {@link PrefixProbe#tokens()} tokens.
     *
     * @return the hit's tokens; {@link PrefixProbe#blocks()} and {@link PrefixProbe#reclaimableBlocks()}
     *     summed over the groups (a sliding group counts only its window's blocks of the hit)
     * @throws IllegalArgumentException if {@code prompt} or {@code keys} is null, or {@code length} is
     *     outside {@code [0, prompt.length]}
     */
    public PrefixProbe probePrefix(int[] prompt, int length, PrefixKeys keys) {
        checkPrompt(prompt, keys);
        if (length < 0 || length > prompt.length) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0 <= length <= prompt.length "
                    + prompt.length + ")");
        }
        checkOpen();
        int n = caches.length;
        int blockSize = groupLayout.blockSize();
        int maxTokens = Math.max(0, length - 1);
        PrefixKeys[] groupKeys = groupKeys(keys);
        long[][] hashes = hashes(prompt, maxTokens, groupKeys);
        PrefixEntry[][] chains = new PrefixEntry[n][maxTokens / blockSize + 1];
        int[] inLru = new int[n];
        int k = prefix.matchGroups(prompt, maxTokens, groupKeys, hashes, windows, false, chains, null, inLru);
        int blocks = 0;
        int reclaimable = 0;
        for (int g = 0; g < n; g++) {
            blocks += k - PrefixCache.firstHitBlock(windows[g], k, blockSize);
            reclaimable += inLru[g];
        }
        return new PrefixProbe(k * blockSize, blocks, reclaimable);
    }

    private static void checkPrompt(int[] prompt, PrefixKeys keys) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt: null (expected: token ids)");
        }
        if (keys == null) {
            throw new IllegalArgumentException("keys: null (expected: PrefixKeys, NONE if none)");
        }
    }

    private PrefixKeys[] groupKeys(PrefixKeys keys) {
        PrefixKeys[] k = new PrefixKeys[caches.length];
        for (int g = 0; g < k.length; g++) {
            k[g] = keys.inGroup(g);
        }
        return k;
    }

    /** Per group, the chained hashes of the full blocks of {@code prompt[0 .. maxTokens)} (none while caching is off). */
    private long[][] hashes(int[] prompt, int maxTokens, PrefixKeys[] groupKeys) {
        long[][] h = new long[groupKeys.length][];
        boolean on = prefix.enabled();
        for (int g = 0; g < h.length; g++) {
            h[g] = on ? BlockHashes.ofPrompt(prefix.hasher(), prompt, maxTokens, groupKeys[g], groupLayout.blockSize())
                    : BlockHashes.NONE;
        }
        return h;
    }

    /** The group cache of layer group {@code group}: its layout, its sequences, its kernel views. */
    public PagedKvCache group(int group) {
        if (group < 0 || group >= caches.length) {
            throw new IndexOutOfBoundsException("group: " + group + " (expected: 0 <= group < " + caches.length + ")");
        }
        return caches[group];
    }

    /** The layer groups. */
    public LayerGroups groups() {
        return groups;
    }

    /** The model's layout (all layers), as given. */
    public CacheLayout modelLayout() {
        return modelLayout;
    }

    /** The layout of one group (every group has it): {@code groups().groupLayout(modelLayout())}. */
    public CacheLayout groupLayout() {
        return groupLayout;
    }

    /** Blocks of the shared pool. */
    public int blockCount() {
        return pool.blockCount();
    }

    /** Free blocks of the shared pool now. */
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    /** Blocks an allocation of any group may take now: free plus cached-unreferenced. */
    public int availableBlocks() {
        return prefix.available();
    }

    /** Cached-unreferenced blocks of every group (the shared LRU). */
    public int cachedBlocks() {
        return prefix.cachedBlocks();
    }

    /**
     * Blocks of group {@code group} that open sequences hold (allocated to the group and not merely
     * cached). Scans the pool.
     */
    public int usedBlocks(int group) {
        group(group);
        int n = 0;
        for (int id = 0; id < groupOfBlock.length; id++) {
            if (groupOfBlock[id] == group && pool.refCount(id) > 0 && !prefix.isCachedUnreferenced(id)) {
                n++;
            }
        }
        return n;
    }

    /** Cached-unreferenced blocks of group {@code group}. Scans the pool. */
    public int cachedBlocks(int group) {
        group(group);
        int n = 0;
        for (int id = 0; id < groupOfBlock.length; id++) {
            if (groupOfBlock[id] == group && pool.refCount(id) > 0 && prefix.isCachedUnreferenced(id)) {
                n++;
            }
        }
        return n;
    }

    /** The group block {@code blockId} was last allocated to (meaningful while it is allocated). */
    public int groupOfBlock(int blockId) {
        if (blockId < 0 || blockId >= groupOfBlock.length) {
            throw new IndexOutOfBoundsException("blockId: " + blockId + " (expected: 0 <= blockId < "
                    + groupOfBlock.length + ")");
        }
        return groupOfBlock[blockId];
    }

    /** A read-only view of the shared pool. */
    public BlockPoolView pool() {
        return poolView;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases the shared pool; every group cache and sequence becomes unusable. Idempotent.
     *
     * @throws IllegalStateException if a block's memory is still in use by an I/O operation (then
     *     everything stays open)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        pool.close();
        closed = true;
        for (PagedKvCache c : caches) {
            c.markClosed();
        }
    }

    @Override
    public String toString() {
        return "GroupedKvCache[" + groups + ", blocks=" + pool.blockCount() + ", free=" + pool.freeBlocks() + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // package hooks

    /** Records {@code ids[0 .. n)} as allocated to {@code group} (called by the group cache). */
    void claimed(int group, int[] ids, int n) {
        for (int i = 0; i < n; i++) {
            groupOfBlock[ids[i]] = group;
        }
    }

    /**
     * Whether a sequence's release of block {@code blockId} makes it available to allocations: held by
     * that sequence alone (it goes back to the free list), or by the sequence and the prefix index (it
     * joins the LRU of cached blocks). A block another sequence shares stays held.
     */
    boolean becomesAvailable(int blockId) {
        int rc = pool.refCount(blockId);
        return rc == 1 || (rc == 2 && prefix.isIndexed(blockId));
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cache: closed (expected: open)");
        }
    }
}
