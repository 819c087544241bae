package io.pagedkv.cache;

/**
 * A snapshot of prefix-cache counters (since creation or the last reset of counters).
 *
 * @param enabled whether prefix caching is on
 * @param queries prompts looked up
 * @param hits lookups that reused at least one block
 * @param queryTokens prompt tokens looked up
 * @param hitTokens prompt tokens served from cached blocks
 * @param indexedBlocks blocks in the index (referenced by sequences or not)
 * @param cachedBlocks indexed blocks that no sequence references (reclaimable, in LRU order)
 * @param reclaimedBlocks cached blocks reclaimed to satisfy allocations
 */
public record PrefixCacheStats(
        boolean enabled,
        long queries,
        long hits,
        long queryTokens,
        long hitTokens,
        int indexedBlocks,
        int cachedBlocks,
        long reclaimedBlocks) {

    /** Hit tokens over queried tokens (0 when nothing was queried). */
    public double hitRate() {
        return queryTokens == 0 ? 0.0 : (double) hitTokens / queryTokens;
    }
}
