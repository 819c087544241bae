package io.pagedkv.tier;

import java.util.Map;

/**
 * A snapshot of a {@link PrefixTier}'s counters (all only grow).
 *
 * @param offloadsOffered blocks the prefix cache handed to the tier (reclaim, swap preemption)
 * @param offloadsDropped of those, dropped because the queue's staging was full or it was closed
 * @param lookups restores started ({@link PrefixTier#lookup} that asked for at least one block)
 * @param blocksAsked blocks asked for
 * @param blocksRestored blocks restored and put into the prefix index: admissions reuse them as prefix hits
 * @param tokensRestored {@code blocksRestored * blockSize}
 * @param endedByMiss chains ended by a block the store did not hold
 * @param endedByRejected chains ended by a corrupt value or one of another block, layout or salt
 * @param endedByUnavailable chains ended by a store that could not answer (Redis away)
 * @param endedByTimeout chains ended by a restore that timed out or was cancelled
 * @param endedByQueue chains ended by a full or closed restore queue
 * @param blocksLost verified blocks not indexed: the chain they hang from was dropped meanwhile, or
 *     another request indexed the same block first
 * @param offloadFailures offload hook calls that threw
 * @param hitsByMedium the store's verified hits per medium ({@code cpu}, {@code disk}, {@code redis})
 */
public record PrefixTierStats(long offloadsOffered, long offloadsDropped, long lookups, long blocksAsked,
        long blocksRestored, long tokensRestored, long endedByMiss, long endedByRejected, long endedByUnavailable,
        long endedByTimeout, long endedByQueue, long blocksLost, long offloadFailures, Map<String, Long> hitsByMedium) {
}
