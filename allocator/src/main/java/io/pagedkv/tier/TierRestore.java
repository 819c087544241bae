package io.pagedkv.tier;

import io.pagedkv.cache.PrefixRestore;
import java.util.concurrent.TimeUnit;

/**
 * One {@link PrefixTier#lookup}: the restores of the blocks after a prompt's cached prefix, in chain
 * order. The scheduler polls it ({@link #poll()}, never blocks) on later steps, or waits a bounded
 * time ({@link #await}); once it is done the verified leading hits are in the prefix index and the
 * request is admitted as usual ({@code StepPlanner.admit}), reusing them as prefix hits.
 *
 * <p>The chain ends at the first block that is not a verified hit (miss, corrupt or foreign value,
 * store away, timeout, queue full): later blocks are cancelled and freed even if they were hits,
 * since a block is usable only after its whole prefix. A destination is freed only once nothing can
 * write it any more (its ticket answered, or was cancelled before its copy).
 *
 * <p>Threading: the scheduler thread's (not thread-safe).
 */
public final class TierRestore {

    private final PrefixTier tier;
    private final PrefixRestore restore;
    private final RestoreTicket[] tickets;
    private int restored = -1;
    private int indexed;

    TierRestore(PrefixTier tier, PrefixRestore restore, RestoreTicket[] tickets) {
        this.tier = tier;
        this.restore = restore;
        this.tickets = tickets;
    }

    /**
     * Ends the restore if the chain's outcome is known: every block answered, or the first non-hit
     * answered (the rest are cancelled). Never blocks.
     *
     * @return true once done (then {@link #restoredBlocks()} is final)
     */
    public boolean poll() {
        if (restored >= 0) {
            return true;
        }
        int k = 0;
        int r = 0;
        while (k < tickets.length) {
            r = tickets[k].result(); // one read: PENDING, or the final answer (a ticket may finish meanwhile)
            if (r == RestoreTicket.PENDING) {
                return false; // the chain's next block is still on its way
            }
            if (r != tier.bytesPerBlock) {
                break;
            }
            k++;
        }
        if (k < tickets.length) {
            for (int j = k + 1; j < tickets.length; j++) {
                if (!tickets[j].cancel() && !tickets[j].isDone()) {
                    return false; // its copy is under way (a memory copy): done at the next poll
                }
            }
            count(r);
        }
        finish(k);
        return true;
    }

    /**
     * Waits at most {@code timeout} for the chain's outcome; blocks not restored by then are cancelled
     * (their destinations never written) and the chain ends before the first of them.
     *
     * @return the blocks restored
     */
    public int await(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (RestoreTicket t : tickets) {
            if (restored >= 0 || poll()) {
                break;
            }
            t.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        if (!poll()) { // every ticket answered above; only a copy under way can hold it, momentarily
            for (RestoreTicket t : tickets) {
                t.await(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
            }
            poll();
        }
        return restored;
    }

    /** Gives up: cancels what has not arrived and ends the chain there (waits only for copies under way). */
    public void cancel() throws InterruptedException {
        await(0, TimeUnit.NANOSECONDS);
    }

    private void count(int r) {
        if (r == BlockStore.MISS) {
            tier.endedByMiss.increment();
        } else if (r == BlockStore.REJECTED) {
            tier.endedByRejected.increment();
        } else if (r == BlockStore.UNAVAILABLE) {
            tier.endedByUnavailable.increment();
        } else if (r == RestoreTicket.TIMED_OUT || r == RestoreTicket.CANCELLED) {
            tier.endedByTimeout.increment();
        } else {
            tier.endedByQueue.increment();
        }
    }

    private void finish(int k) {
        indexed = restore.commit(k);
        restored = k;
        tier.blocksRestored.add(indexed);
        tier.blocksLost.add(k - indexed);
    }

    /** Whether the restore ended. */
    public boolean isDone() {
        return restored >= 0;
    }

    /** Verified blocks in chain order ({@code -1} while pending). */
    public int restoredBlocks() {
        return restored;
    }

    /** Blocks newly put into the prefix index (below {@link #restoredBlocks()} when the chain changed meanwhile). */
    public int indexedBlocks() {
        return indexed;
    }

    /** Blocks asked for. */
    public int askedBlocks() {
        return tickets.length;
    }

    /** The prompt block index of the first block asked for (the cached prefix's length in blocks). */
    public int firstBlock() {
        return restore.firstBlock();
    }

    @Override
    public String toString() {
        return "TierRestore[first=" + restore.firstBlock() + ", asked=" + tickets.length
                + (restored >= 0 ? ", restored=" + restored : ", pending") + "]";
    }
}
