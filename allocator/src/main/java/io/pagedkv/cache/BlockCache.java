package io.pagedkv.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One thread's magazine of free block ids in front of a {@link BlockPool} in
 * {@link PoolThreading#THREAD_CACHES} mode.
 *
 * <p>Its lock word is both a lock and a sequence-lock version: the owning thread takes it (one
 * compare-and-set on a line no other thread writes) around every change it makes through the cache,
 * and a thread short of blocks takes it to empty the cache into the shared stack. Readers of the pool's
 * counts never take it: they read the version before and after, and retry if it was odd or moved.
 * Everything but the lock word is written only while it is held.
 *
 * <h2>Layout</h2>
 * Every word the owner writes on its fast path (lock word, count, shared delta, the ids) lives in one
 * {@code int[]}, {@link #words}, between {@link #PAD} ints (128 bytes) of padding on each side:
 * <pre>
 *   [0 .. PAD)                      padding (and the array header before it)
 *   PAD + 0                         lock word / version ({@link #VERSION})
 *   PAD + 1                         count of ids held ({@link #COUNT})
 *   PAD + 2                         shared delta ({@link #SHARED})
 *   [IDS .. IDS + capacity)         the ids; the top is the most recently freed
 *   [IDS + capacity .. + PAD)       padding
 * </pre>
 * An array, not fields: HotSpot (JDK 15+) fills the 4-byte gap after a 12-byte object header with a
 * subclass's int, so class-hierarchy padding made of longs put the lock word at offset 12, on the line of
 * whatever object precedes the cache in the heap, and split the hot fields over two lines. An array's
 * elements stay in index order wherever the collector moves it, so two threads' hot words are at least
 * 128 bytes apart from each other and from any other object.
 */
final class BlockCache {

    /**
     * Ints of padding on each side of the hot words: 128 bytes, two cache lines, as {@code @Contended}
     * pads (adjacent-line prefetchers fetch 64-byte lines in 128-byte pairs).
     */
    static final int PAD = 32;
    /** Index of the versioned lock word: even = free, odd = held; +2 per critical section. */
    static final int VERSION = PAD;
    /** Index of the number of ids held. */
    static final int COUNT = PAD + 1;
    /** Index of the blocks that became shared minus those that stopped being shared under this lock. */
    static final int SHARED = PAD + 2;
    /** Index of the first id. */
    static final int IDS = PAD + 4;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    /** The value of a thread that got no cache (more than {@link BlockPool#MAX_THREAD_CACHES} threads). */
    static final BlockCache NONE = new BlockCache(null, 0);

    final Thread owner;
    /** Padding, the hot words and the ids (see "Layout"); ids at {@code words[IDS .. IDS + count)}. */
    final int[] words;
    private final int capacity;
    /** Scratch of a single-block allocation on the slow path; owner only. */
    final int[] one = new int[1];

    BlockCache(Thread owner, int capacity) {
        this.owner = owner;
        this.capacity = capacity;
        this.words = new int[IDS + capacity + PAD];
    }

    /** Ids the cache can hold. */
    int capacity() {
        return capacity;
    }

    /** Takes the lock word; spins (then yields) while another thread holds it. */
    void lock() {
        int v = (int) INTS.getOpaque(words, VERSION);
        if ((v & 1) == 0 && INTS.compareAndSet(words, VERSION, v, v + 1)) {
            return;
        }
        lockSlow();
    }

    private void lockSlow() {
        for (int spins = 0;; spins++) {
            int v = (int) INTS.getOpaque(words, VERSION);
            if ((v & 1) == 0 && INTS.compareAndSet(words, VERSION, v, v + 1)) {
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
        INTS.setRelease(words, VERSION, (int) INTS.getOpaque(words, VERSION) + 1);
    }

    /** The version for a reader (acquire): odd while the lock is held. */
    int versionAcquire() {
        return (int) INTS.getAcquire(words, VERSION);
    }

    /** Free ids held, for the lock holder (a plain read). */
    int countLocked() {
        return words[COUNT];
    }

    /** Free ids held, for a reader that validates it with the version (an opaque read). */
    int count() {
        return (int) INTS.getOpaque(words, COUNT);
    }

    /** Sets the count; lock holder only. */
    void count(int n) {
        INTS.setOpaque(words, COUNT, n);
    }

    /** The id at position {@code i} (0 = oldest); lock holder only. */
    int id(int i) {
        return words[IDS + i];
    }

    /** Stores {@code id} at position {@code i}; lock holder only. */
    void id(int i, int id) {
        words[IDS + i] = id;
    }

    /** Copies ids {@code [from, from + k)} to {@code dst[at ..]}; lock holder only. */
    void copyIdsTo(int from, int[] dst, int at, int k) {
        System.arraycopy(words, IDS + from, dst, at, k);
    }

    /** Copies {@code src[from .. from + k)} to ids {@code [at, at + k)}; lock holder only. */
    void copyIdsFrom(int[] src, int from, int at, int k) {
        System.arraycopy(src, from, words, IDS + at, k);
    }

    /** Drops the oldest {@code m} of the {@code n} ids held, moving the rest down; lock holder only. */
    void dropOldest(int m, int n) {
        System.arraycopy(words, IDS + m, words, IDS, n - m);
    }

    /** Blocks that became shared minus blocks that stopped being shared under this cache's lock. */
    int sharedDelta() {
        return (int) INTS.getOpaque(words, SHARED);
    }

    /** Adds {@code d} to the shared delta; lock holder only. */
    void addShared(int d) {
        INTS.setOpaque(words, SHARED, words[SHARED] + d);
    }

    @Override
    public String toString() {
        return "BlockCache[owner=" + (owner == null ? "none" : owner.getName()) + ", count=" + count() + "/"
                + capacity + "]";
    }
}
