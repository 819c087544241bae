package io.pagedkv.examples.serve;

/**
 * A snapshot of a {@link KvBackend}'s memory and prefix-cache counters, for {@code /metrics} and
 * for the leak check at the end of tests.
 *
 * @param totalBlocks blocks in the pool
 * @param freeBlocks blocks on the free list
 * @param usedBlocks blocks held by open sequences
 * @param cachedBlocks blocks only the prefix cache holds (reclaimable)
 * @param blockTokens tokens per block (the whole context for max-length reservation)
 * @param bytesPerBlock bytes of one block
 * @param openSequences sequences admitted and not released
 * @param prefixQueryTokens prompt tokens looked up in the prefix cache
 * @param prefixHitTokens prompt tokens served from the prefix cache
 */
public record KvUsage(
        int totalBlocks,
        int freeBlocks,
        int usedBlocks,
        int cachedBlocks,
        int blockTokens,
        long bytesPerBlock,
        int openSequences,
        long prefixQueryTokens,
        long prefixHitTokens) {

    /** Whether nothing is held: every block free or cached, no sequence open. */
    public boolean drained() {
        return usedBlocks == 0 && openSequences == 0 && freeBlocks + cachedBlocks == totalBlocks;
    }
}
