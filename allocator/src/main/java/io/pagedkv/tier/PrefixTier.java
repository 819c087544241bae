package io.pagedkv.tier;

import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.cache.PrefixOffload;
import io.pagedkv.cache.PrefixRestore;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Connects a {@link PagedKvCache}'s prefix cache to a {@link BlockStore} through a
 * {@link BlockTransferQueue}: blocks leave the pool into the store, and prefix misses look into it.
 *
 * <h2>Offload</h2>
 * {@link #attach} installs a {@link PrefixOffload} on the cache: every block the prefix cache
 * reclaims from its LRU, and every block of a sequence preempted in swap mode
 * ({@code StepPlanner.preemptAndOffload}), is copied into the queue's staging (no wait) and put into
 * the store by a worker under {@code fingerprint.key(hash, salt)}; a full queue drops the copy and
 * counts it.
 *
 * <h2>Restore</h2>
 * {@link #lookup} is the scheduler's call for a request whose prompt misses the pool after some
 * block {@code n}: it takes fresh blocks for the following full blocks (at most
 * {@code maxRestoreBlocks}, keeping {@code keepFreeBlocks} available), names each with the cache's
 * chained hash, and queues one restore per block; it returns at once with a {@link TierRestore}. The
 * scheduler polls it on a later step (or awaits it with a small bound) and then admits the request
 * as usual: the restored blocks are in the prefix index by then and count as prefix hits. The first
 * block that is not a verified hit ends the chain; the blocks after it are freed unread.
 *
 * <h2>Guarantees</h2>
 * A restored block is indexed only after the store verified its whole value (checksum, fingerprint,
 * parent hash, hash, salt, token ids) and the queue copied it whole; anything else (miss, corrupt,
 * another layout, Redis away, timeout, queue full) frees the block and the tokens are recomputed.
 * Blocks are conserved: every fresh block is either indexed or freed when the restore ends.
 *
 * <h2>Costs</h2>
 * An offload allocates one {@link BlockKey} (a small record) and copies the block into staging; a
 * lookup allocates its restore, one ticket per block and a copy of the prompt's ids: the paths of a
 * reclaim and of a prefix miss, not of a token.
 *
 * <h2>Threading</h2>
 * {@link #lookup} and the {@link TierRestore}s it returns belong to the scheduler thread; the offload
 * hook runs on whichever thread allocates (under the prefix cache's lock; it only copies). Stats from
 * any thread. {@link #close()} removes the hook; it closes neither the queue nor the store.
 */
public final class PrefixTier implements AutoCloseable {

    /** Default cap on the blocks one lookup restores. */
    public static final int DEFAULT_MAX_RESTORE_BLOCKS = 64;

    private final PagedKvCache cache;
    private final BlockTransferQueue queue;
    private final LayoutFingerprint fingerprint;
    private final int keepFreeBlocks;
    private final int maxRestoreBlocks;
    final long bytesPerBlock;

    private final LongAdder offloadsOffered = new LongAdder();
    private final LongAdder offloadsDropped = new LongAdder();
    final LongAdder lookups = new LongAdder();
    final LongAdder blocksAsked = new LongAdder();
    final LongAdder blocksRestored = new LongAdder();
    final LongAdder endedByMiss = new LongAdder();
    final LongAdder endedByRejected = new LongAdder();
    final LongAdder endedByUnavailable = new LongAdder();
    final LongAdder endedByTimeout = new LongAdder();
    final LongAdder endedByQueue = new LongAdder();
    final LongAdder blocksLost = new LongAdder();

    private PrefixTier(PagedKvCache cache, BlockTransferQueue queue, LayoutFingerprint fingerprint, int keepFreeBlocks,
            int maxRestoreBlocks) {
        this.cache = cache;
        this.queue = queue;
        this.fingerprint = fingerprint;
        this.keepFreeBlocks = keepFreeBlocks;
        this.maxRestoreBlocks = maxRestoreBlocks;
        this.bytesPerBlock = cache.layout().bytesPerBlock();
    }

    /**
     * Attaches {@code queue} (over the store) below {@code cache}'s prefix cache under
     * {@code fingerprint}, restoring at most {@link #DEFAULT_MAX_RESTORE_BLOCKS} blocks a lookup and
     * keeping no block free.
     */
    public static PrefixTier attach(PagedKvCache cache, BlockTransferQueue queue, LayoutFingerprint fingerprint) {
        return attach(cache, queue, fingerprint, 0, DEFAULT_MAX_RESTORE_BLOCKS);
    }

    /**
     * Attaches {@code queue} below {@code cache}'s prefix cache.
     *
     * @param fingerprint names the model and layout in every key (use the cache's layout; a checkpoint
     *     digest as model id keeps two checkpoints of one shape apart)
     * @param keepFreeBlocks a lookup takes fresh blocks only while this many stay available
     * @param maxRestoreBlocks the most blocks one lookup restores ({@code >= 1})
     * @throws IllegalArgumentException naming the value and the limit: a null argument, a queue made
     *     for smaller blocks than the cache's, a negative {@code keepFreeBlocks}, {@code maxRestoreBlocks < 1}
     */
    public static PrefixTier attach(PagedKvCache cache, BlockTransferQueue queue, LayoutFingerprint fingerprint,
            int keepFreeBlocks, int maxRestoreBlocks) {
        if (cache == null || queue == null || fingerprint == null) {
            throw new IllegalArgumentException("cache, queue, fingerprint: " + cache + ", " + queue + ", " + fingerprint
                    + " (expected: all non-null)");
        }
        int blockSize = cache.layout().blockSize();
        long bytes = cache.layout().bytesPerBlock();
        if (queue.maxTokens() < blockSize || queue.maxPayloadBytes() < bytes) {
            throw new IllegalArgumentException("queue: blocks of " + queue.maxTokens() + " tokens, "
                    + queue.maxPayloadBytes() + " bytes (expected: at least the cache's " + blockSize + " tokens, "
                    + bytes + " bytes; use BlockTransferQueue.forLayout)");
        }
        if (keepFreeBlocks < 0 || maxRestoreBlocks < 1) {
            throw new IllegalArgumentException("keepFreeBlocks: " + keepFreeBlocks + ", maxRestoreBlocks: "
                    + maxRestoreBlocks + " (expected: >= 0 and >= 1)");
        }
        PrefixTier t = new PrefixTier(cache, queue, fingerprint, keepFreeBlocks, maxRestoreBlocks);
        cache.setPrefixOffload(t.new Offload());
        return t;
    }

    /** The hook: one staging copy per block, never a wait. */
    private final class Offload implements PrefixOffload {
        @Override
        public boolean offload(long hash, long parentHash, long salt, int[] tokens, MemorySegment block) {
            offloadsOffered.increment();
            boolean queued = queue.offload(fingerprint.key(hash, salt), parentHash, tokens, 0, tokens.length, block);
            if (!queued) {
                offloadsDropped.increment();
            }
            return queued;
        }
    }

    /**
     * Starts restoring the blocks after {@code tokens[0 .. length)}'s cached prefix (see the class
     * comment); returns at once.
     *
     * @return the restore to poll, or null when there is nothing to look up (the whole prompt is
     *     cached, caching is off, or no block is free beyond {@code keepFreeBlocks}); nothing changed then
     * @throws IllegalArgumentException as {@link PagedKvCache#beginPrefixRestore}
     */
    public TierRestore lookup(int[] tokens, int length, PrefixKeys keys) {
        PrefixRestore r = cache.beginPrefixRestore(tokens, length, keys, maxRestoreBlocks, keepFreeBlocks);
        if (r == null) {
            return null;
        }
        lookups.increment();
        blocksAsked.add(r.blockCount());
        RestoreTicket[] tickets = new RestoreTicket[r.blockCount()];
        int[] ids = r.tokens();
        int blockSize = cache.layout().blockSize();
        int issued = 0;
        try {
            for (; issued < tickets.length; issued++) {
                tickets[issued] = queue.restore(fingerprint.key(r.hash(issued), r.salt()), r.parentHash(issued), ids,
                        r.tokenOffset(issued), blockSize, r.destination(issued));
            }
        } catch (RuntimeException e) { // a destination the workers cannot write: give the blocks back, then fail
            for (int i = 0; i < issued; i++) {
                awaitQuietly(tickets[i]);
            }
            r.commit(0);
            throw e;
        }
        return new TierRestore(this, r, tickets);
    }

    /** Cancels {@code t} unless its copy began, and waits for that copy (a memory copy). */
    private static void awaitQuietly(RestoreTicket t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.await(0, java.util.concurrent.TimeUnit.NANOSECONDS);
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The cache this tier serves. */
    public PagedKvCache cache() {
        return cache;
    }

    /** The queue in front of the store. */
    public BlockTransferQueue queue() {
        return queue;
    }

    /** The fingerprint in every key. */
    public LayoutFingerprint fingerprint() {
        return fingerprint;
    }

    /** A snapshot of the counters, with the store's hits per tier ({@link TieredBlockStore}) by medium. */
    public PrefixTierStats stats() {
        Map<String, Long> byMedium = new LinkedHashMap<>();
        BlockStore s = queue.store();
        if (s instanceof TieredBlockStore tiered) {
            for (int i = 0; i < tiered.tiers().size(); i++) {
                byMedium.merge(tiered.tiers().get(i).medium(), tiered.hits(i), Long::sum);
            }
        } else {
            byMedium.put(s.medium(), s.stats().hits());
        }
        long restored = blocksRestored.sum();
        return new PrefixTierStats(offloadsOffered.sum(), offloadsDropped.sum(), lookups.sum(), blocksAsked.sum(),
                restored, restored * cache.layout().blockSize(), endedByMiss.sum(), endedByRejected.sum(),
                endedByUnavailable.sum(), endedByTimeout.sum(), endedByQueue.sum(), blocksLost.sum(),
                cache.prefixOffloadFailures(), Map.copyOf(byMedium));
    }

    /** Removes the offload hook from the cache (restores in flight still end normally). */
    @Override
    public void close() {
        if (!cache.isClosed()) {
            cache.setPrefixOffload(null);
        }
    }

    @Override
    public String toString() {
        return "PrefixTier[" + queue.store().medium() + ", " + fingerprint + "]";
    }
}
