package io.pagedkv.cache;

/**
 * How a {@link BlockPool} lets threads change it; chosen once, at construction
 * ({@link BlockPool.Builder#threading(PoolThreading)}, {@link PagedKvCache.Builder#threading}).
 * Every mode keeps the same guarantees: all-or-nothing {@code allocate(n)}, reference counts,
 * generations, fault injection, conservation ({@code freeBlocks() + usedBlocks() == blockCount()}) and
 * linearizable lock-free reads ({@code refCount}, {@code freeBlocks}, {@code sharedBlocks}, handles).
 */
public enum PoolThreading {

    /**
     * One private lock for every change; any thread may call anything. The default and the simplest,
     * for a pool one thread at a time changes: two threads that allocate at once queue on the lock (in
     * benchmarks/RESULTS.md, two threads together do about a tenth of one thread's pairs per second,
     * and {@link #THREAD_CACHES} is faster even on one thread).
     */
    LOCKED,

    /**
     * Confined to one owner thread (an engine's scheduler): allocate, retain, release and free take no
     * lock, no atomic instruction and no fence. The owner is the first thread that changes the pool, or
     * the one it was handed to with {@link BlockPool#transferOwnership(Thread)}; a change from another
     * thread throws {@link IllegalStateException} (on the two fast paths {@code allocate()} and
     * {@code free(id)} only when assertions are enabled). Other threads may read block bytes at any
     * time, and counts and reference counts as unsynchronized snapshots (see {@link BlockPool}, "Reads").
     */
    OWNER,

    /**
     * Per-thread block caches (magazines, as jemalloc's tcache and Netty's {@code PoolThreadCache})
     * in front of the shared free stack: a thread allocates from and frees into its own cache under
     * its own uncontended lock word, and takes the shared lock only to refill or flush a batch. Blocks
     * in a cache are free ({@link BlockPool#freeBlocks()} counts them, {@link BlockPool#threadCachedBlocks()}
     * says how many); an allocation that its cache and the shared stack cannot serve takes every
     * other thread's cached blocks before it answers "short", so caching never makes an allocation
     * fail. Scales with threads; for a bounded set of platform threads (at most
     * {@link BlockPool#MAX_THREAD_CACHES} get a cache, later ones use the shared stack).
     */
    THREAD_CACHES
}
