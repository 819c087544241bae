package io.pagedkv.cache;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * Automatic prefix caching: full, written blocks are named by a chained hash (see
 * {@link PrefixHasher}) so that a later prompt with the same prefix reuses them.
 *
 * <h2>Algorithm</h2>
 * The index maps a hash to a chain of {@link PrefixEntry}s (collisions chain; a hit verifies the
 * parent entry, the salt, the key, the range keys ({@link PrefixKeys}) and every token id). The index holds one pool reference on each
 * indexed block, so a block that sequences no longer reference stays allocated with reference count
 * 1: it is <em>cached-unreferenced</em> and sits in an LRU list. An allocation that finds too few free
 * blocks reclaims LRU blocks oldest first; reclaiming an entry also unlinks its descendants, so no
 * chain lookup can reach a reclaimed block. A sequence releases blocks last-first on close, so a
 * prefix's parents are younger in the LRU than its children and are reclaimed after them.
 *
 * <h2>Sliding-window groups: entries found by hash alone</h2>
 * A {@link GroupedKvCache} names the layer groups whose window lets a hit skip the blocks before it
 * ({@code byHashGroups}). Their entries have no parent entry: a lookup finds block {@code i} by its
 * chained hash, verifying its own token ids and keys and trusting the 64-bit chain for the blocks
 * before it (as vLLM's block hashes do); a commit indexes a block whether or not the blocks before it
 * are still indexed ({@link #commitByHash}); and reclaiming an entry drops no other, because the early
 * blocks a sliding group released are the oldest in the LRU and go first, while the window's blocks
 * must stay findable. {@link #matchGroups} applies vLLM's hybrid hit rule over every group at once.
 * Every other group's chain walk is as above.
 *
 * <p>Conservation: {@code free + used + cached == total}, with cached = LRU size.
 *
 * <h2>Tiers below the pool</h2>
 * With a {@link PrefixOffload} set, every entry a reclaim drops is offered to it (once) while its block
 * still holds the K/V, before the block is handed out or freed. {@link #beginRestore} and
 * {@link #commitRestored} let a restore hang fresh blocks, filled from a tier, below a prompt's cached
 * chain (see {@link PrefixRestore}).
 *
 * <h2>Threading</h2>
 * All state is guarded by this object's monitor; lock order is sequence, then this, then the pool.
 */
final class PrefixCache {

    private final BlockPool pool;
    private final int blockSize;
    private final PrefixHasher hasher;
    private final Long2ObjectHashMap<PrefixEntry> index = new Long2ObjectHashMap<>();
    private final PrefixEntry[] entryOfBlock;
    /** Per layer group, whether its entries are found by chained hash alone; null: none is. */
    private final boolean[] byHashGroups;
    /** LRU sentinel: {@code lru.lruNext} is the oldest, {@code lru.lruPrev} the youngest. */
    private final PrefixEntry lru = new PrefixEntry(0, null, new int[0], 0, 0, null, -1);
    /** Work stack of {@link #drop}; grown as needed, reused (guarded by this). */
    private PrefixEntry[] dropStack = new PrefixEntry[16];

    private volatile boolean enabled = true;
    private int lruSize;
    private int indexed;
    private long queries;
    private long hits;
    private long queryTokens;
    private long hitTokens;
    private long reclaimed;
    /** Where reclaimed blocks go before reuse (null: nowhere); see {@link PrefixOffload}. */
    private PrefixOffload offload;
    private long offloadFailures;

    PrefixCache(BlockPool pool, int blockSize, PrefixHasher hasher) {
        this(pool, blockSize, hasher, null);
    }

    /** @param byHashGroups per layer group, whether its entries are found by hash alone (null: none; kept, not copied) */
    PrefixCache(BlockPool pool, int blockSize, PrefixHasher hasher, boolean[] byHashGroups) {
        this.byHashGroups = byHashGroups;
        this.pool = pool;
        this.blockSize = blockSize;
        this.hasher = hasher;
        this.entryOfBlock = new PrefixEntry[pool.blockCount()];
        lru.lruNext = lru;
        lru.lruPrev = lru;
    }

    boolean enabled() {
        return enabled;
    }

    /** Whether layer group {@code group}'s entries are found by chained hash alone (a sliding-window group). */
    boolean byHash(int group) {
        return byHashGroups != null && group < byHashGroups.length && byHashGroups[group];
    }

    /** The hasher that names blocks; callers hash with it outside this object's lock ({@link BlockHashes}). */
    PrefixHasher hasher() {
        return hasher;
    }

    /** Turns caching on or off; turning it off drops the whole index. */
    synchronized void setEnabled(boolean on) {
        if (!on) {
            reset();
        }
        enabled = on;
    }

    // ---------------------------------------------------------------------------------------------
    // lookup

    /**
     * Finds the longest chain of cached blocks matching {@code tokens[0 .. maxTokens)}, retains each
     * block for the caller and fills {@code chainOut}/{@code blocksOut}. {@code hashes} holds the
     * blocks' chained hashes ({@link BlockHashes#ofPrompt}, computed before the call, outside the lock):
     * one table lookup per block.
     *
     * @return the number of blocks reused
     */
    synchronized int match(int[] tokens, int maxTokens, PrefixKeys keys, long[] hashes, PrefixEntry[] chainOut,
            int[] blocksOut) {
        queries++;
        queryTokens += tokens.length;
        if (!enabled) {
            return 0;
        }
        int full = Math.min(maxTokens / blockSize, hashes.length); // shorter if hashed while caching was off
        PrefixEntry parent = null;
        int n = 0;
        while (n < full) {
            PrefixEntry e = find(hashes[n], parent, tokens, n, keys);
            if (e == null) {
                break;
            }
            if (e.inLru()) {
                unlinkLru(e);
            }
            pool.retain(e.blockId);
            chainOut[n] = e;
            blocksOut[n] = e.blockId;
            parent = e;
            n++;
        }
        if (n > 0) {
            hits++;
            hitTokens += (long) n * blockSize;
        }
        return n;
    }

    /**
     * What {@link #match} would reuse for {@code tokens[0 .. maxTokens)} now, without its side effects:
     * no reference taken, no LRU move, no counter changed (an engine's admission probe; a refused
     * request must leave the cache exactly as it was).
     *
     * @param hashes the blocks' chained hashes, as for {@link #match}
     * @return the matching blocks in the high 32 bits, and how many of them sit in the LRU
     *     (cached-unreferenced: reusing them takes them out of {@link #available()}) in the low 32 bits
     */
    synchronized long peek(int[] tokens, int maxTokens, PrefixKeys keys, long[] hashes) {
        if (!enabled) {
            return 0;
        }
        int full = Math.min(maxTokens / blockSize, hashes.length); // shorter if hashed while caching was off
        PrefixEntry parent = null;
        int n = 0;
        int inLru = 0;
        while (n < full) {
            PrefixEntry e = find(hashes[n], parent, tokens, n, keys);
            if (e == null) {
                break;
            }
            if (e.inLru()) {
                inLru++;
            }
            parent = e;
            n++;
        }
        return ((long) n << 32) | inLru;
    }

    private PrefixEntry find(long h, PrefixEntry parent, int[] tokens, int block, PrefixKeys keys) {
        if (byHashGroups != null && byHash(keys.group())) {
            return findByHash(h, tokens, block, keys);
        }
        for (PrefixEntry e = index.get(h); e != null; e = e.nextSameHash) {
            if (e.matches(parent, tokens, block * blockSize, keys, block)) {
                return e;
            }
        }
        return null;
    }

    /** Block {@code block} of {@code tokens} under {@code keys} by its chained hash {@code h}, whatever its parent. */
    private PrefixEntry findByHash(long h, int[] tokens, int block, PrefixKeys keys) {
        for (PrefixEntry e = index.get(h); e != null; e = e.nextSameHash) {
            if (e.matchesByHash(tokens, block * blockSize, keys, block)) {
                return e;
            }
        }
        return null;
    }

    /**
     * The first block a sliding group of window {@code window} must hold for a hit of {@code blocks}
     * blocks: the one holding position {@code max(0, h - window + 1)}, the first the query at
     * {@code h = blocks * blockSize} attends to ({@code blocks} itself when the window is 1). 0 for a
     * global group ({@code window == 0}).
     */
    static int firstHitBlock(int window, int blocks, int blockSize) {
        return window == 0 ? 0 : (int) (Math.max(0L, (long) blocks * blockSize - window + 1) / blockSize);
    }

    /**
     * vLLM's hybrid prefix-hit rule over the layer groups of a {@link GroupedKvCache}: the largest hit of
     * {@code k} blocks ({@code k * blockSize <= maxTokens}) for which every global group
     * ({@code windows[g] == 0}) has the chain of blocks {@code 0 .. k - 1}, and every sliding group finds,
     * by chained hash alone, blocks {@link #firstHitBlock firstHitBlock(window, k)} {@code .. k - 1}: those
     * covering the window of the query at position {@code k * blockSize}.
     *
     * <p>With {@code take}, retains each group's blocks of the hit for the caller (out of the LRU), puts
     * them in {@code blocksOut[g][0 ..)} and their entries in {@code chainOut[g]} at their model block
     * index (every other slot null), and counts one query per group. Without it nothing changes (no
     * reference, no LRU move, no counter): {@code lruOut[g]} gets how many of group {@code g}'s blocks of
     * the hit are cached-unreferenced.
     *
     * @param hashes per group, the prompt's chained block hashes under {@code keys[g]} ({@link BlockHashes#ofPrompt})
     * @param chainOut per group, room for {@code maxTokens / blockSize} entries (scratch as well as output)
     * @return {@code k}, the blocks of the hit (its tokens: {@code k * blockSize})
     */
    synchronized int matchGroups(int[] tokens, int maxTokens, PrefixKeys[] keys, long[][] hashes, int[] windows,
            boolean take, PrefixEntry[][] chainOut, int[][] blocksOut, int[] lruOut) {
        int groups = keys.length;
        if (take) {
            queries += groups;
            queryTokens += (long) groups * tokens.length;
        }
        if (!enabled) {
            return 0;
        }
        int limit = maxTokens / blockSize;
        for (int g = 0; g < groups; g++) {
            limit = Math.min(limit, hashes[g].length); // shorter if hashed while caching was off
        }
        for (int g = 0; g < groups && limit > 0; g++) { // the global chains bound the hit
            if (windows[g] == 0) {
                PrefixEntry parent = null;
                int n = 0;
                while (n < limit) {
                    PrefixEntry e = find(hashes[g][n], parent, tokens, n, keys[g]);
                    if (e == null) {
                        break;
                    }
                    chainOut[g][n] = e;
                    parent = e;
                    n++;
                }
                limit = n;
            }
        }
        for (int g = 0; g < groups; g++) {
            if (windows[g] > 0) {
                for (int b = 0; b < limit; b++) {
                    chainOut[g][b] = findByHash(hashes[g][b], tokens, b, keys[g]);
                }
            }
        }
        int k = limit;
        search:
        while (k > 0) {
            for (int g = 0; g < groups; g++) {
                if (windows[g] > 0) {
                    int lo = firstHitBlock(windows[g], k, blockSize);
                    for (int b = k - 1; b >= lo; b--) {
                        if (chainOut[g][b] == null) {
                            k = b; // every hit above b needs block b (the first needed block never decreases)
                            continue search;
                        }
                    }
                }
            }
            break;
        }
        for (int g = 0; g < groups; g++) {
            int lo = firstHitBlock(windows[g], k, blockSize);
            PrefixEntry[] chain = chainOut[g];
            int inLru = 0;
            for (int b = lo; b < k; b++) {
                PrefixEntry e = chain[b];
                if (e.inLru()) {
                    inLru++;
                    if (take) {
                        unlinkLru(e);
                    }
                }
                if (take) {
                    pool.retain(e.blockId);
                    blocksOut[g][b - lo] = e.blockId;
                }
            }
            java.util.Arrays.fill(chain, 0, lo, null);
            java.util.Arrays.fill(chain, k, chain.length, null);
            if (take && k > lo) {
                hits++;
                hitTokens += (long) (k - lo) * blockSize;
            }
            if (lruOut != null) {
                lruOut[g] = inLru;
            }
        }
        return k;
    }

    // ---------------------------------------------------------------------------------------------
    // commit

    /**
     * Indexes the full blocks {@code [chainLength, fullBlocks)} of a sequence (its K/V written), named by
     * {@code hashes[i]}, the sequence's chained block hashes (computed as its tokens were appended). A
     * block whose prefix is already indexed under another block is not indexed twice; the existing
     * entry continues the chain.
     *
     * <p>Entries from {@code adoptedFrom} on may name blocks the sequence does not hold (it adopted
     * an entry already indexed for the same prefix and tokens); if one of them was reclaimed since, the
     * chain restarts there, so the sequence's own block at that index gets indexed instead.
     *
     * @return the new chain length (stops early at a chain broken by reclaim or reset)
     */
    synchronized int commit(int[] table, int[] tokens, PrefixKeys keys, long[] hashes, PrefixEntry[] chain,
            int chainLength, int fullBlocks, int adoptedFrom) {
        if (!enabled) {
            return chainLength;
        }
        int i = chainLength;
        for (int j = adoptedFrom; j < chainLength; j++) {
            if (!chain[j].live) {
                i = j;
                break;
            }
        }
        while (i < fullBlocks) {
            PrefixEntry parent = i == 0 ? null : chain[i - 1];
            if (parent != null && !parent.live) {
                break;
            }
            long h = hashes[i];
            PrefixEntry e = find(h, parent, tokens, i, keys);
            if (e == null) {
                int block = table[i];
                if (entryOfBlock[block] != null) {
                    break; // the block already names another prefix: never index it twice
                }
                int[] copy = new int[blockSize];
                System.arraycopy(tokens, i * blockSize, copy, 0, blockSize);
                e = new PrefixEntry(h, parent, parent == null ? PrefixHasher.ROOT : parent.hash, copy, keys.salt(),
                        keys.key(), keys.rangeKeysOf(i, blockSize), keys.group(), block);
                pool.retain(block);
                e.nextSameHash = index.get(h);
                index.put(h, e);
                entryOfBlock[block] = e;
                if (parent != null) {
                    parent.addChild(e);
                }
                indexed++;
            }
            chain[i] = e;
            i++;
        }
        return i;
    }

    /**
     * {@link #commit} for a group whose entries are found by hash alone ({@link #byHash}): indexes model
     * blocks {@code [max(chainLength, tableBase), fullBlocks)}, block {@code i} being {@code table[i - tableBase]}
     * (a sliding group has released the blocks below {@code tableBase}), each under its chained hash
     * {@code hashes[i]} with no parent entry, so a block is indexed whether or not the blocks before it still
     * are. A block whose hash and tokens are already indexed under another block adopts that entry; from
     * {@code adoptedFrom} on, an adopted entry reclaimed since is indexed again from the sequence's own block.
     *
     * @return the new chain length (stops early at a block that already names another prefix)
     */
    synchronized int commitByHash(int[] table, int tableBase, int[] tokens, PrefixKeys keys, long[] hashes,
            PrefixEntry[] chain, int chainLength, int fullBlocks, int adoptedFrom) {
        if (!enabled) {
            return chainLength;
        }
        int i = Math.max(chainLength, tableBase);
        for (int j = Math.max(adoptedFrom, tableBase); j < chainLength; j++) {
            if (!chain[j].live) {
                i = j;
                break;
            }
        }
        while (i < fullBlocks) {
            long h = hashes[i];
            PrefixEntry e = findByHash(h, tokens, i, keys);
            if (e == null) {
                int block = table[i - tableBase];
                if (entryOfBlock[block] != null) {
                    break; // the block already names another prefix: never index it twice
                }
                int[] copy = new int[blockSize];
                System.arraycopy(tokens, i * blockSize, copy, 0, blockSize);
                e = new PrefixEntry(h, null, i == 0 ? PrefixHasher.ROOT : hashes[i - 1], copy, keys.salt(), keys.key(),
                        keys.rangeKeysOf(i, blockSize), keys.group(), block);
                pool.retain(block);
                e.nextSameHash = index.get(h);
                index.put(h, e);
                entryOfBlock[block] = e;
                indexed++;
            }
            chain[i] = e;
            i++;
        }
        return i;
    }

    // ---------------------------------------------------------------------------------------------
    // release and reclaim

    /** A sequence drops its reference to {@code blockId}; an indexed block left only to the index joins the LRU. */
    synchronized void release(int blockId) {
        pool.release(blockId);
        PrefixEntry e = entryOfBlock[blockId];
        if (e != null && pool.refCount(blockId) == 1 && !e.inLru()) {
            linkYoungest(e);
        }
    }

    /**
     * A sequence drops its references to {@code ids[0 .. n)} (distinct blocks) in one pool call; the
     * indexed ones left only to the index join the LRU as if released one by one from the last (so a
     * prefix's parents end up younger than its children).
     */
    synchronized void releaseAll(int[] ids, int n) {
        pool.releaseAll(ids, n);
        for (int i = n - 1; i >= 0; i--) {
            PrefixEntry e = entryOfBlock[ids[i]];
            if (e != null && !e.inLru() && pool.refCount(ids[i]) == 1) {
                linkYoungest(e);
            }
        }
    }

    /** Blocks an allocation can get: free plus reclaimable. */
    synchronized int available() {
        return pool.freeBlocks() + lruSize;
    }

    /**
     * Allocates {@code n} blocks: free ones first, then cached-unreferenced ones, oldest first. All or
     * nothing, and nothing is reclaimed unless the whole request succeeds: the pool's share is taken
     * first, then the missing blocks are taken over from the LRU directly (the index's reference
     * becomes the caller's), so no other thread can take a reclaimed block in between.
     *
     * @return {@code false} (nothing changed) if free plus reclaimable blocks are too few, or the pool
     *     refused blocks it had free (a chunk's memory could not be reserved, or an injected fault)
     */
    synchronized boolean allocate(int n, int[] out) {
        while (true) {
            int free = pool.freeBlocks();
            int take = Math.max(0, n - free);
            if (take > lruSize) {
                CacheEvents.poolExhausted(n, free, pool.blockCount());
                return false;
            }
            int fromPool = n - take;
            if (fromPool > 0 && !pool.allocate(fromPool, out)) {
                if (pool.freeBlocks() >= fromPool) {
                    return false; // refused although free: out of memory for a chunk, or a fault
                }
                continue; // another thread took free blocks meanwhile: count again
            }
            int got = fromPool;
            while (got < n) { // cannot fail: take <= lruSize, and each drop takes at least the LRU head
                got = drop(lru.lruNext, out, got, n, true);
            }
            return true;
        }
    }

    /**
     * Drops an entry and all its descendants from the index (iteratively: a chain may be a whole
     * long prompt). An entry the index alone held (in the LRU) is handed to the caller in
     * {@code out[got ..)} while {@code got < n}; every other dropped entry releases the index's
     * reference.
     *
     * @return the new {@code got}
     */
    private int drop(PrefixEntry root, int[] out, int got, int n, boolean reclaiming) {
        int depth = 0;
        dropStack[depth++] = root;
        while (depth > 0) {
            PrefixEntry e = dropStack[--depth];
            dropStack[depth] = null;
            if (e.children != null) {
                for (PrefixEntry c : e.children) {
                    if (c.live) {
                        if (depth == dropStack.length) {
                            dropStack = java.util.Arrays.copyOf(dropStack, depth * 2);
                        }
                        dropStack[depth++] = c;
                    }
                }
                e.children = null;
            }
            if (reclaiming) {
                offer(e); // the block still holds the entry's K/V: it is reused only after this returns
            }
            boolean onlyIndex = e.inLru();
            unlinkFromIndex(e);
            if (onlyIndex && got < n) {
                out[got++] = e.blockId; // reference count 1 changes hands: never on the free list
                reclaimed++;
            } else if (pool.release(e.blockId) && reclaiming) {
                reclaimed++;
            }
        }
        return got;
    }

    private void unlinkFromIndex(PrefixEntry e) {
        e.live = false;
        if (e.inLru()) {
            unlinkLru(e);
        }
        PrefixEntry head = index.get(e.hash);
        if (head == e) {
            if (e.nextSameHash == null) {
                index.remove(e.hash);
            } else {
                index.put(e.hash, e.nextSameHash);
            }
        } else {
            for (PrefixEntry p = head; p != null; p = p.nextSameHash) {
                if (p.nextSameHash == e) {
                    p.nextSameHash = e.nextSameHash;
                    break;
                }
            }
        }
        e.nextSameHash = null;
        entryOfBlock[e.blockId] = null;
        indexed--;
    }

    /** Drops the whole index: cached-unreferenced blocks return to the free list. */
    synchronized void reset() {
        for (int b = 0; b < entryOfBlock.length; b++) {
            PrefixEntry e = entryOfBlock[b];
            if (e != null && e.live) {
                drop(e, null, 0, 0, false);
            }
        }
    }

    private void linkYoungest(PrefixEntry e) {
        PrefixEntry last = lru.lruPrev;
        e.lruPrev = last;
        e.lruNext = lru;
        last.lruNext = e;
        lru.lruPrev = e;
        lruSize++;
    }

    private void unlinkLru(PrefixEntry e) {
        e.lruPrev.lruNext = e.lruNext;
        e.lruNext.lruPrev = e.lruPrev;
        e.lruPrev = null;
        e.lruNext = null;
        lruSize--;
    }

    // ---------------------------------------------------------------------------------------------
    // queries

    synchronized int cachedBlocks() {
        return lruSize;
    }

    /** The token ids an indexed block was cached for, or null if it is not indexed (for tests). */
    synchronized int[] tokensOf(int blockId) {
        PrefixEntry e = entryOfBlock[blockId];
        return e == null ? null : e.tokens.clone();
    }

    /** Whether block {@code blockId} is cached-unreferenced (held by the index alone, in the LRU). */
    synchronized boolean isCachedUnreferenced(int blockId) {
        PrefixEntry e = entryOfBlock[blockId];
        return e != null && e.inLru();
    }

    synchronized boolean isIndexed(int blockId) {
        return entryOfBlock[blockId] != null;
    }

    synchronized PrefixCacheStats stats() {
        return new PrefixCacheStats(enabled, queries, hits, queryTokens, hitTokens, indexed, lruSize, reclaimed);
    }

    // ---------------------------------------------------------------------------------------------
    // tiers below the pool: offload on reclaim, restore on a prefix miss (docs/tiers.md)

    synchronized void setOffload(PrefixOffload hook) {
        this.offload = hook;
    }

    synchronized long offloadFailures() {
        return offloadFailures;
    }

    /** Hands a live entry's block to the offload hook unless it took it before; a throwing hook is counted, never propagated. */
    private void offer(PrefixEntry e) {
        PrefixOffload hook = offload;
        if (hook == null || e.offloaded) {
            return;
        }
        try { // a dropped copy (full queue) may be offered again by a later swap preemption
            e.offloaded = hook.offload(e.hash, e.parentHash, e.salt, e.tokens,
                    pool.block(e.blockId));
        } catch (RuntimeException ex) {
            offloadFailures++;
        }
    }

    /** Offers the live entries {@code chain[0 .. n)} (a sequence preempted in swap mode). @return entries offered */
    synchronized int offloadChain(PrefixEntry[] chain, int n) {
        int offered = 0;
        for (int i = 0; i < n; i++) {
            PrefixEntry e = chain[i];
            if (e != null && e.live && !e.offloaded && offload != null) {
                offer(e);
                offered++;
            }
        }
        return offered;
    }

    /**
     * Starts a restore of the blocks after the cached prefix of {@code tokens[0 .. length)}: takes a
     * reference on each matched block (so the allocation below cannot reclaim the chain the restored
     * blocks will hang from; no counter, no hit), allocates up to {@code maxBlocks} fresh blocks while
     * {@code keepFree} blocks stay available, and names each with its chained hash.
     *
     * @param promptHashes the chained hashes of the prompt's full blocks ({@link BlockHashes#ofPrompt} over
     *     {@code length - 1} tokens), computed before the call, outside the lock
     * @return null, having changed nothing, if caching is off, the whole prompt is cached, or no block fits
     */
    synchronized PrefixRestore beginRestore(PagedKvCache cache, int[] tokens, int length, PrefixKeys keys,
            long[] promptHashes, int maxBlocks, int keepFree) {
        if (!enabled) {
            return null;
        }
        // shorter if hashed while caching was off: then there is nothing to restore safely
        int full = Math.min(Math.max(0, length - 1) / blockSize, promptHashes.length);
        PrefixEntry[] held = new PrefixEntry[full];
        PrefixEntry parent = null;
        long parentHash = PrefixHasher.ROOT;
        int n = 0;
        int inLru = 0;
        while (n < full) {
            long h = promptHashes[n];
            PrefixEntry e = find(h, parent, tokens, n, keys);
            if (e == null) {
                break;
            }
            inLru += e.inLru() ? 1 : 0;
            held[n++] = e;
            parent = e;
            parentHash = h;
        }
        long room = (long) pool.freeBlocks() + lruSize - inLru - keepFree;
        int want = (int) Math.min(Math.min(full - n, maxBlocks), Math.max(0, room));
        if (want <= 0) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            PrefixEntry e = held[i];
            if (e.inLru()) {
                unlinkLru(e);
            }
            pool.retain(e.blockId);
        }
        int[] blocks = new int[want];
        if (!allocate(want, blocks)) { // a pool fault or a chunk's memory: undo the references
            for (int i = n - 1; i >= 0; i--) {
                release(held[i].blockId);
            }
            return null;
        }
        long[] hashes = new long[want + 1];
        hashes[0] = parentHash;
        System.arraycopy(promptHashes, n, hashes, 1, want);
        return new PrefixRestore(cache, java.util.Arrays.copyOf(tokens, length), keys, held, n, hashes, blocks);
    }

    /**
     * Indexes the first {@code restored} blocks of a restore as if a sequence had written them (the
     * index takes over the restore's reference: they join the LRU, parents younger than children),
     * frees the others and drops the references on the matched chain. A chain broken meanwhile (reset,
     * caching turned off) indexes nothing; an entry some other sequence indexed meanwhile for the same
     * block is kept and the restored copy freed.
     *
     * @return blocks newly indexed
     */
    synchronized int commitRestored(PrefixEntry[] held, int heldCount, int[] tokens, PrefixKeys keys, long[] hashes,
            int[] blocks, int restored) {
        int created = 0;
        PrefixEntry parent = heldCount == 0 ? null : held[heldCount - 1];
        boolean chainLive = enabled && (parent == null || parent.live);
        PrefixEntry[] made = new PrefixEntry[blocks.length];
        boolean[] kept = new boolean[blocks.length];
        for (int i = 0; chainLive && i < restored; i++) {
            int b = heldCount + i;
            long h = hashes[i + 1];
            PrefixEntry e = find(h, parent, tokens, b, keys);
            if (e == null) {
                int[] copy = java.util.Arrays.copyOfRange(tokens, b * blockSize, (b + 1) * blockSize);
                PrefixEntry link = byHash(keys.group()) ? null : parent; // a sliding group's entry has no parent
                e = new PrefixEntry(h, link, hashes[i], copy, keys.salt(), keys.key(), keys.rangeKeysOf(b, blockSize),
                        keys.group(), blocks[i]);
                e.offloaded = true; // it came from the tier
                e.nextSameHash = index.get(h);
                index.put(h, e);
                entryOfBlock[blocks[i]] = e;
                if (link != null) {
                    link.addChild(e);
                }
                indexed++;
                made[i] = e;
                kept[i] = true;
                created++;
            }
            parent = e;
        }
        for (int i = blocks.length - 1; i >= 0; i--) {
            if (kept[i]) {
                linkYoungest(made[i]); // reference count 1, the index's: cached-unreferenced
            } else {
                pool.release(blocks[i]);
            }
        }
        for (int i = heldCount - 1; i >= 0; i--) {
            release(held[i].blockId);
        }
        return created;
    }
}
