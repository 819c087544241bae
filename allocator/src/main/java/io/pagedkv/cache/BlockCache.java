package io.pagedkv.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Padding before the hot fields of {@link BlockCache}, so two threads' caches share no cache line. */
abstract class BlockCacheLhsPadding {
    long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The hot fields of {@link BlockCache}. */
abstract class BlockCacheFields extends BlockCacheLhsPadding {
    /** Versioned lock word: even = free, odd = held; +2 per critical section (readers compare it). */
    int version;
    /** Free block ids held, {@code ids[0 .. count)}; the top is the most recently freed. */
    int count;
    /** Blocks that became shared minus blocks that stopped being shared under this cache's lock. */
    int sharedDelta;
}

/**
 * One thread's magazine of free block ids in front of a {@link BlockPool} in
 * {@link PoolThreading#THREAD_CACHES} mode.
 *
 * <p>Its lock word is both a lock and a sequence-lock version: the owning thread takes it (one
 * compare-and-set on a line no other thread writes) around every change it makes through the cache,
 * and a thread short of blocks takes it to empty the cache into the shared stack. Readers of the pool's
 * counts never take it: they read the version before and after, and retry if it was odd or moved.
 * Everything but the lock word is written only while it is held.
 */
final class BlockCache extends BlockCacheFields {

    long p10, p11, p12, p13, p14, p15, p16, p17;

    private static final VarHandle VERSION;
    private static final VarHandle COUNT;
    private static final VarHandle SHARED_DELTA;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            VERSION = l.findVarHandle(BlockCacheFields.class, "version", int.class);
            COUNT = l.findVarHandle(BlockCacheFields.class, "count", int.class);
            SHARED_DELTA = l.findVarHandle(BlockCacheFields.class, "sharedDelta", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The value of a thread that got no cache (more than {@link BlockPool#MAX_THREAD_CACHES} threads). */
    static final BlockCache NONE = new BlockCache(null, 0);

    final Thread owner;
    final int[] ids;
    /** Scratch of a single-block allocation on the slow path; owner only. */
    final int[] one = new int[1];

    BlockCache(Thread owner, int capacity) {
        this.owner = owner;
        this.ids = new int[capacity];
    }

    int capacity() {
        return ids.length;
    }

    /** Takes the lock word; spins (then yields) while another thread holds it. */
    void lock() {
        int v = (int) VERSION.getOpaque(this);
        if ((v & 1) == 0 && VERSION.compareAndSet(this, v, v + 1)) {
            return;
        }
        lockSlow();
    }

    private void lockSlow() {
        for (int spins = 0;; spins++) {
            int v = (int) VERSION.getOpaque(this);
            if ((v & 1) == 0 && VERSION.compareAndSet(this, v, v + 1)) {
                return;
            }
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Releases the lock word: everything written while it was held is visible to the next holder. */
    void unlock() {
        VERSION.setRelease(this, (int) VERSION.getOpaque(this) + 1);
    }

    /** The version for a reader (acquire): odd while the lock is held. */
    int versionAcquire() {
        return (int) VERSION.getAcquire(this);
    }

    /** Free ids held; lock holder or a validated reader. */
    int count() {
        return (int) COUNT.getOpaque(this);
    }

    void count(int n) {
        COUNT.setOpaque(this, n);
    }

    int sharedDelta() {
        return (int) SHARED_DELTA.getOpaque(this);
    }

    void addShared(int d) {
        SHARED_DELTA.setOpaque(this, sharedDelta + d);
    }

    @Override
    public String toString() {
        return "BlockCache[owner=" + (owner == null ? "none" : owner.getName()) + ", count=" + count + "/" + ids.length
                + "]";
    }
}
