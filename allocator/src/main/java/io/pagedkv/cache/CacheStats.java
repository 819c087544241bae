package io.pagedkv.cache;

/**
 * A snapshot of a {@link PagedKvCache}'s occupancy. Taken without stopping the world: under
 * concurrent changes the fields may come from slightly different moments; when the cache is
 * quiescent they are exact and {@code freeBlocks + usedBlocks + cachedBlocks == totalBlocks}.
 *
 * @param totalBlocks blocks in the pool
 * @param freeBlocks blocks on the free list
 * @param usedBlocks blocks referenced by at least one sequence
 * @param cachedBlocks blocks kept only by the prefix cache, reclaimable (0 without prefix caching)
 * @param sharedBlocks blocks with more than one reference (fork or prefix reuse)
 * @param openSequences sequences opened and not closed
 * @param liveTokens sum of the lengths of open sequences (a token shared by a fork counts per sequence)
 * @param emptySlots sum over open sequences of reserved but unused slots in their last block
 * @param copyOnWriteCopies blocks copied because a sequence wrote into a shared block, since creation
 * @param blockSize tokens per block
 */
public record CacheStats(
        int totalBlocks,
        int freeBlocks,
        int usedBlocks,
        int cachedBlocks,
        int sharedBlocks,
        int openSequences,
        long liveTokens,
        long emptySlots,
        long copyOnWriteCopies,
        int blockSize) {

    /** Internal fragmentation: empty reserved slots over all reserved slots (0 when none). */
    public double internalFragmentation() {
        long reserved = liveTokens + emptySlots;
        return reserved == 0 ? 0.0 : (double) emptySlots / reserved;
    }

    /**
     * Fraction of the pool's blocks in use by sequences: {@code usedBlocks / totalBlocks}. Cached
     * prefix blocks that no sequence references are reclaimable on demand, so they do not count.
     */
    public double utilization() {
        return (double) usedBlocks / totalBlocks;
    }
}
