package io.pagedkv.tier;

/**
 * A snapshot of one store's counters. Counters only grow; {@code entries} and {@code bytesUsed} are
 * current values, -1 when the store cannot know them cheaply (a shared Redis).
 *
 * @param medium the store's medium
 * @param entries values held now, or -1 if unknown
 * @param bytesUsed bytes held now (whole values), or -1 if unknown
 * @param capacityBytes the configured capacity, or -1 if unbounded by this store
 * @param puts values stored
 * @param putBytes payload bytes stored
 * @param putsRefused puts that stored nothing (too large, no room, unavailable)
 * @param hits gets that restored a verified value
 * @param hitBytes payload bytes restored
 * @param misses gets that found no value
 * @param corrupt values rejected for framing or checksum (and dropped)
 * @param mismatched intact values rejected because they named another block, layout or salt
 * @param errors operations that failed on I/O or the network ({@link BlockStore#UNAVAILABLE})
 * @param evictions values removed to make room
 * @param removals values removed by {@link BlockStore#remove}
 */
public record TierStats(String medium, long entries, long bytesUsed, long capacityBytes, long puts, long putBytes,
        long putsRefused, long hits, long hitBytes, long misses, long corrupt, long mismatched, long errors,
        long evictions, long removals) {

    /** Gets answered with a verified value, over all gets that found or missed ({@code 0} with none). */
    public double hitRate() {
        long all = hits + misses + corrupt + mismatched;
        return all == 0 ? 0 : (double) hits / all;
    }

    /** Rejected values: corrupt plus mismatched. */
    public long rejected() {
        return corrupt + mismatched;
    }
}
