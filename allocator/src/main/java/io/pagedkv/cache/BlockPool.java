package io.pagedkv.cache;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A fixed number of equally sized off-heap blocks, handed out by id with reference counts.
 *
 * <h2>Algorithm</h2>
 * Free block ids sit on an array stack ({@code freeStack[0 .. top)}); {@link #allocate()} pops,
 * a release that drops a block's reference count to zero pushes. Both are O(1). The stack starts
 * so that ids come out in ascending order (0, 1, 2, ...) and a freed block is the next one handed
 * out (LIFO keeps recently used memory hot). {@link #releaseAll} pushes a table's ids from the last to
 * the first, so the next allocations get them back in the table's order: a sequence's ascending run of
 * blocks stays ascending for the next sequence (attention walks a forward run of blocks faster than a
 * backward one). Every block has a reference count (0 when free) and a
 * generation number that is incremented each time the block is freed, so that a
 * {@linkplain #handle(int) handle} taken before a free is detected as stale afterwards.
 *
 * <h2>Threading modes</h2>
 * Chosen once with {@link #builder(int, long)} ({@link PoolThreading}); the constructors build a
 * {@link PoolThreading#LOCKED} pool.
 * <ul>
 * <li>{@code LOCKED}: every change under one private monitor; any thread.
 * <li>{@code OWNER}: the pool belongs to one thread (the first that changes it, or the one it was
 *     {@linkplain #transferOwnership(Thread) handed to}); its changes take no lock, no atomic
 *     instruction and no fence, so {@code allocate()} + {@code free(id)} costs a few plain loads and
 *     stores. For an engine whose scheduler thread does all allocating and freeing while workers only
 *     read and write block bytes. A change from another thread throws, except on the two fast paths
 *     ({@link #allocate()}, {@link #free(int)}), which check the caller only when assertions are
 *     enabled ({@code -ea}, as the tests run): calling them from another thread is a bug the pool does
 *     not detect in production.
 * <li>{@code THREAD_CACHES}: each thread has a magazine of free ids ({@link BlockCache}, at most
 *     {@link #MAX_THREAD_CACHES} threads) guarded by its own lock word, which only that thread takes
 *     in the common case (one uncontended compare-and-set on a cache line no other thread writes).
 *     An allocation pops from it, a release that frees pushes onto it. An empty cache refills half its
 *     capacity from the shared stack under the pool lock, a full one flushes its older half there.
 *     Reference counts change by compare-and-set, so any thread may retain or release any block. When
 *     the cache and the shared stack together are short, the allocating thread locks every other
 *     cache at once and moves their ids to the shared stack before it answers, so a pool with enough
 *     free blocks anywhere never answers "short" (no slack).
 * </ul>
 *
 * <h2>Memory</h2>
 * Blocks live in chunks of {@link #blocksPerChunk()} blocks; a chunk is reserved from one shared
 * {@link Arena} the first time one of its blocks is allocated, so a pool of many GiB costs nothing
 * until used ({@code Arena.allocate} zero-fills, hence the lazy chunks). The reservation (and its
 * zero-fill) holds no lock: the thread that needs the chunk reserves memory, publishes it with one
 * compare-and-set on the chunk's slot, and every thread that finds the slot set (the winner, a
 * thread that lost the race, a later allocation) sets any block slices still missing, so no thread
 * waits for another's reservation; memory that lost the race is kept as a spare for the next chunk.
 * Threads that allocate and free committed blocks never wait for any of it; an allocation that needs a
 * new chunk commits it and then takes its blocks, all or nothing. Ids in a thread cache are always of
 * committed chunks. Block {@code id} is bytes
 * {@code [(id % blocksPerChunk) * bytesPerBlock, +bytesPerBlock)} of chunk {@code id / blocksPerChunk}. {@link #close()} frees all chunks at once; a segment obtained earlier
 * then throws {@link IllegalStateException} on access instead of reading freed memory. The content of a
 * newly allocated block is unspecified (zero on first use, stale bytes after reuse): a reader must only
 * read bytes its own owner wrote ({@link Sequence} enforces that with its written mark).
 *
 * <h2>Handles</h2>
 * A {@code long} handle packs {@code generation << 32 | id}: bits 0-31 are the block id, bits 32-63
 * the block's generation at the time the handle was taken. {@link #resolve(long)} returns the id if
 * the block is still allocated in that generation and throws otherwise.
 *
 * <h2>Errors</h2>
 * The hot paths return codes: {@link #allocate()} returns {@link #NO_BLOCK} and
 * {@link #allocate(int, int[])} returns {@code false} when the pool cannot hand the blocks out,
 * changing nothing: when too few are free, and also when the memory of a new chunk cannot be
 * reserved (the arena's {@code OutOfMemoryError} is caught and counted in
 * {@link #chunkCommitFailures()}; the chunk is tried again by a later allocation). Misuse (an id out of
 * range, releasing or retaining a free block, a reference count at its limit, a stale handle, a closed
 * pool, a change from a thread that does not own an {@code OWNER} pool) throws with the value and the
 * expectation in the message, and changes nothing. (In {@code THREAD_CACHES} mode a batch call,
 * {@link #retainAll} or {@link #releaseAll}, that races another thread's release of a reference the
 * caller does not hold is undone on a best-effort basis; the single-block calls stay exact.)
 *
 * <h2>Reads</h2>
 * {@link #refCount(int)}, {@link #freeBlocks()}, {@link #usedBlocks()}, {@link #sharedBlocks()},
 * {@link #threadCachedBlocks()}, {@link #generation(int)}, {@link #handle(int)}, {@link #resolve(long)}
 * and {@link #isLive(long)} take no lock. In {@code LOCKED} and {@code THREAD_CACHES} mode they are
 * linearizable: every change runs inside a bracket whose version is odd while it runs (the pool's
 * version under the lock, a thread cache's lock word otherwise), and a reader retries until it read
 * every version, its values, and every version again unchanged and even (a sequence lock; with thread
 * caches, a double collect over the pool's and each cache's version). So a reader that sees a block
 * allocated also sees the free count after that allocation. In {@code OWNER} mode the owner's own
 * reads are exact (one thread), but the owner publishes nothing for other threads: a read from another
 * thread returns a value the owner stored at some point, current as of the last happens-before edge
 * from the owner (a sequence's block table, a queue hand-off, {@link #transferOwnership}), and two such
 * reads may disagree with each other (a block seen allocated beside the free count from before its
 * allocation). Use them there for monitoring; a block the reader got through such an edge reads its own
 * reference count correctly. {@link #block(int)} is a lock-free read. Reading and writing the bytes of
 * a block is the caller's business: distinct blocks (and distinct bytes) may be accessed in parallel.
 * Uncontended, a {@code LOCKED} allocate + free pair costs a monitor enter and exit each and allocates
 * nothing on the heap; see docs/benchmarks.md for the three modes measured side by side.
 */
public final class BlockPool implements AutoCloseable {

    /** Returned by {@link #allocate()} when no block can be handed out. */
    public static final int NO_BLOCK = -1;
    /** Default bytes per lazily reserved chunk: 64 MiB (at least one block per chunk). */
    public static final long DEFAULT_CHUNK_BYTES = 64L << 20;
    /** Memory alignment of each chunk (a cache line). */
    public static final long CHUNK_ALIGNMENT = 64;
    /** Default capacity of one thread's cache in {@link PoolThreading#THREAD_CACHES} mode, in blocks. */
    public static final int DEFAULT_THREAD_CACHE_BLOCKS = 32;
    /**
     * Threads that get a cache in {@link PoolThreading#THREAD_CACHES} mode at once (caches of threads
     * that ended are dropped when a cache is made or blocks run short); later threads use the shared
     * stack under the lock. Bounds the work of the lock-free reads, which visit every cache.
     */
    public static final int MAX_THREAD_CACHES = 64;

    /** Pools of at most this many blocks spread their per-block words one cache line apart in {@code THREAD_CACHES} mode (128 bytes of heap per block). */
    static final int MAX_SPREAD_BLOCKS = 1 << 16;
    /** log2 of the ints per spread entry: 16 ints, one 64-byte line. */
    private static final int META_SHIFT = 4;
    /** Ints of padding at each end of a spread array: 128 bytes, as {@code @Contended} pads. */
    private static final int META_PAD = 32;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle SEGMENTS = MethodHandles.arrayElementVarHandle(MemorySegment[].class);
    private static final VarHandle SHARED;
    private static final VarHandle CHUNKS;
    private static final VarHandle FAILURES;
    private static final VarHandle SPARE;
    private static final VarHandle STATE;
    private static final VarHandle OWNER;
    private static final BlockCache[] NO_CACHES = new BlockCache[0];
    /** One step of the version in {@link #state}. */
    private static final long VERSION_ONE = 1L << 32;
    private static final long TOP_MASK = 0xFFFF_FFFFL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SHARED = l.findVarHandle(BlockPool.class, "sharedBlocks", int.class);
            CHUNKS = l.findVarHandle(BlockPool.class, "committedChunks", int.class);
            FAILURES = l.findVarHandle(BlockPool.class, "commitFailures", long.class);
            SPARE = l.findVarHandle(BlockPool.class, "spare", MemorySegment.class);
            STATE = l.findVarHandle(BlockPool.class, "state", long.class);
            OWNER = l.findVarHandle(BlockPool.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int blockCount;
    private final long bytesPerBlock;
    private final int blocksPerChunk;
    private final Object lock = new Object();
    private final Arena arena;
    /** Null when no faults are injected (the common case: one null check per allocation). */
    private final FaultInjector faults;

    private final PoolThreading threading;
    /** {@link PoolThreading#OWNER}: changes need no lock, only the owner thread. */
    private final boolean confined;
    /** {@link PoolThreading#THREAD_CACHES}: reference counts change by compare-and-set. */
    private final boolean cached;
    private final int cacheCapacity;
    /** Each thread's cache ({@link BlockCache#NONE} past {@link #MAX_THREAD_CACHES}); null unless cached. */
    private final ThreadLocal<BlockCache> threadCache;
    /** Every live cache; replaced (copy on write) under the lock inside a version bracket. */
    private volatile BlockCache[] caches = NO_CACHES;
    /**
     * The owner of a confined pool; null until the first change claims it (compare-and-set). Written
     * only with volatile semantics (claim, transfer) and read plainly on the owner's fast path: a thread
     * can only read itself here after its own claim, so the plain read never trusts a stale value.
     */
    private Thread owner;
    /** The thread an owner handed the pool to; it (and only it, while set) may claim it. */
    private volatile Thread designated;

    private final int[] freeStack;
    /**
     * Reference count and generation of block {@code id} at index {@link #m(int) m(id)}. In {@code
     * THREAD_CACHES} mode (up to {@link #MAX_SPREAD_BLOCKS} blocks) every block's entry has a 64-byte line
     * of its own and 128 bytes pad both ends: threads that allocate and free neighbouring ids, or an id at
     * an array's end next to another array's header (read by every bounds check), otherwise write the same
     * cache line from two cores, which made two threads slower than one in some pool instances (issue 27
     * goal 2). Other modes index by {@code id} (the owner's fast paths rely on it).
     */
    private final int[] refCounts;
    private final int[] generations;
    private final int metaShift;
    private final int metaPad;
    /** Writable slices, published once per chunk (release), read with acquire. */
    private final MemorySegment[] blocks;
    /** The same slices, read-only: what {@link #block(int)} hands out. */
    private final MemorySegment[] readOnlyBlocks;
    private final MemorySegment[] chunks;

    /** Shared blocks counted by changes under the lock or by the owner (thread caches keep their own delta). */
    private int sharedBlocks;
    private int committedChunks;
    /**
     * Bits 32-63: the sequence-lock version, odd while a change under the lock (or by the owner) is in
     * progress; bits 0-31: the number of ids on the shared free stack ({@code freeStack[0 .. top)}). One
     * word, so the owner's change is two stores of it; written under the lock or by the owner.
     */
    private long state;
    /** Chunk reservations that failed; changed with an atomic add. */
    private long commitFailures;
    /** Zero-filled memory of a chunk reservation that lost its race, never handed out: the next chunk's. */
    private MemorySegment spare;
    private volatile boolean closed;
    /** {@link #closed} for the owner's fast path (a plain read: close must not race the owner's changes). */
    private boolean closedPlain;

    /**
     * A {@link PoolThreading#LOCKED} pool of {@code blockCount} blocks of {@code bytesPerBlock} bytes,
     * reserved in chunks of {@link #DEFAULT_CHUNK_BYTES}.
     */
    public BlockPool(int blockCount, long bytesPerBlock) {
        this(blockCount, bytesPerBlock, defaultBlocksPerChunk(blockCount, bytesPerBlock));
    }

    /**
     * A {@link PoolThreading#LOCKED} pool of {@code blockCount} blocks of {@code bytesPerBlock} bytes,
     * reserved {@code blocksPerChunk} blocks at a time.
     *
     * @throws IllegalArgumentException if a count or size is not positive, or a chunk would exceed
     *     {@link Long#MAX_VALUE} bytes
     */
    public BlockPool(int blockCount, long bytesPerBlock, int blocksPerChunk) {
        this(blockCount, bytesPerBlock, blocksPerChunk, null);
    }

    /**
     * A {@link PoolThreading#LOCKED} pool like {@link #BlockPool(int, long, int)} whose allocations and
     * chunk commits consult {@code faults} (tests; {@code null} for none).
     *
     * @throws IllegalArgumentException if a count or size is not positive, or a chunk would exceed
     *     {@link Long#MAX_VALUE} bytes
     */
    public BlockPool(int blockCount, long bytesPerBlock, int blocksPerChunk, FaultInjector faults) {
        this(blockCount, bytesPerBlock, blocksPerChunk, faults, PoolThreading.LOCKED, DEFAULT_THREAD_CACHE_BLOCKS);
    }

    private BlockPool(int blockCount, long bytesPerBlock, int blocksPerChunk, FaultInjector faults,
            PoolThreading threading, int cacheCapacity) {
        if (blockCount <= 0) {
            throw new IllegalArgumentException("blockCount: " + blockCount + " (expected: > 0)");
        }
        if (bytesPerBlock <= 0) {
            throw new IllegalArgumentException("bytesPerBlock: " + bytesPerBlock + " (expected: > 0)");
        }
        if (blocksPerChunk <= 0) {
            throw new IllegalArgumentException("blocksPerChunk: " + blocksPerChunk + " (expected: > 0)");
        }
        if (bytesPerBlock > Long.MAX_VALUE / blockCount) {
            throw new IllegalArgumentException("blockCount: " + blockCount + " x bytesPerBlock: " + bytesPerBlock
                    + " overflows a long (expected: <= " + Long.MAX_VALUE + " bytes)");
        }
        if (threading == null) {
            throw new IllegalArgumentException("threading: null (expected: a PoolThreading)");
        }
        if (cacheCapacity < 2) {
            throw new IllegalArgumentException("threadCacheBlocks: " + cacheCapacity + " (expected: >= 2)");
        }
        this.blockCount = blockCount;
        this.bytesPerBlock = bytesPerBlock;
        this.blocksPerChunk = Math.min(blocksPerChunk, blockCount);
        this.chunks = new MemorySegment[chunkCount(blockCount, this.blocksPerChunk)];
        this.freeStack = new int[blockCount];
        for (int i = 0; i < blockCount; i++) {
            freeStack[i] = blockCount - 1 - i;
        }
        boolean spread = threading == PoolThreading.THREAD_CACHES && blockCount <= MAX_SPREAD_BLOCKS;
        this.metaShift = spread ? META_SHIFT : 0;
        this.metaPad = spread ? META_PAD : 0;
        this.refCounts = new int[(blockCount << metaShift) + 2 * metaPad];
        this.generations = new int[(blockCount << metaShift) + 2 * metaPad];
        this.blocks = new MemorySegment[blockCount];
        this.readOnlyBlocks = new MemorySegment[blockCount];
        this.arena = Arena.ofShared();
        this.state = blockCount;
        this.faults = faults;
        this.threading = threading;
        this.confined = threading == PoolThreading.OWNER;
        this.cached = threading == PoolThreading.THREAD_CACHES;
        this.cacheCapacity = cacheCapacity;
        this.threadCache = cached ? ThreadLocal.withInitial(this::newThreadCache) : null;
    }

    /** A {@link PoolThreading#LOCKED} pool of {@code blockCount} blocks sized by {@code layout.bytesPerBlock()}. */
    public static BlockPool forLayout(CacheLayout layout, int blockCount) {
        return new BlockPool(blockCount, layout.bytesPerBlock());
    }

    /** A builder of a pool of {@code blockCount} blocks of {@code bytesPerBlock} bytes, for the optional knobs. */
    public static Builder builder(int blockCount, long bytesPerBlock) {
        return new Builder(blockCount, bytesPerBlock);
    }

    /**
     * Optional settings of a {@link BlockPool}: chunk size, fault injection, threading mode and thread
     * cache size; validated in {@link #build()}. Not thread-safe; build on one thread.
     */
    public static final class Builder {
        private final int blockCount;
        private final long bytesPerBlock;
        private int blocksPerChunk;
        private FaultInjector faults;
        private PoolThreading threading = PoolThreading.LOCKED;
        private int threadCacheBlocks = DEFAULT_THREAD_CACHE_BLOCKS;

        private Builder(int blockCount, long bytesPerBlock) {
            this.blockCount = blockCount;
            this.bytesPerBlock = bytesPerBlock;
        }

        /** Reserves memory {@code blocksPerChunk} blocks at a time (default: chunks of {@link #DEFAULT_CHUNK_BYTES}). */
        public Builder blocksPerChunk(int blocksPerChunk) {
            if (blocksPerChunk <= 0) {
                throw new IllegalArgumentException("blocksPerChunk: " + blocksPerChunk + " (expected: > 0)");
            }
            this.blocksPerChunk = blocksPerChunk;
            return this;
        }

        /** Consults {@code faults} on every allocation call and chunk commit (tests); default none. */
        public Builder faults(FaultInjector faults) {
            this.faults = faults;
            return this;
        }

        /** The threading mode; default {@link PoolThreading#LOCKED}. */
        public Builder threading(PoolThreading threading) {
            if (threading == null) {
                throw new IllegalArgumentException("threading: null (expected: a PoolThreading)");
            }
            this.threading = threading;
            return this;
        }

        /**
         * Capacity of each thread's cache in {@link PoolThreading#THREAD_CACHES} mode (default
         * {@link #DEFAULT_THREAD_CACHE_BLOCKS}); a refill takes half of it, a flush gives half back.
         */
        public Builder threadCacheBlocks(int blocks) {
            if (blocks < 2) {
                throw new IllegalArgumentException("threadCacheBlocks: " + blocks + " (expected: >= 2)");
            }
            this.threadCacheBlocks = blocks;
            return this;
        }

        /**
         * The pool.
         *
         * @throws IllegalArgumentException if a count or size is not positive, or the pool would
         *     exceed {@link Long#MAX_VALUE} bytes
         */
        public BlockPool build() {
            int perChunk = blocksPerChunk > 0 ? blocksPerChunk : defaultBlocksPerChunk(blockCount, bytesPerBlock);
            return new BlockPool(blockCount, bytesPerBlock, perChunk, faults, threading, threadCacheBlocks);
        }
    }

    static int defaultBlocksPerChunk(int blockCount, long bytesPerBlock) {
        if (bytesPerBlock <= 0) {
            return 1; // the constructor reports the bad size
        }
        return (int) Math.max(1, Math.min(Math.max(blockCount, 1), DEFAULT_CHUNK_BYTES / bytesPerBlock));
    }

    /** {@code ceil(blockCount / blocksPerChunk)} without int overflow near 2^31 blocks. */
    static int chunkCount(int blockCount, int blocksPerChunk) {
        return (int) (((long) blockCount + blocksPerChunk - 1) / blocksPerChunk);
    }

    // ---------------------------------------------------------------------------------------------
    // ownership (OWNER mode)

    /** How this pool lets threads change it. */
    public PoolThreading threading() {
        return threading;
    }

    /** The thread that owns an {@link PoolThreading#OWNER} pool, or null (another mode, or not claimed yet). */
    public Thread owner() {
        return (Thread) OWNER.getVolatile(this);
    }

    /**
     * Hands an {@link PoolThreading#OWNER} pool to {@code next} (null: to the next thread that changes
     * it). Everything the current owner did happens-before the new owner's first call.
     *
     * @throws IllegalStateException if the pool is not in {@code OWNER} mode, or the caller is not its
     *     owner (an unclaimed pool may be handed on by anyone)
     */
    public void transferOwnership(Thread next) {
        if (!confined) {
            throw new IllegalStateException("block pool: threading " + threading + " (expected: OWNER to transfer)");
        }
        checkOwner();
        designated = next;
        OWNER.setVolatile(this, (Thread) null); // the next owner claims it with its first change
    }

    /** For the fast paths' assertion: claims an unclaimed pool, throws for a thread that is not its owner. */
    private boolean ownedByCaller() {
        checkOwner();
        return true;
    }

    private void checkOwner() {
        Thread t = Thread.currentThread();
        if (owner != t) {
            claimOrThrow(t);
        }
    }

    private void claimOrThrow(Thread t) {
        Thread d = designated;
        if ((d == null || d == t) && OWNER.compareAndSet(this, (Thread) null, t)) {
            return;
        }
        Thread o = (Thread) OWNER.getVolatile(this);
        if (o == null) {
            o = d;
        }
        throw new IllegalStateException("block pool: owned by thread '" + (o == null ? "none" : o.getName())
                + "' (expected: changes from the owner thread, was: '" + t.getName() + "')");
    }

    // ---------------------------------------------------------------------------------------------
    // allocation

    /** The index of block {@code id}'s words in {@link #refCounts} and {@link #generations}. */
    private int m(int id) {
        return (id << metaShift) + metaPad;
    }

    /** {@link #m(int)} for tests. */
    int metaIndex(int id) {
        return m(id);
    }

    /** The length of {@link #refCounts} and {@link #generations}, for tests. */
    int metaLength() {
        return refCounts.length;
    }

    /**
     * Takes one free block and sets its reference count to 1.
     *
     * @return the block id, or {@link #NO_BLOCK} if none can be handed out (none is free, or the
     *     memory of its chunk could not be reserved); nothing changes then
     * @throws IllegalStateException if the pool is closed, or it is an {@code OWNER} pool and the
     *     caller is not its owner
     */
    public int allocate() {
        if (confined && faults == null) {
            // the owner's fast path: no lock, no atomic, no fence (see "Reads" for what other threads see);
            // the caller is checked to be the owner only with -ea (a check costs a quarter of the pair)
            assert ownedByCaller();
            long st = state;
            int top = (int) st;
            if (top > 0 && !closedPlain) {
                int id = freeStack[top - 1];
                if (blocks[id] != null) { // committed by this thread, or before it claimed the pool
                    refCounts[id] = 1;
                    state = st - 1;
                    return id;
                }
            }
        }
        if (faults != null && faults.failAllocation(1)) {
            CacheEvents.poolExhausted(1, freeBlocks(), blockCount);
            return NO_BLOCK;
        }
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                int n = c.countLocked();
                if (n > 0 && !closed) {
                    int id = c.id(n - 1);
                    c.count(n - 1);
                    INTS.setRelease(refCounts, m(id), 1);
                    c.unlock();
                    return id;
                }
                c.unlock();
                return allocateCachedSlow(c, 1, c.one) ? c.one[0] : NO_BLOCK;
            }
        } else if (confined) {
            checkOwner();
        }
        while (true) {
            int r;
            if (confined) {
                r = allocateOneExclusive();
            } else {
                synchronized (lock) {
                    r = allocateOneExclusive();
                }
            }
            if (r >= NO_BLOCK) {
                return r;
            }
            if (!commitChunk(-2 - r)) {
                CacheEvents.poolExhausted(1, freeBlocks(), blockCount);
                return NO_BLOCK;
            }
        }
    }

    /** Under the lock or by the owner: the id, {@link #NO_BLOCK}, or {@code -2 - chunk} to commit first. */
    private int allocateOneExclusive() {
        checkOpen();
        int top = freeTop();
        if (top == 0 && cached) {
            stealCachesLocked(null);
            top = freeTop();
        }
        if (top == 0) {
            CacheEvents.poolExhausted(1, 0, blockCount);
            return NO_BLOCK;
        }
        int id = freeStack[top - 1];
        if (SEGMENTS.getAcquire(blocks, id) == null) {
            return -2 - id / blocksPerChunk;
        }
        beginChange();
        INTS.setRelease(refCounts, m(id), 1);
        setFreeTop(top - 1);
        endChange();
        return id;
    }

    /**
     * Takes {@code n} free blocks, all or none, writing their ids to {@code out[0 .. n)}.
     *
     * @return {@code true} if all {@code n} were taken; {@code false} if they cannot be handed out
     *     (fewer are free, or a chunk's memory could not be reserved), in which case nothing changes
     *     (not even {@code out})
     * @throws IllegalArgumentException if {@code n < 0} or {@code out} is shorter than {@code n}
     * @throws IllegalStateException if the pool is closed, or it is an {@code OWNER} pool and the
     *     caller is not its owner
     */
    public boolean allocate(int n, int[] out) {
        if (n < 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 0)");
        }
        if (out == null || out.length < n) {
            throw new IllegalArgumentException("out.length: " + (out == null ? "null" : out.length)
                    + " (expected: >= n = " + n + ")");
        }
        if (faults != null && faults.failAllocation(n)) {
            CacheEvents.poolExhausted(n, freeBlocks(), blockCount);
            return false;
        }
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                int have = c.countLocked();
                if (have >= n && !closed) {
                    for (int i = 0; i < n; i++) {
                        int id = c.id(have - 1 - i);
                        INTS.setRelease(refCounts, m(id), 1);
                        out[i] = id;
                    }
                    c.count(have - n);
                    c.unlock();
                    return true;
                }
                c.unlock();
                return allocateCachedSlow(c, n, out);
            }
        } else if (confined) {
            checkOwner();
        }
        while (true) {
            int r;
            if (confined) {
                r = allocateManyExclusive(n, out);
            } else {
                synchronized (lock) {
                    r = allocateManyExclusive(n, out);
                }
            }
            if (r >= 0) {
                return r == 1;
            }
            // Reserve the missing chunk outside the lock, then look again: the stack may have moved.
            // Each round commits one more chunk, so this ends.
            if (!commitChunk(-2 - r)) {
                CacheEvents.poolExhausted(n, freeBlocks(), blockCount);
                return false;
            }
        }
    }

    /** Under the lock or by the owner: 1 taken, 0 short, or {@code -2 - chunk} to commit first. */
    private int allocateManyExclusive(int n, int[] out) {
        checkOpen();
        int top = freeTop();
        if (top < n && cached) {
            stealCachesLocked(null);
            top = freeTop();
        }
        if (top < n) {
            CacheEvents.poolExhausted(n, top, blockCount);
            return 0;
        }
        int chunk = uncommittedChunk(top, n);
        if (chunk >= 0) {
            return -2 - chunk;
        }
        beginChange();
        for (int i = 0; i < n; i++) {
            int id = freeStack[top - 1 - i];
            INTS.setRelease(refCounts, m(id), 1);
            out[i] = id;
        }
        setFreeTop(top - n);
        endChange();
        return 1;
    }

    /** The chunk of the first of the top {@code k} shared-stack ids whose chunk is not committed, or -1. */
    private int uncommittedChunk(int top, int k) {
        for (int i = 0; i < k; i++) {
            int id = freeStack[top - 1 - i];
            if (SEGMENTS.getAcquire(blocks, id) == null) {
                return id / blocksPerChunk;
            }
        }
        return -1;
    }

    /**
     * Thread-cache mode, the cache cannot serve {@code n}: under the lock and the cache's lock word,
     * takes the missing ids from the shared stack (after emptying every other cache into it if even that
     * is short), the rest from the cache, then refills the cache to half its capacity. All or nothing.
     */
    private boolean allocateCachedSlow(BlockCache c, int n, int[] out) {
        while (true) {
            int chunk;
            synchronized (lock) {
                c.lock();
                try {
                    checkOpen();
                    int have = c.countLocked();
                    if (have + freeTop() < n) {
                        stealCachesLocked(c);
                    }
                    int top = freeTop();
                    if (have + top < n) {
                        CacheEvents.poolExhausted(n, have + top, blockCount);
                        return false;
                    }
                    int fromShared = Math.max(0, n - have);
                    chunk = uncommittedChunk(top, fromShared);
                    if (chunk < 0) {
                        beginChange();
                        for (int i = 0; i < fromShared; i++) {
                            int id = freeStack[top - 1 - i];
                            INTS.setRelease(refCounts, m(id), 1);
                            out[i] = id;
                        }
                        top -= fromShared;
                        for (int i = fromShared; i < n; i++) {
                            int id = c.id(--have);
                            INTS.setRelease(refCounts, m(id), 1);
                            out[i] = id;
                        }
                        int refill = 0;
                        int want = Math.min(top, c.capacity() / 2 - have);
                        while (refill < want && SEGMENTS.getAcquire(blocks, freeStack[top - 1 - refill]) != null) {
                            refill++;
                        }
                        // the cache pops them in the order the shared stack would have
                        c.copyIdsFrom(freeStack, top - refill, have, refill);
                        c.count(have + refill);
                        setFreeTop(top - refill);
                        endChange();
                        return true;
                    }
                } finally {
                    c.unlock();
                }
            }
            if (!commitChunk(chunk)) {
                CacheEvents.poolExhausted(n, freeBlocks(), blockCount);
                return false;
            }
        }
    }

    /**
     * Under the lock (and {@code self}'s lock word, if any): locks every other cache at once, moves all
     * their ids to the shared stack and drops the caches of threads that ended. Holding them all, the
     * count that follows is the pool's free count at one instant.
     */
    private void stealCachesLocked(BlockCache self) {
        BlockCache[] cs = caches;
        for (BlockCache v : cs) {
            if (v != self) {
                v.lock();
            }
        }
        beginChange();
        int top = freeTop();
        int live = 0;
        for (BlockCache v : cs) {
            if (v != self) {
                int k = v.countLocked();
                v.copyIdsTo(0, freeStack, top, k);
                top += k;
                v.count(0);
            }
            if (v == self || v.owner.isAlive()) {
                live++;
            }
        }
        setFreeTop(top);
        if (live < cs.length) {
            caches = withoutEnded(cs, live);
        }
        endChange();
        for (BlockCache v : cs) {
            if (v != self) {
                v.unlock();
            }
        }
    }

    /** The caches of {@code cs} whose thread is alive; ended ones (already emptied) fold their shared delta in. */
    private BlockCache[] withoutEnded(BlockCache[] cs, int live) {
        BlockCache[] next = new BlockCache[live];
        int j = 0;
        for (BlockCache v : cs) {
            if (v.owner.isAlive() && j < live) {
                next[j++] = v;
            } else {
                SHARED.setRelease(this, sharedBlocks + v.sharedDelta());
                v.addShared(-v.sharedDelta());
            }
        }
        return j == live ? next : java.util.Arrays.copyOf(next, j);
    }

    /** Makes the calling thread's cache (the thread-local's initial value). */
    private BlockCache newThreadCache() {
        synchronized (lock) {
            BlockCache[] cs = caches;
            int live = 0;
            for (BlockCache v : cs) {
                if (v.owner.isAlive()) {
                    live++;
                }
            }
            if (live < cs.length) {
                stealCachesLocked(null); // empties and drops the ended threads' caches
                cs = caches;
            }
            if (cs.length >= MAX_THREAD_CACHES) {
                return BlockCache.NONE;
            }
            BlockCache c = new BlockCache(Thread.currentThread(), cacheCapacity);
            BlockCache[] next = java.util.Arrays.copyOf(cs, cs.length + 1);
            next[cs.length] = c;
            beginChange();
            caches = next;
            endChange();
            return c;
        }
    }

    /**
     * Moves the calling thread's cached blocks to the shared stack (a worker about to idle or end can
     * give them back at once; otherwise they stay free in its cache and other threads take them when
     * short). Does nothing in other modes.
     *
     * @throws IllegalStateException if the pool is closed
     */
    public void flushThreadCache() {
        if (!cached) {
            return;
        }
        BlockCache c = threadCache.get();
        if (c != BlockCache.NONE) {
            flush(c, c.capacity());
        }
    }

    /** Moves the oldest {@code k} ids (at most all) of {@code c} to the shared stack. */
    private void flush(BlockCache c, int k) {
        synchronized (lock) {
            c.lock();
            try {
                checkOpen();
                int n = c.countLocked();
                int m = Math.min(k, n);
                beginChange();
                int top = freeTop();
                c.copyIdsTo(0, freeStack, top, m);
                c.dropOldest(m, n);
                c.count(n - m);
                setFreeTop(top + m);
                endChange();
            } finally {
                c.unlock();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // reference counts

    /**
     * Adds one reference to an allocated block (a second owner shares it).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free, its count is at {@link Integer#MAX_VALUE},
     *     the pool is closed, or it is an {@code OWNER} pool and the caller is not its owner
     */
    public void retain(int id) {
        checkId(id);
        int rc;
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                try {
                    checkOpen();
                    rc = incrementRefCount(id, 1);
                    if (rc == 1) {
                        c.addShared(1);
                    }
                } finally {
                    c.unlock();
                }
                checkRetainable(id, rc, 1);
                return;
            }
        } else if (confined) {
            checkOwner();
            checkRetainable(id, retainExclusive(id), 1);
            return;
        }
        synchronized (lock) {
            rc = retainExclusive(id);
        }
        checkRetainable(id, rc, 1);
    }

    /** Under the lock or by the owner: the count before (changed only if it was retainable). */
    private int retainExclusive(int id) {
        checkOpen();
        beginChange();
        try {
            int rc = incrementRefCount(id, 1);
            if (rc == 1) {
                SHARED.setRelease(this, sharedBlocks + 1);
            }
            return rc;
        } finally {
            endChange();
        }
    }

    private static void checkRetainable(int id, int rc, int more) {
        if (rc <= 0) {
            throw freeBlock(id);
        }
        if (rc > Integer.MAX_VALUE - more) {
            throw new IllegalStateException("blockId: " + id + " refCount: " + rc + " + " + more + " (expected: <= "
                    + Integer.MAX_VALUE + ")");
        }
    }

    private static IllegalStateException freeBlock(int id) {
        return new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
    }

    /**
     * Adds one reference to each of {@code ids[0 .. n)}, all or none (an id listed twice gains two).
     * One lock round trip (none for an owner), whatever {@code n}.
     *
     * @throws IllegalArgumentException if an id is out of range
     * @throws IllegalStateException if one of the blocks is free or would pass
     *     {@link Integer#MAX_VALUE} references (nothing is retained then), the pool is closed, or it is
     *     an {@code OWNER} pool and the caller is not its owner
     */
    public void retainAll(int[] ids, int n) {
        if (n < 0 || n > ids.length) {
            throw new IllegalArgumentException("n: " + n + " (expected: 0 <= n <= " + ids.length + ")");
        }
        for (int i = 0; i < n; i++) {
            checkId(ids[i]);
        }
        if (confined) {
            checkOwner();
            retainAllExclusive(ids, n);
            return;
        }
        synchronized (lock) {
            retainAllExclusive(ids, n);
        }
    }

    private void retainAllExclusive(int[] ids, int n) {
        checkOpen();
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            int rc = (int) INTS.getAcquire(refCounts, m(id));
            int more = 1;
            if (rc > Integer.MAX_VALUE - n) { // near the limit (rare): count how often the id is listed
                more = 0;
                for (int j = 0; j < n; j++) {
                    if (ids[j] == id) {
                        more++;
                    }
                }
            }
            checkRetainable(id, rc, more);
        }
        beginChange();
        try {
            for (int i = 0; i < n; i++) {
                int rc = incrementRefCount(ids[i], 1);
                if (rc <= 0 || rc == Integer.MAX_VALUE) {
                    // only with thread caches: another thread released a block the caller does not hold
                    for (int j = i - 1; j >= 0; j--) {
                        undoRetain(ids[j]);
                    }
                    checkRetainable(ids[i], rc, 1);
                }
                if (rc == 1) {
                    SHARED.setRelease(this, sharedBlocks + 1);
                }
            }
        } finally {
            endChange();
        }
    }

    /** Takes back one reference added under the lock (an undo; frees the block if it was the last). */
    private void undoRetain(int id) {
        int rc = decrementRefCount(id);
        if (rc == 2) {
            SHARED.setRelease(this, sharedBlocks - 1);
        } else if (rc == 1) {
            pushFreed(null, id);
        }
    }

    /**
     * Drops one reference; the block returns to the free list (or the calling thread's cache) when the
     * count reaches zero (its generation then advances, so old handles become stale).
     *
     * @return {@code true} if the block became free
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is already free (a double free), the pool is closed,
     *     or it is an {@code OWNER} pool and the caller is not its owner
     */
    public boolean release(int id) {
        checkId(id);
        int rc;
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                if (c.countLocked() == c.capacity()) {
                    c.unlock();
                    flush(c, c.capacity() / 2); // only this thread fills its cache: room stays
                    c.lock();
                }
                try {
                    checkOpen();
                    rc = decrementRefCount(id);
                    if (rc == 2) {
                        c.addShared(-1);
                    } else if (rc == 1) {
                        pushFreed(c, id);
                    }
                } finally {
                    c.unlock();
                }
                if (rc <= 0) {
                    throw freeBlock(id);
                }
                return rc == 1;
            }
        } else if (confined) {
            checkOwner();
            rc = releaseExclusive(id);
            if (rc <= 0) {
                throw freeBlock(id);
            }
            return rc == 1;
        }
        synchronized (lock) {
            rc = releaseExclusive(id);
        }
        if (rc <= 0) {
            throw freeBlock(id);
        }
        return rc == 1;
    }

    /** Under the lock or by the owner: the count before (changed only if the block was allocated). */
    private int releaseExclusive(int id) {
        checkOpen();
        beginChange();
        try {
            int rc = decrementRefCount(id);
            if (rc == 2) {
                SHARED.setRelease(this, sharedBlocks - 1);
            } else if (rc == 1) {
                pushFreed(null, id);
            }
            return rc;
        } finally {
            endChange();
        }
    }

    /**
     * Drops one reference from each of {@code ids[0 .. n)} in one call (one lock round trip, or none
     * from a thread cache or for an owner), all or none: an id listed twice loses two.
     *
     * @return how many blocks became free
     * @throws IllegalArgumentException if {@code n} or an id is out of range
     * @throws IllegalStateException if a block would be released more often than it is referenced
     *     (nothing is released then), the pool is closed, or it is an {@code OWNER} pool and the caller
     *     is not its owner
     */
    public int releaseAll(int[] ids, int n) {
        if (ids == null || n < 0 || n > ids.length) {
            throw new IllegalArgumentException("n: " + n + " (expected: 0 <= n <= ids.length "
                    + (ids == null ? "null" : ids.length) + ")");
        }
        for (int i = 0; i < n; i++) {
            checkId(ids[i]);
        }
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                if (c.countLocked() + n <= c.capacity()) {
                    try {
                        checkOpen();
                        return releaseAllInto(c, ids, n);
                    } finally {
                        c.unlock();
                    }
                }
                c.unlock(); // more than the cache can take: free onto the shared stack
            }
        } else if (confined) {
            checkOwner();
            return releaseAllExclusive(ids, n);
        }
        synchronized (lock) {
            return releaseAllExclusive(ids, n);
        }
    }

    private int releaseAllExclusive(int[] ids, int n) {
        checkOpen();
        beginChange();
        try {
            return releaseAllInto(null, ids, n);
        } finally {
            endChange();
        }
    }

    /**
     * Inside a bracket ({@code c}'s lock word, or exclusive with {@code c == null}); all or none. Releases
     * from the last id to the first, so the ids it frees go onto the stack with {@code ids[0]} on top: the
     * next allocations pop them in the caller's order. A sequence's table freed this way comes back to the
     * next sequence in the same ascending order, not reversed: the attention kernel walks a run of blocks
     * laid out forward in memory faster than one laid out backwards ({@code DecodeAttentionBenchmark}'s
     * {@code layout=recycled}, 8k tokens, F32: 1.20x the contiguous kernel's time with the table handed
     * back reversed, 0.96x with it in order).
     */
    private int releaseAllInto(BlockCache c, int[] ids, int n) {
        int freed = 0;
        for (int i = n - 1; i >= 0; i--) {
            int id = ids[i];
            int rc = decrementRefCount(id);
            if (rc <= 0) {
                undoReleases(c, ids, i + 1, n, freed);
                throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free; ids[" + i
                        + "] of " + n + ", nothing released)");
            }
            if (rc == 2) {
                addShared(c, -1);
            } else if (rc == 1) {
                pushFreed(c, id);
                freed++;
            }
        }
        return freed;
    }

    /** Undoes the releases of {@code ids[from .. n)} by {@link #releaseAllInto}, which freed {@code freed} blocks. */
    private void undoReleases(BlockCache c, int[] ids, int from, int n, int freed) {
        for (int k = 0; k < freed; k++) { // the ids this call freed are the top of the stack it pushed to
            int id;
            if (c == null) {
                int top = freeTop() - 1;
                id = freeStack[top];
                setFreeTop(top);
            } else {
                int top = c.countLocked() - 1;
                id = c.id(top);
                c.count(top);
            }
            generations[m(id)] = generations[m(id)] - 1;
        }
        for (int j = from; j < n; j++) {
            if ((int) INTS.getAndAdd(refCounts, m(ids[j]), 1) == 1) {
                addShared(c, 1);
            }
        }
    }

    /**
     * Frees a block held by exactly one owner.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free (double free), shared (reference count above
     *     1; use {@link #release(int)}), the pool is closed, or it is an {@code OWNER} pool and the
     *     caller is not its owner
     */
    public void free(int id) {
        if (confined && id >= 0 && id < blockCount && refCounts[id] == 1 && !closedPlain) {
            assert ownedByCaller(); // the owner's fast path, as in allocate()
            long st = state;
            refCounts[id] = 0;
            generations[id] = generations[id] + 1;
            freeStack[(int) st] = id;
            state = st + 1;
            return;
        }
        checkId(id);
        int rc;
        if (cached) {
            BlockCache c = threadCache.get();
            if (c != BlockCache.NONE) {
                c.lock();
                if (c.countLocked() == c.capacity()) {
                    c.unlock();
                    flush(c, c.capacity() / 2);
                    c.lock();
                }
                try {
                    checkOpen();
                    rc = freeRefCount(id);
                    if (rc == 1) {
                        pushFreed(c, id);
                    }
                } finally {
                    c.unlock();
                }
                checkFreed(id, rc);
                return;
            }
        } else if (confined) {
            checkOwner();
            checkFreed(id, freeExclusive(id));
            return;
        }
        synchronized (lock) {
            rc = freeExclusive(id);
        }
        checkFreed(id, rc);
    }

    private int freeExclusive(int id) {
        checkOpen();
        beginChange();
        try {
            int rc = freeRefCount(id);
            if (rc == 1) {
                pushFreed(null, id);
            }
            return rc;
        } finally {
            endChange();
        }
    }

    private static void checkFreed(int id, int rc) {
        if (rc != 1) {
            throw new IllegalStateException("blockId: " + id + " refCount: " + rc
                    + " (expected: 1, an allocated block with a single owner)");
        }
    }

    /** Count - 1 if the block is allocated; returns the count before (nothing changed if it was <= 0). */
    private int decrementRefCount(int id) {
        if (!cached) {
            int rc = refCounts[m(id)];
            if (rc > 0) {
                INTS.setRelease(refCounts, m(id), rc - 1);
            }
            return rc;
        }
        while (true) {
            int rc = (int) INTS.getVolatile(refCounts, m(id));
            if (rc <= 0 || INTS.compareAndSet(refCounts, m(id), rc, rc - 1)) {
                return rc;
            }
        }
    }

    /** Count + {@code more} if allocated and within the limit; returns the count before. */
    private int incrementRefCount(int id, int more) {
        if (!cached) {
            int rc = refCounts[m(id)];
            if (rc > 0 && rc <= Integer.MAX_VALUE - more) {
                INTS.setRelease(refCounts, m(id), rc + more);
            }
            return rc;
        }
        while (true) {
            int rc = (int) INTS.getVolatile(refCounts, m(id));
            if (rc <= 0 || rc > Integer.MAX_VALUE - more || INTS.compareAndSet(refCounts, m(id), rc, rc + more)) {
                return rc;
            }
        }
    }

    /** Count 1 -> 0; returns the count before (nothing changed unless it was 1). */
    private int freeRefCount(int id) {
        if (!cached) {
            int rc = refCounts[m(id)];
            if (rc == 1) {
                INTS.setRelease(refCounts, m(id), 0);
            }
            return rc;
        }
        while (true) {
            int rc = (int) INTS.getVolatile(refCounts, m(id));
            if (rc != 1 || INTS.compareAndSet(refCounts, m(id), 1, 0)) {
                return rc;
            }
        }
    }

    /** A block whose count just reached 0: next generation, onto {@code c} (or the shared stack if null). */
    private void pushFreed(BlockCache c, int id) {
        generations[m(id)] = generations[m(id)] + 1;
        if (c == null) {
            int top = freeTop();
            freeStack[top] = id;
            setFreeTop(top + 1);
        } else {
            int n = c.countLocked();
            c.id(n, id);
            c.count(n + 1);
        }
    }

    private void addShared(BlockCache c, int d) {
        if (c == null) {
            SHARED.setRelease(this, sharedBlocks + d);
        } else {
            c.addShared(d);
        }
    }

    /** Starts a change under the lock or by the owner: readers that see an odd version retry. */
    private void beginChange() {
        if (confined) {
            return; // one writer, and no reader synchronizes with it (see "Reads")
        }
        STATE.setOpaque(this, state + VERSION_ONE);
        VarHandle.storeStoreFence(); // the odd version is visible before any changed field
    }

    private void endChange() {
        if (confined) {
            return;
        }
        STATE.setRelease(this, state + VERSION_ONE);
    }

    /** Ids on the shared stack; under the lock or by the owner. */
    private int freeTop() {
        return (int) state;
    }

    /** Sets the shared stack's top inside a change (the version stays odd). */
    private void setFreeTop(int top) {
        STATE.setOpaque(this, (state & ~TOP_MASK) | (top & TOP_MASK));
    }

    /**
     * The stamp of a consistent moment, or -1 while a change is in progress: the pool's version, and
     * with thread caches the sum of every cache's version (each only grows, so an equal sum means no
     * cache changed). A reader reads its values between {@code stamp()} and {@link #validate(long)}.
     */
    private long stamp() {
        if (confined) {
            return 0; // no version: a read from another thread is a plain snapshot (see "Reads")
        }
        int g = (int) ((long) STATE.getAcquire(this) >>> 32);
        if ((g & 1) != 0) {
            return -1;
        }
        if (!cached) {
            return g & 0xFFFF_FFFFL;
        }
        int sum = 0;
        for (BlockCache c : caches) {
            int v = c.versionAcquire();
            if ((v & 1) != 0) {
                return -1;
            }
            sum += v;
        }
        return ((long) g << 32) | (sum & 0xFFFF_FFFFL);
    }

    /** Whether nothing changed since {@code stamp} was taken (the values read in between are consistent). */
    private boolean validate(long stamp) {
        VarHandle.loadLoadFence();
        return stamp() == stamp;
    }

    // ---------------------------------------------------------------------------------------------
    // handles

    /**
     * A handle {@code generation << 32 | id} of an allocated block, for holders that must detect a
     * later free (see {@link #resolve(long)}). Lock-free.
     *
     * @throws IllegalStateException if the block is free or the pool is closed
     */
    public long handle(int id) {
        checkId(id);
        checkOpen();
        while (true) {
            long s = stamp();
            if (s != -1) {
                int rc = (int) INTS.getOpaque(refCounts, m(id));
                int gen = (int) INTS.getOpaque(generations, m(id));
                if (validate(s)) {
                    if (rc <= 0) {
                        throw freeBlock(id);
                    }
                    return ((long) gen << 32) | (id & 0xFFFF_FFFFL);
                }
            }
            Thread.onSpinWait();
        }
    }

    /** The block id in bits 0-31 of a handle. */
    public static int handleId(long handle) {
        return (int) handle;
    }

    /** The generation in bits 32-63 of a handle. */
    public static int handleGeneration(long handle) {
        return (int) (handle >>> 32);
    }

    /**
     * The id of a handle's block if it is still allocated in the handle's generation. Lock-free.
     *
     * @throws IllegalStateException naming the id, the handle's and the block's generation if the
     *     block was freed since the handle was taken
     */
    public int resolve(long handle) {
        int id = handleId(handle);
        checkId(id);
        int gen = handleGeneration(handle);
        while (true) {
            long s = stamp();
            if (s != -1) {
                int rc = (int) INTS.getOpaque(refCounts, m(id));
                int now = (int) INTS.getOpaque(generations, m(id));
                if (validate(s)) {
                    if (now != gen || rc <= 0) {
                        throw new IllegalStateException("handle of blockId: " + id + " generation: " + gen
                                + " is stale (expected: generation " + now + " and allocated, was: "
                                + (rc > 0 ? "allocated" : "free") + ")");
                    }
                    return id;
                }
            }
            Thread.onSpinWait();
        }
    }

    /** Whether {@link #resolve(long)} would succeed right now. Lock-free. */
    public boolean isLive(long handle) {
        int id = handleId(handle);
        if (id < 0 || id >= blockCount) {
            return false;
        }
        while (true) {
            long s = stamp();
            if (s != -1) {
                int rc = (int) INTS.getOpaque(refCounts, m(id));
                int now = (int) INTS.getOpaque(generations, m(id));
                if (validate(s)) {
                    return now == handleGeneration(handle) && rc > 0;
                }
            }
            Thread.onSpinWait();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // memory

    /**
     * The {@code bytesPerBlock} bytes of an allocated block, read-only: a slice of the pool's memory,
     * no copy, no allocation. Writes go through {@link #writableBlock(int)}, which refuses a shared
     * block.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free or the pool is closed
     */
    public MemorySegment block(int id) {
        checkId(id);
        if ((int) INTS.getAcquire(refCounts, m(id)) <= 0) {
            throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
        }
        checkOpen();
        return (MemorySegment) SEGMENTS.getAcquire(readOnlyBlocks, id);
    }

    /**
     * The bytes of a block held by exactly one owner, writable (no copy, no allocation). A shared block
     * (reference count above 1) is never written in place: copy it first.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free or shared, or the pool is closed
     */
    public MemorySegment writableBlock(int id) {
        checkId(id);
        int rc = (int) INTS.getAcquire(refCounts, m(id));
        if (rc != 1) {
            throw new IllegalStateException("blockId: " + id + " refCount: " + rc
                    + " (expected: 1, a block with a single owner; a shared block is never written in place)");
        }
        checkOpen();
        return (MemorySegment) SEGMENTS.getAcquire(blocks, id);
    }

    /**
     * The writable bytes of a block, with no check: for the cache's own writes into blocks it proved
     * exclusive and its reads of blocks it holds. Null if the block's chunk was never committed.
     */
    MemorySegment segment(int id) {
        return (MemorySegment) SEGMENTS.getAcquire(blocks, id);
    }

    /**
     * Copies all bytes of block {@code from} onto block {@code to} (both allocated; {@code to} held by
     * the caller alone).
     */
    public void copy(int from, int to) {
        MemorySegment.copy(block(from), 0, writableBlock(to), 0, bytesPerBlock);
    }

    /**
     * Reserves the memory of {@code chunk} unless it is reserved already, holding no lock: the memory
     * is published with one compare-and-set on the chunk's slot, and whoever finds the slot set (this
     * thread or another) sets the block slices still missing, so the caller never waits for another
     * thread's reservation. Memory that lost the race becomes the {@link #spare} of a later chunk.
     *
     * @return {@code false} if the memory could not be reserved (nothing changed but the failure count)
     * @throws IllegalStateException if the pool is closed (also when it closes during the reservation)
     */
    private boolean commitChunk(int chunk) {
        checkOpen();
        MemorySegment memory = (MemorySegment) SEGMENTS.getAcquire(chunks, chunk);
        if (memory == null) {
            int count = Math.min(blocksPerChunk, blockCount - chunk * blocksPerChunk);
            long bytes = count * bytesPerBlock;
            MemorySegment mine = takeSpare(bytes);
            if (mine == null) {
                try {
                    if (faults != null && faults.failChunkCommit(chunk)) {
                        throw new OutOfMemoryError("injected: commit of chunk " + chunk + " (" + bytes + " bytes)");
                    }
                    mine = arena.allocate(bytes, CHUNK_ALIGNMENT);
                } catch (OutOfMemoryError e) {
                    // Off-heap memory the machine could not give: the allocation answers "no" and a later
                    // one tries again (freed blocks of committed chunks keep the pool working meanwhile).
                    FAILURES.getAndAdd(this, 1L);
                    return false;
                } catch (IllegalStateException e) {
                    checkOpen(); // the arena closed under the reservation: the pool's own message
                    throw e;
                }
            }
            memory = (MemorySegment) SEGMENTS.compareAndExchange(chunks, chunk, null, mine);
            if (memory == null) {
                memory = mine;
                CHUNKS.getAndAdd(this, 1);
            } else {
                SPARE.compareAndSet(this, null, mine); // lost the race; a third racer's memory waits for close
            }
        }
        int first = chunk * blocksPerChunk;
        int count = Math.min(blocksPerChunk, blockCount - first);
        for (int i = 0; i < count; i++) {
            if (SEGMENTS.getAcquire(blocks, first + i) == null) {
                MemorySegment slice = memory.asSlice(i * bytesPerBlock, bytesPerBlock);
                SEGMENTS.setRelease(readOnlyBlocks, first + i, slice.asReadOnly());
                SEGMENTS.setRelease(blocks, first + i, slice);
            }
        }
        return true;
    }

    /** The spare memory if it holds {@code bytes} (taken), else null (a spare too small stays). */
    private MemorySegment takeSpare(long bytes) {
        MemorySegment s = (MemorySegment) SPARE.getAcquire(this);
        if (s == null || s.byteSize() < bytes || !SPARE.compareAndSet(this, s, null)) {
            return null;
        }
        return s.byteSize() == bytes ? s : s.asSlice(0, bytes);
    }

    // ---------------------------------------------------------------------------------------------
    // queries

    /** Total number of blocks. */
    public int blockCount() {
        return blockCount;
    }

    /** Bytes of one block. */
    public long bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Blocks per lazily reserved chunk. */
    public int blocksPerChunk() {
        return blocksPerChunk;
    }

    /**
     * Free blocks right now: on the shared stack plus in every thread's cache (linearizable; a snapshot
     * under concurrency).
     */
    public int freeBlocks() {
        while (true) {
            long s = stamp();
            if (s != -1) {
                int free = (int) (long) STATE.getOpaque(this) + cachedCount();
                if (validate(s)) {
                    return free;
                }
            }
            Thread.onSpinWait();
        }
    }

    /** Of the {@link #freeBlocks()}, those sitting in threads' caches (0 unless {@code THREAD_CACHES}; linearizable). */
    public int threadCachedBlocks() {
        if (!cached) {
            return 0;
        }
        while (true) {
            long s = stamp();
            if (s != -1) {
                int n = cachedCount();
                if (validate(s)) {
                    return n;
                }
            }
            Thread.onSpinWait();
        }
    }

    private int cachedCount() {
        if (!cached) {
            return 0;
        }
        int n = 0;
        for (BlockCache c : caches) {
            n += c.count();
        }
        return n;
    }

    /** Allocated blocks right now: {@code blockCount() - freeBlocks()}. */
    public int usedBlocks() {
        return blockCount - freeBlocks();
    }

    /** Allocated blocks whose reference count is above 1 (linearizable). */
    public int sharedBlocks() {
        while (true) {
            long s = stamp();
            if (s != -1) {
                int shared = (int) SHARED.getOpaque(this);
                if (cached) {
                    for (BlockCache c : caches) {
                        shared += c.sharedDelta();
                    }
                }
                if (validate(s)) {
                    return shared;
                }
            }
            Thread.onSpinWait();
        }
    }

    /** Bytes of off-heap memory reserved so far (whole chunks). */
    public long reservedBytes() {
        long bytes = 0;
        for (int i = 0; i < chunks.length; i++) {
            MemorySegment c = (MemorySegment) SEGMENTS.getAcquire(chunks, i);
            if (c != null) {
                bytes += c.byteSize();
            }
        }
        MemorySegment s = (MemorySegment) SPARE.getAcquire(this);
        return s == null ? bytes : bytes + s.byteSize();
    }

    /** Chunks reserved so far. */
    public int committedChunks() {
        return (int) CHUNKS.getAcquire(this);
    }

    /** Chunk reservations that failed for lack of memory (or by an injected fault) since creation. */
    public long chunkCommitFailures() {
        return (long) FAILURES.getVolatile(this);
    }

    /**
     * The reference count of a block (0 when free); linearizable with every state change.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public int refCount(int id) {
        checkId(id);
        while (true) {
            long s = stamp();
            if (s != -1) {
                int rc = (int) INTS.getOpaque(refCounts, m(id));
                if (validate(s)) {
                    return rc;
                }
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The reference count with one acquire read and no retry: enough for an owner that only asks
     * "am I the only holder?" of a block it holds (the count cannot drop to 0 under it).
     */
    int refCountAcquire(int id) {
        return (int) INTS.getAcquire(refCounts, m(id));
    }

    /**
     * The generation of a block: how many times it has been freed (linearizable).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public int generation(int id) {
        checkId(id);
        while (true) {
            long s = stamp();
            if (s != -1) {
                int gen = (int) INTS.getOpaque(generations, m(id));
                if (validate(s)) {
                    return gen;
                }
            }
            Thread.onSpinWait();
        }
    }

    /** Whether {@link #close()} has run successfully. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases all memory at once (blocks in thread caches included); afterwards every operation but
     * the queries throws {@link IllegalStateException}. Idempotent. Waits for every thread cache's
     * change in progress; a chunk reservation in progress on another thread fails with
     * {@link IllegalStateException} (its memory, if reserved, is freed with the rest). May be called from any thread, also
     * for an {@code OWNER} pool, but must not race with the owner's changes.
     *
     * @throws IllegalStateException if the memory is still in use by an I/O operation on a block's
     *     buffer (the arena refuses to close): the pool then stays open and usable, and a later
     *     {@code close()} frees it
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            BlockCache[] cs = cached ? caches : NO_CACHES;
            for (BlockCache c : cs) {
                c.lock(); // no cached allocation or free is half done, and none starts until closed is set
            }
            try {
                arena.close();
                closed = true;
                closedPlain = true;
            } catch (IllegalStateException e) {
                throw new IllegalStateException("block pool: memory in use (" + e.getMessage()
                        + "; expected: no I/O on a block's buffer); the pool stays open, close it again later", e);
            } finally {
                for (BlockCache c : cs) {
                    c.unlock();
                }
            }
        }
    }

    private void checkId(int id) {
        if (id < 0 || id >= blockCount) {
            throw new IllegalArgumentException("blockId: " + id + " (expected: 0 <= blockId < " + blockCount + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("block pool: closed (expected: open)");
        }
    }

    @Override
    public String toString() {
        return "BlockPool[blocks=" + blockCount + ", free=" + freeBlocks() + ", threadCached=" + threadCachedBlocks()
                + ", bytesPerBlock=" + bytesPerBlock + ", threading=" + threading + "]";
    }
}
