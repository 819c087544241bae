package io.pagedkv.tier;

import io.pagedkv.cache.CacheLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts a {@link BlockStore} behind a bounded queue and worker threads, so that the scheduler thread
 * that offloads and restores blocks never waits on a tier (a disk, a network).
 *
 * <h2>Offload</h2>
 * {@link #offload} copies the block's bytes and token ids into one of {@code offloadSlots}
 * preallocated staging slots (off-heap, one {@link Arena}) and returns at once; the caller may free
 * or reuse the block immediately. With every slot taken the offload is dropped and counted
 * ({@link TransferStats#offloadsDropped()}): losing a cold copy is better than stalling a step. No
 * allocation per offload.
 *
 * <h2>Restore</h2>
 * {@link #restore} enqueues a request (at most {@code restoreCapacity} waiting; beyond that the ticket
 * answers {@link RestoreTicket#QUEUE_FULL} at once) and returns a {@link RestoreTicket} to poll or to
 * await with a bound the caller chooses. A worker fetches into its own staging buffer and copies into
 * the destination only on a verified hit, so the destination is untouched by any other outcome, and
 * by a ticket cancelled or timed out before its copy. The destination must be writable from the
 * workers (a shared, automatic or global arena's segment, as the pool's blocks are). Restores run before waiting offloads.
 *
 * <h2>Threading</h2>
 * {@code offload}, {@code restore}, {@code stats} and {@code awaitIdle} may be called from any thread.
 * Workers are daemon threads named {@code pagedkv-tier-N}; an exception from the store is counted
 * ({@link TransferStats#storeFailures()}) and never kills a worker. {@link #close()} drops waiting
 * offloads, answers waiting restores {@link RestoreTicket#CLOSED}, lets running tasks finish, joins
 * the workers and frees the staging memory; it does not close the store.
 */
public final class BlockTransferQueue implements AutoCloseable {

    private final BlockStore store;
    private final int maxTokens;
    private final long maxPayloadBytes;
    private final int restoreCapacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] offloadStage;
    private final int[][] offloadTokens;
    private final BlockKey[] offloadKey;
    private final long[] offloadParent;
    private final int[] offloadCount;
    private final long[] offloadBytes;
    private final int[] freeSlots;
    private final int[] ring;
    private final ArrayDeque<RestoreTicket> restores;
    private final Thread[] workers;
    private final MemorySegment[] workerStage;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition idle = lock.newCondition();
    private int freeTop;
    private int ringHead;
    private int ringSize;
    private int busy;
    private boolean closed;

    private final LongAdder offloadsQueued = new LongAdder();
    private final LongAdder offloadsDropped = new LongAdder();
    private final LongAdder offloadsStored = new LongAdder();
    private final LongAdder offloadsRefused = new LongAdder();
    private final LongAdder restoresQueued = new LongAdder();
    private final LongAdder restoresRefused = new LongAdder();
    private final LongAdder restoreHits = new LongAdder();
    private final LongAdder restoreMisses = new LongAdder();
    private final LongAdder restoreRejected = new LongAdder();
    private final LongAdder restoreUnavailable = new LongAdder();
    private final LongAdder restoresCancelled = new LongAdder();
    private final LongAdder storeFailures = new LongAdder();

    /**
     * A queue in front of {@code store} for blocks of up to {@code maxTokens} token ids and
     * {@code maxPayloadBytes} bytes.
     *
     * @param offloadSlots staging slots: offloads that may wait or run at once ({@code >= 1})
     * @param restoreCapacity restores that may wait at once ({@code >= 1})
     * @param workers worker threads ({@code 1..64})
     * @throws IllegalArgumentException naming the bad value and its limit
     */
    public BlockTransferQueue(BlockStore store, int maxTokens, long maxPayloadBytes, int offloadSlots,
            int restoreCapacity, int workers) {
        if (store == null) {
            throw new IllegalArgumentException("store: null (expected: a BlockStore)");
        }
        if (maxTokens < 0 || maxPayloadBytes <= 0 || maxPayloadBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + ", maxPayloadBytes: " + maxPayloadBytes
                    + " (expected: >= 0 and 1.." + Integer.MAX_VALUE + ")");
        }
        if (offloadSlots < 1 || restoreCapacity < 1) {
            throw new IllegalArgumentException("offloadSlots: " + offloadSlots + ", restoreCapacity: " + restoreCapacity
                    + " (expected: >= 1 each)");
        }
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("workers: " + workers + " (expected: 1..64)");
        }
        this.store = store;
        this.maxTokens = maxTokens;
        this.maxPayloadBytes = maxPayloadBytes;
        this.restoreCapacity = restoreCapacity;
        this.offloadStage = new MemorySegment[offloadSlots];
        this.offloadTokens = new int[offloadSlots][maxTokens];
        this.offloadKey = new BlockKey[offloadSlots];
        this.offloadParent = new long[offloadSlots];
        this.offloadCount = new int[offloadSlots];
        this.offloadBytes = new long[offloadSlots];
        this.freeSlots = new int[offloadSlots];
        this.ring = new int[offloadSlots];
        this.restores = new ArrayDeque<>(restoreCapacity);
        for (int i = 0; i < offloadSlots; i++) {
            offloadStage[i] = arena.allocate(maxPayloadBytes, 64);
            freeSlots[i] = offloadSlots - 1 - i;
        }
        this.freeTop = offloadSlots;
        this.workerStage = new MemorySegment[workers];
        this.workers = new Thread[workers];
        for (int w = 0; w < workers; w++) {
            workerStage[w] = arena.allocate(maxPayloadBytes, 64);
            int id = w;
            Thread t = new Thread(() -> runWorker(id), "pagedkv-tier-" + w);
            t.setDaemon(true);
            this.workers[w] = t;
        }
        for (Thread t : this.workers) {
            t.start();
        }
    }

    /** The most token ids a block may carry. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The most bytes a block may carry. */
    public long maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /** A queue for the blocks of {@code layout}. */
    public static BlockTransferQueue forLayout(BlockStore store, CacheLayout layout, int offloadSlots,
            int restoreCapacity, int workers) {
        return new BlockTransferQueue(store, layout.blockSize(), layout.bytesPerBlock(), offloadSlots, restoreCapacity,
                workers);
    }

    /** The store behind the queue. */
    public BlockStore store() {
        return store;
    }

    private void checkSizes(int count, MemorySegment bytes, String name) {
        if (count > maxTokens) {
            throw new IllegalArgumentException("count: " + count + " tokens (expected: <= " + maxTokens + ")");
        }
        if (bytes.byteSize() > maxPayloadBytes) {
            throw new IllegalArgumentException(name + ": " + bytes.byteSize() + " bytes (expected: <= "
                    + maxPayloadBytes + ")");
        }
    }

    /**
     * Copies a block into staging and queues its put; returns at once.
     *
     * @return true if queued; false if every staging slot is taken or the queue is closed (counted as dropped)
     * @throws IllegalArgumentException on bad arguments or a block larger than the queue was made for
     */
    public boolean offload(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment block) {
        BlockStore.checkArgs(key, tokens, from, count, block, "block");
        checkSizes(count, block, "block");
        int slot;
        lock.lock();
        try {
            if (closed || freeTop == 0) {
                offloadsDropped.increment();
                return false;
            }
            slot = freeSlots[--freeTop];
        } finally {
            lock.unlock();
        }
        MemorySegment.copy(block, 0, offloadStage[slot], 0, block.byteSize());
        System.arraycopy(tokens, from, offloadTokens[slot], 0, count);
        offloadKey[slot] = key;
        offloadParent[slot] = parentHash;
        offloadCount[slot] = count;
        offloadBytes[slot] = block.byteSize();
        lock.lock();
        try {
            if (closed) {
                freeSlots[freeTop++] = slot;
                offloadsDropped.increment();
                return false;
            }
            ring[(ringHead + ringSize) % ring.length] = slot;
            ringSize++;
            offloadsQueued.increment();
            work.signal();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /**
     * Queues a restore of the block named by {@code key} into {@code dst} and returns its ticket
     * (already done with {@link RestoreTicket#QUEUE_FULL} or {@link RestoreTicket#CLOSED} if not queued).
     * The token range is copied; {@code dst} must stay allocated until the ticket is done.
     *
     * @throws IllegalArgumentException on bad arguments, a read-only {@code dst}, or one larger than the
     *     queue was made for
     */
    public RestoreTicket restore(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst) {
        BlockStore.checkArgs(key, tokens, from, count, dst, "dst");
        checkSizes(count, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: a writable segment)");
        }
        if (!dst.isAccessibleBy(workers[0])) {
            throw new IllegalArgumentException("dst: confined to another thread (expected: a segment the transfer "
                    + "workers can write: a shared, automatic or global arena's, as the block pool's are)");
        }
        RestoreTicket t = new RestoreTicket(key, parentHash, Arrays.copyOfRange(tokens, from, from + count), dst);
        lock.lock();
        try {
            if (closed) {
                restoresRefused.increment();
                t.complete(RestoreTicket.CLOSED);
            } else if (restores.size() >= restoreCapacity) {
                restoresRefused.increment();
                t.complete(RestoreTicket.QUEUE_FULL);
            } else {
                restores.addLast(t);
                restoresQueued.increment();
                work.signal();
            }
        } finally {
            lock.unlock();
        }
        return t;
    }

    /** {@link #restore} then {@link RestoreTicket#await}: a restore with a bounded wait. */
    public int restore(BlockKey key, long parentHash, int[] tokens, int from, int count, MemorySegment dst,
            long timeout, TimeUnit unit) throws InterruptedException {
        RestoreTicket t = restore(key, parentHash, tokens, from, count, dst);
        int r = t.await(timeout, unit);
        if (r == RestoreTicket.TIMED_OUT) {
            restoresCancelled.increment();
        }
        return r;
    }

    private void runWorker(int id) {
        MemorySegment stage = workerStage[id];
        while (true) {
            RestoreTicket ticket = null;
            int slot = -1;
            lock.lock();
            try {
                while (!closed && restores.isEmpty() && ringSize == 0) {
                    work.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                if (!restores.isEmpty()) {
                    ticket = restores.pollFirst();
                } else {
                    slot = ring[ringHead];
                    ringHead = (ringHead + 1) % ring.length;
                    ringSize--;
                }
                busy++;
            } finally {
                lock.unlock();
            }
            try {
                if (ticket != null) {
                    runRestore(ticket, stage);
                } else {
                    runOffload(slot);
                }
            } finally {
                lock.lock();
                try {
                    busy--;
                    if (slot >= 0) {
                        offloadKey[slot] = null;
                        freeSlots[freeTop++] = slot;
                    }
                    if (busy == 0 && ringSize == 0 && restores.isEmpty()) {
                        idle.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private void runOffload(int slot) {
        boolean ok;
        try {
            ok = store.put(offloadKey[slot], offloadParent[slot], offloadTokens[slot], 0, offloadCount[slot],
                    offloadStage[slot].asSlice(0, offloadBytes[slot]));
        } catch (RuntimeException e) {
            storeFailures.increment();
            ok = false;
        }
        (ok ? offloadsStored : offloadsRefused).increment();
    }

    private void runRestore(RestoreTicket t, MemorySegment stage) {
        if (!t.tryStart()) {
            restoresCancelled.increment();
            return;
        }
        long n = t.dst.byteSize();
        int r;
        try {
            r = store.get(t.key, t.parentHash, t.tokens, 0, t.tokens.length, stage.asSlice(0, n));
        } catch (RuntimeException e) {
            storeFailures.increment();
            r = BlockStore.UNAVAILABLE;
        }
        if (r >= 0) {
            if (!t.tryBeginCopy()) {
                restoresCancelled.increment();
                return;
            }
            try {
                MemorySegment.copy(stage, 0, t.dst, 0, n);
            } catch (RuntimeException e) { // the destination's arena closed under us: a caller bug, never a hang
                storeFailures.increment();
                restoreUnavailable.increment();
                t.complete(BlockStore.UNAVAILABLE);
                return;
            }
            restoreHits.increment();
        } else if (r == BlockStore.MISS) {
            restoreMisses.increment();
        } else if (r == BlockStore.REJECTED) {
            restoreRejected.increment();
        } else {
            restoreUnavailable.increment();
        }
        t.complete(r);
    }

    /**
     * Waits until no offload or restore is waiting or running (for tests and orderly shutdown).
     *
     * @return true if idle, false if the timeout passed first
     */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            while (busy > 0 || ringSize > 0 || !restores.isEmpty()) {
                if (left <= 0) {
                    return false;
                }
                left = idle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot of the counters. */
    public TransferStats stats() {
        int pendingOffloads;
        int pendingRestores;
        lock.lock();
        try {
            pendingOffloads = offloadStage.length - freeTop;
            pendingRestores = restores.size();
        } finally {
            lock.unlock();
        }
        return new TransferStats(offloadsQueued.sum(), offloadsDropped.sum(), offloadsStored.sum(),
                offloadsRefused.sum(), restoresQueued.sum(), restoresRefused.sum(), restoreHits.sum(),
                restoreMisses.sum(), restoreRejected.sum(), restoreUnavailable.sum(), restoresCancelled.sum(),
                storeFailures.sum(), pendingOffloads, pendingRestores);
    }

    /** Stops the workers (see the class comment) and frees the staging memory. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (RestoreTicket t; (t = restores.pollFirst()) != null;) {
                restoresRefused.increment();
                t.complete(RestoreTicket.CLOSED);
            }
            while (ringSize > 0) {
                int slot = ring[ringHead];
                ringHead = (ringHead + 1) % ring.length;
                ringSize--;
                offloadKey[slot] = null;
                freeSlots[freeTop++] = slot;
                offloadsDropped.increment();
            }
            work.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        arena.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
