package io.pagedkv.tier;

import java.util.concurrent.atomic.LongAdder;

/**
 * The growing counters of a {@link TierStats}, for store implementations (also outside this module,
 * such as the Redis tier). Thread-safe: each counter is a {@link LongAdder}, so concurrent stores pay
 * no shared-lock cost for counting.
 */
public final class TierCounters {

    private final LongAdder puts = new LongAdder();
    private final LongAdder putBytes = new LongAdder();
    private final LongAdder putsRefused = new LongAdder();
    private final LongAdder hits = new LongAdder();
    private final LongAdder hitBytes = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder corrupt = new LongAdder();
    private final LongAdder mismatched = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder removals = new LongAdder();

    /** All counters at zero. */
    public TierCounters() {
    }

    /** A put stored {@code payloadBytes}. */
    public void put(long payloadBytes) {
        puts.increment();
        putBytes.add(payloadBytes);
    }

    /** A put stored nothing. */
    public void putRefused() {
        putsRefused.increment();
    }

    /** A get restored {@code payloadBytes}. */
    public void hit(long payloadBytes) {
        hits.increment();
        hitBytes.add(payloadBytes);
    }

    /** A get found nothing. */
    public void miss() {
        misses.increment();
    }

    /** A value failed its framing or checksum. */
    public void corrupt() {
        corrupt.increment();
    }

    /** An intact value named another block. */
    public void mismatched() {
        mismatched.increment();
    }

    /** A check result of {@link BlockValueFormat}, counted: corrupt or mismatched (OK counts nothing). */
    public void rejected(int check) {
        if (check == BlockValueFormat.CORRUPT) {
            corrupt();
        } else if (check == BlockValueFormat.MISMATCH) {
            mismatched();
        }
    }

    /** An operation failed on I/O or the network. */
    public void error() {
        errors.increment();
    }

    /** A value was evicted to make room. */
    public void eviction() {
        evictions.increment();
    }

    /** A value was removed on request. */
    public void removal() {
        removals.increment();
    }

    /** Errors so far. */
    public long errors() {
        return errors.sum();
    }

    /** The snapshot, with the current {@code entries}, {@code bytesUsed} and {@code capacityBytes}. */
    public TierStats snapshot(String medium, long entries, long bytesUsed, long capacityBytes) {
        return new TierStats(medium, entries, bytesUsed, capacityBytes, puts.sum(), putBytes.sum(), putsRefused.sum(),
                hits.sum(), hitBytes.sum(), misses.sum(), corrupt.sum(), mismatched.sum(), errors.sum(),
                evictions.sum(), removals.sum());
    }
}
