package io.pagedkv.tier;

/**
 * A snapshot of a {@link BlockTransferQueue}'s counters. All counters only grow; the two
 * {@code pending} fields are current values.
 *
 * @param offloadsQueued offloads accepted (their bytes copied to staging)
 * @param offloadsDropped offloads not accepted: queue full, or dropped unrun at close
 * @param offloadsStored offloads the store took
 * @param offloadsRefused offloads the store refused (too large, no room, unavailable)
 * @param restoresQueued restores accepted
 * @param restoresRefused restores not accepted: queue full or closed
 * @param restoreHits restores that wrote a verified block
 * @param restoreMisses restores with no value in the store
 * @param restoreRejected restores whose value failed a check
 * @param restoreUnavailable restores the store could not answer
 * @param restoresCancelled restores cancelled or timed out before their copy
 * @param storeFailures exceptions thrown by the store (counted as unavailable or refused)
 * @param pendingOffloads offloads waiting or running now
 * @param pendingRestores restores waiting now
 */
public record TransferStats(long offloadsQueued, long offloadsDropped, long offloadsStored, long offloadsRefused,
        long restoresQueued, long restoresRefused, long restoreHits, long restoreMisses, long restoreRejected,
        long restoreUnavailable, long restoresCancelled, long storeFailures, int pendingOffloads,
        int pendingRestores) {
}
