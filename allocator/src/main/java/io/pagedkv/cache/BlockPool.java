package io.pagedkv.cache;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A fixed number of equally sized off-heap blocks, handed out by id with reference counts.
 *
 * <h2>Algorithm</h2>
 * Free block ids sit on an array stack ({@code freeStack[0 .. freeTop)}); {@link #allocate()} pops,
 * a release that drops a block's reference count to zero pushes. Both are O(1). The stack starts
 * so that ids come out in ascending order (0, 1, 2, ...) and a freed block is the next one handed
 * out (LIFO keeps recently used memory hot). Every block has a reference count (0 when free) and a
 * generation number that is incremented each time the block returns to the free stack, so that a
 * {@linkplain #handle(int) handle} taken before a free is detected as stale afterwards.
 *
 * <h2>Memory</h2>
 * Blocks live in chunks of {@link #blocksPerChunk()} blocks; a chunk is reserved from one shared
 * {@link Arena} the first time one of its blocks is allocated, so a pool of many GiB costs nothing
 * until used ({@code Arena.allocate} zero-fills, hence the lazy chunks). The reservation (and its
 * zero-fill) runs outside the pool's lock, under a separate commit lock, so threads that allocate and
 * free committed blocks never wait for it; an allocation that needs a new chunk commits it and then
 * takes its blocks, all or nothing. Block {@code id} is bytes
 * {@code [(id % blocksPerChunk) * bytesPerBlock, +bytesPerBlock)} of chunk {@code id / blocksPerChunk}.
 * {@link #close()} frees all chunks at once; a segment obtained earlier then throws
 * {@link IllegalStateException} on access instead of reading freed memory. The content of a newly
 * allocated block is unspecified (zero on first use, stale bytes after reuse): a reader must only read
 * bytes its own owner wrote ({@link Sequence} enforces that with its written mark).
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
 * pool) throws with the value and the expectation in the message, and changes nothing.
 *
 * <h2>Threading</h2>
 * Thread-safe: every state change happens under one private monitor (uncontended, an allocate + free
 * pair costs tens of nanoseconds and allocates nothing on the heap; a spin lock was measured too and
 * rejected: on an oversubscribed machine its waiters convoy behind a descheduled holder).
 * {@link #refCount(int)}, {@link #freeBlocks()}, {@link #usedBlocks()} and {@link #sharedBlocks()} are
 * lock-free and linearizable: a state change bumps a version (odd while it runs) and a reader retries
 * until it read a value between two equal even versions (a sequence lock), so a reader that sees a
 * block allocated also sees the free count after that allocation. {@link #block(int)} is a lock-free
 * read. Reading and writing the bytes of a block is the caller's business: distinct blocks (and
 * distinct bytes) may be accessed in parallel.
 */
public final class BlockPool implements AutoCloseable {

    /** Returned by {@link #allocate()} when no block can be handed out. */
    public static final int NO_BLOCK = -1;
    /** Default bytes per lazily reserved chunk: 64 MiB (at least one block per chunk). */
    public static final long DEFAULT_CHUNK_BYTES = 64L << 20;
    /** Memory alignment of each chunk (a cache line). */
    public static final long CHUNK_ALIGNMENT = 64;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle SEGMENTS = MethodHandles.arrayElementVarHandle(MemorySegment[].class);
    private static final VarHandle FREE_TOP;
    private static final VarHandle SHARED;
    private static final VarHandle CHUNKS;
    private static final VarHandle VERSION;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FREE_TOP = l.findVarHandle(BlockPool.class, "freeTop", int.class);
            SHARED = l.findVarHandle(BlockPool.class, "sharedBlocks", int.class);
            CHUNKS = l.findVarHandle(BlockPool.class, "committedChunks", int.class);
            VERSION = l.findVarHandle(BlockPool.class, "version", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int blockCount;
    private final long bytesPerBlock;
    private final int blocksPerChunk;
    private final Object lock = new Object();
    /** Guards chunk reservation; taken without {@link #lock}, or before it (close). */
    private final Object commitLock = new Object();
    private final Arena arena;
    /** Null when no faults are injected (the common case: one null check per allocation). */
    private final FaultInjector faults;

    private final int[] freeStack;
    private final int[] refCounts;
    private final int[] generations;
    /** Writable slices, published once per chunk (release), read with acquire. */
    private final MemorySegment[] blocks;
    /** The same slices, read-only: what {@link #block(int)} hands out. */
    private final MemorySegment[] readOnlyBlocks;
    private final MemorySegment[] chunks;

    /** Number of ids on the free stack; written under the lock with release, read lock-free. */
    private int freeTop;
    private int sharedBlocks;
    private int committedChunks;
    /** Sequence-lock version: odd while a state change is in progress; written under the lock. */
    private int version;
    private long commitFailures;
    private volatile boolean closed;

    /**
     * A pool of {@code blockCount} blocks of {@code bytesPerBlock} bytes, reserved in chunks of
     * {@link #DEFAULT_CHUNK_BYTES}.
     */
    public BlockPool(int blockCount, long bytesPerBlock) {
        this(blockCount, bytesPerBlock, defaultBlocksPerChunk(blockCount, bytesPerBlock));
    }

    /**
     * A pool of {@code blockCount} blocks of {@code bytesPerBlock} bytes, reserved
     * {@code blocksPerChunk} blocks at a time.
     *
     * @throws IllegalArgumentException if a count or size is not positive, or a chunk would exceed
     *     {@link Long#MAX_VALUE} bytes
     */
    public BlockPool(int blockCount, long bytesPerBlock, int blocksPerChunk) {
        this(blockCount, bytesPerBlock, blocksPerChunk, null);
    }

    /**
     * A pool like {@link #BlockPool(int, long, int)} whose allocations and chunk commits consult
     * {@code faults} (tests; {@code null} for none).
     *
     * @throws IllegalArgumentException if a count or size is not positive, or a chunk would exceed
     *     {@link Long#MAX_VALUE} bytes
     */
    public BlockPool(int blockCount, long bytesPerBlock, int blocksPerChunk, FaultInjector faults) {
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
        this.blockCount = blockCount;
        this.bytesPerBlock = bytesPerBlock;
        this.blocksPerChunk = Math.min(blocksPerChunk, blockCount);
        this.chunks = new MemorySegment[chunkCount(blockCount, this.blocksPerChunk)];
        this.freeStack = new int[blockCount];
        for (int i = 0; i < blockCount; i++) {
            freeStack[i] = blockCount - 1 - i;
        }
        this.refCounts = new int[blockCount];
        this.generations = new int[blockCount];
        this.blocks = new MemorySegment[blockCount];
        this.readOnlyBlocks = new MemorySegment[blockCount];
        this.arena = Arena.ofShared();
        this.freeTop = blockCount;
        this.faults = faults;
    }

    /** A pool of {@code blockCount} blocks sized by {@code layout.bytesPerBlock()}. */
    public static BlockPool forLayout(CacheLayout layout, int blockCount) {
        return new BlockPool(blockCount, layout.bytesPerBlock());
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
    // allocation

    /**
     * Takes one free block and sets its reference count to 1.
     *
     * @return the block id, or {@link #NO_BLOCK} if none can be handed out (none is free, or the
     *     memory of its chunk could not be reserved); nothing changes then
     * @throws IllegalStateException if the pool is closed
     */
    public int allocate() {
        if (faults != null && faults.failAllocation(1)) {
            CacheEvents.poolExhausted(1, freeBlocks(), blockCount);
            return NO_BLOCK;
        }
        while (true) {
            int chunk;
            synchronized (lock) {
                checkOpen();
                int top = freeTop;
                if (top == 0) {
                    CacheEvents.poolExhausted(1, 0, blockCount);
                    return NO_BLOCK;
                }
                int id = freeStack[top - 1];
                if (SEGMENTS.getAcquire(blocks, id) != null) {
                    beginChange();
                    INTS.setRelease(refCounts, id, 1);
                    FREE_TOP.setRelease(this, top - 1);
                    endChange();
                    return id;
                }
                chunk = id / blocksPerChunk;
            }
            if (!commitChunk(chunk)) {
                CacheEvents.poolExhausted(1, freeBlocks(), blockCount);
                return NO_BLOCK;
            }
        }
    }

    /**
     * Takes {@code n} free blocks, all or none, writing their ids to {@code out[0 .. n)}.
     *
     * @return {@code true} if all {@code n} were taken; {@code false} if they cannot be handed out
     *     (fewer are free, or a chunk's memory could not be reserved), in which case nothing changes
     *     (not even {@code out})
     * @throws IllegalArgumentException if {@code n < 0} or {@code out} is shorter than {@code n}
     * @throws IllegalStateException if the pool is closed
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
        while (true) {
            int chunk = -1;
            synchronized (lock) {
                checkOpen();
                int top = freeTop;
                if (top < n) {
                    CacheEvents.poolExhausted(n, top, blockCount);
                    return false;
                }
                for (int i = 0; i < n; i++) {
                    int id = freeStack[top - 1 - i];
                    if (SEGMENTS.getAcquire(blocks, id) == null) {
                        chunk = id / blocksPerChunk;
                        break;
                    }
                }
                if (chunk < 0) {
                    beginChange();
                    for (int i = 0; i < n; i++) {
                        int id = freeStack[top - 1 - i];
                        INTS.setRelease(refCounts, id, 1);
                        out[i] = id;
                    }
                    FREE_TOP.setRelease(this, top - n);
                    endChange();
                    return true;
                }
            }
            // Reserve the missing chunk outside the lock, then look again: the stack may have moved.
            // Each round commits one more chunk, so this ends.
            if (!commitChunk(chunk)) {
                CacheEvents.poolExhausted(n, freeBlocks(), blockCount);
                return false;
            }
        }
    }

    /**
     * Adds one reference to an allocated block (a second owner shares it).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free, its count is at {@link Integer#MAX_VALUE},
     *     or the pool is closed
     */
    public void retain(int id) {
        checkId(id);
        synchronized (lock) {
            checkOpen();
            int rc = refCounts[id];
            checkRetainable(id, rc, 1);
            beginChange();
            if (rc == 1) {
                SHARED.setRelease(this, sharedBlocks + 1);
            }
            INTS.setRelease(refCounts, id, rc + 1);
            endChange();
        }
    }

    private static void checkRetainable(int id, int rc, int more) {
        if (rc <= 0) {
            throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
        }
        if (rc > Integer.MAX_VALUE - more) {
            throw new IllegalStateException("blockId: " + id + " refCount: " + rc + " + " + more + " (expected: <= "
                    + Integer.MAX_VALUE + ")");
        }
    }

    /**
     * Adds one reference to each of {@code ids[0 .. n)}, all or none (an id listed twice gains two).
     *
     * @throws IllegalArgumentException if an id is out of range
     * @throws IllegalStateException if one of the blocks is free or would pass
     *     {@link Integer#MAX_VALUE} references (then no count changes), or the pool is closed
     */
    public void retainAll(int[] ids, int n) {
        if (n < 0 || n > ids.length) {
            throw new IllegalArgumentException("n: " + n + " (expected: 0 <= n <= " + ids.length + ")");
        }
        for (int i = 0; i < n; i++) {
            checkId(ids[i]);
        }
        synchronized (lock) {
            checkOpen();
            for (int i = 0; i < n; i++) {
                int id = ids[i];
                int rc = refCounts[id];
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
            for (int i = 0; i < n; i++) {
                int id = ids[i];
                int rc = refCounts[id];
                if (rc == 1) {
                    SHARED.setRelease(this, sharedBlocks + 1);
                }
                INTS.setRelease(refCounts, id, rc + 1);
            }
            endChange();
        }
    }

    /**
     * Drops one reference; the block returns to the free list when the count reaches zero (its
     * generation then advances, so old handles become stale).
     *
     * @return {@code true} if the block became free
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is already free (a double free) or the pool is closed
     */
    public boolean release(int id) {
        checkId(id);
        synchronized (lock) {
            checkOpen();
            int rc = refCounts[id];
            if (rc <= 0) {
                throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
            }
            beginChange();
            if (rc == 2) {
                SHARED.setRelease(this, sharedBlocks - 1);
            }
            boolean freed = rc == 1;
            if (freed) {
                freeLocked(id);
            } else {
                INTS.setRelease(refCounts, id, rc - 1);
            }
            endChange();
            return freed;
        }
    }

    /**
     * Frees a block held by exactly one owner.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free (double free), shared (reference count above
     *     1; use {@link #release(int)}), or the pool is closed
     */
    public void free(int id) {
        checkId(id);
        synchronized (lock) {
            checkOpen();
            int rc = refCounts[id];
            if (rc != 1) {
                throw new IllegalStateException("blockId: " + id + " refCount: " + rc
                        + " (expected: 1, an allocated block with a single owner)");
            }
            beginChange();
            freeLocked(id);
            endChange();
        }
    }

    private void freeLocked(int id) {
        INTS.setRelease(refCounts, id, 0);
        generations[id] = generations[id] + 1;
        int top = freeTop;
        freeStack[top] = id;
        FREE_TOP.setRelease(this, top + 1);
    }

    /** Starts a state change under the lock: readers that see an odd version retry. */
    private void beginChange() {
        VERSION.setOpaque(this, version + 1);
        VarHandle.storeStoreFence(); // the odd version is visible before any changed field
    }

    private void endChange() {
        VERSION.setRelease(this, version + 1);
    }

    // ---------------------------------------------------------------------------------------------
    // handles

    /**
     * A handle {@code generation << 32 | id} of an allocated block, for holders that must detect a
     * later free (see {@link #resolve(long)}).
     *
     * @throws IllegalStateException if the block is free or the pool is closed
     */
    public long handle(int id) {
        checkId(id);
        synchronized (lock) {
            checkOpen();
            if (refCounts[id] <= 0) {
                throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
            }
            return ((long) generations[id] << 32) | (id & 0xFFFF_FFFFL);
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
     * The id of a handle's block if it is still allocated in the handle's generation.
     *
     * @throws IllegalStateException naming the id, the handle's and the block's generation if the
     *     block was freed since the handle was taken
     */
    public int resolve(long handle) {
        int id = handleId(handle);
        checkId(id);
        int gen = handleGeneration(handle);
        synchronized (lock) {
            if (generations[id] != gen || refCounts[id] <= 0) {
                throw new IllegalStateException("handle of blockId: " + id + " generation: " + gen
                        + " is stale (expected: generation " + generations[id] + " and allocated, was: "
                        + (refCounts[id] > 0 ? "allocated" : "free") + ")");
            }
            return id;
        }
    }

    /** Whether {@link #resolve(long)} would succeed right now. */
    public boolean isLive(long handle) {
        int id = handleId(handle);
        if (id < 0 || id >= blockCount) {
            return false;
        }
        synchronized (lock) {
            return generations[id] == handleGeneration(handle) && refCounts[id] > 0;
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
        if ((int) INTS.getAcquire(refCounts, id) <= 0) {
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
        int rc = (int) INTS.getAcquire(refCounts, id);
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
     * Reserves the memory of {@code chunk} unless it is reserved already; under the commit lock only,
     * so allocations of committed blocks go on meanwhile.
     *
     * @return {@code false} if the memory could not be reserved (nothing changed but the failure count)
     */
    private boolean commitChunk(int chunk) {
        synchronized (commitLock) {
            checkOpen();
            if (SEGMENTS.getAcquire(chunks, chunk) != null) {
                return true;
            }
            int first = chunk * blocksPerChunk;
            int count = Math.min(blocksPerChunk, blockCount - first);
            MemorySegment memory;
            try {
                if (faults != null && faults.failChunkCommit(chunk)) {
                    throw new OutOfMemoryError("injected: commit of chunk " + chunk + " (" + count * bytesPerBlock
                            + " bytes)");
                }
                memory = arena.allocate(count * bytesPerBlock, CHUNK_ALIGNMENT);
            } catch (OutOfMemoryError e) {
                // Off-heap memory the machine could not give: the allocation answers "no" and a later
                // one tries again (freed blocks of committed chunks keep the pool working meanwhile).
                commitFailures++;
                return false;
            }
            for (int i = 0; i < count; i++) {
                MemorySegment slice = memory.asSlice(i * bytesPerBlock, bytesPerBlock);
                SEGMENTS.setRelease(readOnlyBlocks, first + i, slice.asReadOnly());
                SEGMENTS.setRelease(blocks, first + i, slice);
            }
            SEGMENTS.setRelease(chunks, chunk, memory);
            CHUNKS.setRelease(this, committedChunks + 1);
            return true;
        }
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

    /** Free blocks right now (linearizable; a snapshot under concurrency). */
    public int freeBlocks() {
        while (true) {
            int v = (int) VERSION.getAcquire(this);
            int free = (int) FREE_TOP.getOpaque(this);
            VarHandle.loadLoadFence();
            if ((v & 1) == 0 && v == (int) VERSION.getAcquire(this)) {
                return free;
            }
            Thread.onSpinWait();
        }
    }

    /** Allocated blocks right now: {@code blockCount() - freeBlocks()}. */
    public int usedBlocks() {
        return blockCount - freeBlocks();
    }

    /** Allocated blocks whose reference count is above 1 (linearizable). */
    public int sharedBlocks() {
        while (true) {
            int v = (int) VERSION.getAcquire(this);
            int shared = (int) SHARED.getOpaque(this);
            VarHandle.loadLoadFence();
            if ((v & 1) == 0 && v == (int) VERSION.getAcquire(this)) {
                return shared;
            }
            Thread.onSpinWait();
        }
    }

    /** Bytes of off-heap memory reserved so far (whole chunks). */
    public long reservedBytes() {
        synchronized (commitLock) {
            long bytes = 0;
            for (MemorySegment c : chunks) {
                if (c != null) {
                    bytes += c.byteSize();
                }
            }
            return bytes;
        }
    }

    /** Chunks reserved so far. */
    public int committedChunks() {
        return (int) CHUNKS.getAcquire(this);
    }

    /** Chunk reservations that failed for lack of memory (or by an injected fault) since creation. */
    public long chunkCommitFailures() {
        synchronized (commitLock) {
            return commitFailures;
        }
    }

    /**
     * The reference count of a block (0 when free); linearizable with every state change.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public int refCount(int id) {
        checkId(id);
        while (true) {
            int v = (int) VERSION.getAcquire(this);
            int rc = (int) INTS.getOpaque(refCounts, id);
            VarHandle.loadLoadFence();
            if ((v & 1) == 0 && v == (int) VERSION.getAcquire(this)) {
                return rc;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The reference count with one acquire read and no retry: enough for an owner that only asks
     * "am I the only holder?" of a block it holds (the count cannot drop to 0 under it).
     */
    int refCountAcquire(int id) {
        return (int) INTS.getAcquire(refCounts, id);
    }

    /**
     * The generation of a block: how many times it has been freed.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public int generation(int id) {
        checkId(id);
        synchronized (lock) {
            return generations[id];
        }
    }

    /** Whether {@link #close()} has run successfully. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases all memory at once; afterwards every operation but the queries throws
     * {@link IllegalStateException}. Idempotent. Waits for a chunk commit in progress.
     *
     * @throws IllegalStateException if the memory is still in use by an I/O operation on a block's
     *     buffer (the arena refuses to close): the pool then stays open and usable, and a later
     *     {@code close()} frees it
     */
    @Override
    public void close() {
        synchronized (commitLock) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                try {
                    arena.close();
                } catch (IllegalStateException e) {
                    throw new IllegalStateException("block pool: memory in use (" + e.getMessage()
                            + "; expected: no I/O on a block's buffer); the pool stays open, close it again later", e);
                }
                closed = true;
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
        return "BlockPool[blocks=" + blockCount + ", free=" + freeBlocks() + ", bytesPerBlock=" + bytesPerBlock + "]";
    }
}
