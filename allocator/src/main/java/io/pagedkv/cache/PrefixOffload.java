package io.pagedkv.cache;

import java.lang.foreign.MemorySegment;

/**
 * Where the prefix cache hands a block's K/V before the block leaves the pool: a reclaimed LRU block
 * just before it is reused, or every block of a sequence preempted in swap mode
 * ({@link Sequence#offloadPrefix()}). {@code io.pagedkv.tier.PrefixTier} implements it with a
 * {@code BlockTransferQueue}, which copies the block into staging and returns at once.
 *
 * <p>Contract: called on the thread that allocates (or preempts), under the prefix cache's lock, so
 * an implementation must only copy and return: no I/O, no wait, no call back into the cache. The
 * block and the token array are valid only during the call and must not be modified. An exception is
 * caught and counted by the caller ({@link PagedKvCache#prefixOffloadFailures()}); the reclaim goes on.
 * An indexed block whose copy was taken is not offered again (a dropped one may be, by a later swap
 * preemption); a copy lost later, in the store, is not known here.
 */
public interface PrefixOffload {

    /**
     * Offers one full, written block.
     *
     * @param hash the block's chained prefix hash ({@link PrefixHasher}, salt and keys folded in)
     * @param parentHash the parent block's hash, {@link PrefixHasher#ROOT} for a first block
     * @param salt the request's salt (0: none)
     * @param tokens the block's token ids, {@code blockSize} of them (read-only)
     * @param block the block's bytes, {@code bytesPerBlock} of them (read-only)
     * @return whether the copy was taken (false: dropped, for example a full queue)
     */
    boolean offload(long hash, long parentHash, long salt, int[] tokens, MemorySegment block);
}
