package io.pagedkv.tier;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * One restore request of a {@link BlockTransferQueue}: poll it ({@link #isDone()}, {@link #result()})
 * from the scheduler's loop, or wait a bounded time ({@link #await}).
 *
 * <p>Guarantee: the destination block is written only on a hit, and only while the ticket is in its
 * short copy phase (one memory copy from the worker's staging buffer, after the network or disk
 * fetch is over). If {@link #cancel()} or a timed-out {@link #await} succeeds, the destination is
 * never written; if the copy had already begun, they wait for it (a memory copy, not a network
 * call) and report the hit. So once the ticket answers anything but a hit, the caller may free or
 * reuse the destination block at once.
 *
 * <p>Results: {@code >= 0} bytes restored; {@link BlockStore#MISS}, {@link BlockStore#REJECTED},
 * {@link BlockStore#UNAVAILABLE} from the store; {@link #TIMED_OUT}, {@link #QUEUE_FULL},
 * {@link #CLOSED}, {@link #CANCELLED} from the queue. Thread-safe.
 */
public final class RestoreTicket {

    /** {@link #result()} while the request is not finished. */
    public static final int PENDING = Integer.MIN_VALUE;
    /** {@link #await} gave up before the store answered; the destination was not written. */
    public static final int TIMED_OUT = -4;
    /** The restore queue was full; nothing was asked. */
    public static final int QUEUE_FULL = -5;
    /** The queue was closed before the request ran. */
    public static final int CLOSED = -6;
    /** {@link #cancel()} succeeded; the destination was not written. */
    public static final int CANCELLED = -7;

    private static final int WAITING = 0;
    private static final int FETCHING = 1;
    private static final int COPYING = 2;
    private static final int DONE = 3;

    final BlockKey key;
    final long parentHash;
    final int[] tokens;
    final MemorySegment dst;

    private int state = WAITING;
    private int result = PENDING;

    RestoreTicket(BlockKey key, long parentHash, int[] tokens, MemorySegment dst) {
        this.key = key;
        this.parentHash = parentHash;
        this.tokens = tokens;
        this.dst = dst;
    }

    /** The block asked for. */
    public BlockKey key() {
        return key;
    }

    /** Whether the request finished (any result). */
    public synchronized boolean isDone() {
        return state == DONE;
    }

    /** The result, or {@link #PENDING}. */
    public synchronized int result() {
        return result;
    }

    /** Whether the result is a hit (bytes restored). */
    public synchronized boolean isHit() {
        return state == DONE && result >= 0;
    }

    /**
     * Waits at most {@code timeout} for the result; if none came, cancels and returns
     * {@link #TIMED_OUT} (or the hit, if the copy had begun).
     */
    public synchronized int await(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (state != DONE) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (state == WAITING || state == FETCHING) {
                    finish(TIMED_OUT);
                    return TIMED_OUT;
                }
                wait(1); // COPYING: a memory copy, momentary
                continue;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return result;
    }

    /** Cancels the request unless its copy began; true if cancelled (then the destination is never written). */
    public synchronized boolean cancel() {
        if (state == WAITING || state == FETCHING) {
            finish(CANCELLED);
            return true;
        }
        return false;
    }

    /** Worker: starts fetching; false if the ticket was cancelled meanwhile. */
    synchronized boolean tryStart() {
        if (state != WAITING) {
            return false;
        }
        state = FETCHING;
        return true;
    }

    /** Worker: after a hit in staging, claims the destination; false if cancelled meanwhile. */
    synchronized boolean tryBeginCopy() {
        if (state != FETCHING) {
            return false;
        }
        state = COPYING;
        return true;
    }

    /** Worker or queue: the final result (ignored if already done). */
    synchronized void complete(int r) {
        if (state != DONE) {
            finish(r);
        }
    }

    private void finish(int r) {
        state = DONE;
        result = r;
        notifyAll();
    }

    @Override
    public synchronized String toString() {
        return "RestoreTicket[" + key + ", " + (state == DONE ? "result " + result : "pending") + "]";
    }
}
