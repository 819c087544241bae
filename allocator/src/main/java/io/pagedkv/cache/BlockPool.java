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
 * until used ({@code Arena.allocate} zero-fills, hence the lazy chunks). Block {@code id} is bytes
 * {@code [(id % blocksPerChunk) * bytesPerBlock, +bytesPerBlock)} of chunk {@code id / blocksPerChunk}.
 * {@link #close()} frees all chunks at once; a segment obtained earlier then throws
 * {@link IllegalStateException} on access instead of reading freed memory. The content of a newly
 * allocated block is unspecified (zero on first use, stale bytes after reuse).
 *
 * <h2>Handles</h2>
 * A {@code long} handle packs {@code generation << 32 | id}: bits 0-31 are the block id, bits 32-63
 * the block's generation at the time the handle was taken. {@link #resolve(long)} returns the id if
 * the block is still allocated in that generation and throws otherwise.
 *
 * <h2>Errors</h2>
 * The hot paths return codes: {@link #allocate()} returns {@link #NO_BLOCK} and
 * {@link #allocate(int, int[])} returns {@code false} when the pool is short, changing nothing. Misuse
 * (an id out of range, releasing or retaining a free block, a stale handle, a closed pool) throws
 * with the value and the expectation in the message, and changes nothing.
 *
 * <h2>Threading</h2>
 * Thread-safe: every state change happens under one private monitor (uncontended, an allocate + free
 * pair costs tens of nanoseconds and allocates nothing on the heap; counters read lock-free are
 * published with release stores rather than volatile writes, so no store fence is paid per call; a
 * spin lock was measured too and rejected: on an oversubscribed machine its waiters convoy behind a
 * descheduled holder); {@link #refCount(int)}, {@link #freeBlocks()} and {@link #block(int)} are
 * lock-free reads. Reading and writing the bytes of
 * a block is the caller's business: distinct blocks (and distinct bytes) may be accessed in parallel.
 */
public final class BlockPool implements AutoCloseable {

    /** Returned by {@link #allocate()} when no block is free. */
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

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FREE_TOP = l.findVarHandle(BlockPool.class, "freeTop", int.class);
            SHARED = l.findVarHandle(BlockPool.class, "sharedBlocks", int.class);
            CHUNKS = l.findVarHandle(BlockPool.class, "committedChunks", int.class);
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

    private final int[] freeStack;
    private final int[] refCounts;
    private final int[] generations;
    private final MemorySegment[] blocks;
    private final MemorySegment[] chunks;

    /** Number of ids on the free stack; written under the lock with release, read lock-free with acquire. */
    private int freeTop;
    private int sharedBlocks;
    private int committedChunks;
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
        this.freeStack = new int[blockCount];
        for (int i = 0; i < blockCount; i++) {
            freeStack[i] = blockCount - 1 - i;
        }
        this.refCounts = new int[blockCount];
        this.generations = new int[blockCount];
        this.blocks = new MemorySegment[blockCount];
        this.chunks = new MemorySegment[(blockCount + this.blocksPerChunk - 1) / this.blocksPerChunk];
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

    // ---------------------------------------------------------------------------------------------
    // allocation

    /**
     * Takes one free block and sets its reference count to 1.
     *
     * @return the block id, or {@link #NO_BLOCK} if none is free (nothing changes)
     * @throws IllegalStateException if the pool is closed
     */
    public int allocate() {
        if (faults != null && faults.failAllocation(1)) {
            CacheEvents.poolExhausted(1, freeBlocks(), blockCount);
            return NO_BLOCK;
        }
        synchronized (lock) {
            checkOpen();
            int top = freeTop;
            if (top == 0) {
                CacheEvents.poolExhausted(1, 0, blockCount);
                return NO_BLOCK;
            }
            int id = freeStack[top - 1];
            commit(id);
            INTS.setRelease(refCounts, id, 1);
            FREE_TOP.setRelease(this, top - 1);
            return id;
        }
    }

    /**
     * Takes {@code n} free blocks, all or none, writing their ids to {@code out[0 .. n)}.
     *
     * @return {@code true} if all {@code n} were taken; {@code false} if fewer are free, in which
     *     case nothing changes (not even {@code out})
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
        synchronized (lock) {
            checkOpen();
            int top = freeTop;
            if (top < n) {
                CacheEvents.poolExhausted(n, top, blockCount);
                return false;
            }
            for (int i = 0; i < n; i++) {
                int id = freeStack[top - 1 - i];
                commit(id);
                INTS.setRelease(refCounts, id, 1);
                out[i] = id;
            }
            FREE_TOP.setRelease(this, top - n);
            return true;
        }
    }

    /**
     * Adds one reference to an allocated block (a second owner shares it).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     * @throws IllegalStateException if the block is free or the pool is closed
     */
    public void retain(int id) {
        checkId(id);
        synchronized (lock) {
            checkOpen();
            int rc = refCounts[id];
            if (rc <= 0) {
                throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
            }
            if (rc == Integer.MAX_VALUE) {
                throw new IllegalStateException("blockId: " + id + " refCount: " + rc + " (expected: < "
                        + Integer.MAX_VALUE + ")");
            }
            if (rc == 1) {
                SHARED.setRelease(this, sharedBlocks + 1);
            }
            INTS.setRelease(refCounts, id, rc + 1);
        }
    }

    /**
     * Adds one reference to each of {@code ids[0 .. n)}, all or none.
     *
     * @throws IllegalArgumentException if an id is out of range
     * @throws IllegalStateException if one of the blocks is free (then no count changes) or the pool
     *     is closed
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
                if (refCounts[id] <= 0) {
                    throw new IllegalStateException("blockId: " + id + " (expected: allocated, was: free)");
                }
            }
            // the same id may appear twice: count as we go
            for (int i = 0; i < n; i++) {
                int id = ids[i];
                int rc = refCounts[id];
                if (rc == 1) {
                    SHARED.setRelease(this, sharedBlocks + 1);
                }
                INTS.setRelease(refCounts, id, rc + 1);
            }
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
            if (rc == 2) {
                SHARED.setRelease(this, sharedBlocks - 1);
            }
            if (rc == 1) {
                freeLocked(id);
                return true;
            }
            INTS.setRelease(refCounts, id, rc - 1);
            return false;
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
            freeLocked(id);
        }
    }

    private void freeLocked(int id) {
        INTS.setRelease(refCounts, id, 0);
        generations[id] = generations[id] + 1;
        int top = freeTop;
        freeStack[top] = id;
        FREE_TOP.setRelease(this, top + 1);
    }

    // ---------------------------------------------------------------------------------------------
    // handles

    /**
     * A handle {@code generation << 32 | id} of an allocated block, for holders that must detect a
     * later free (see {@link #resolve(long)}).
     *
     * @throws IllegalStateException if the block is free
     */
    public long handle(int id) {
        checkId(id);
        synchronized (lock) {
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
     * The {@code bytesPerBlock} bytes of an allocated block: a slice of the pool's memory, no copy,
     * no allocation.
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
        return (MemorySegment) SEGMENTS.getAcquire(blocks, id);
    }

    /** Copies all bytes of block {@code from} onto block {@code to} (both allocated). */
    public void copy(int from, int to) {
        MemorySegment.copy(block(from), 0, block(to), 0, bytesPerBlock);
    }

    private void commit(int id) {
        if (SEGMENTS.getAcquire(blocks, id) != null) {
            return;
        }
        int chunk = id / blocksPerChunk;
        int first = chunk * blocksPerChunk;
        int count = Math.min(blocksPerChunk, blockCount - first);
        if (faults != null && faults.failChunkCommit(chunk)) {
            throw new OutOfMemoryError("injected: commit of chunk " + chunk + " (" + count * bytesPerBlock + " bytes)");
        }
        MemorySegment memory = arena.allocate(count * bytesPerBlock, CHUNK_ALIGNMENT);
        chunks[chunk] = memory;
        for (int i = 0; i < count; i++) {
            SEGMENTS.setRelease(blocks, first + i, memory.asSlice(i * bytesPerBlock, bytesPerBlock));
        }
        CHUNKS.setRelease(this, committedChunks + 1);
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

    /** Free blocks right now (a snapshot under concurrency). */
    public int freeBlocks() {
        return (int) FREE_TOP.getAcquire(this);
    }

    /** Allocated blocks right now: {@code blockCount() - freeBlocks()}. */
    public int usedBlocks() {
        return blockCount - (int) FREE_TOP.getAcquire(this);
    }

    /** Allocated blocks whose reference count is above 1. */
    public int sharedBlocks() {
        return (int) SHARED.getAcquire(this);
    }

    /** Bytes of off-heap memory reserved so far (whole chunks). */
    public long reservedBytes() {
        synchronized (lock) {
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

    /**
     * The reference count of a block (0 when free).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public int refCount(int id) {
        checkId(id);
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

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Releases all memory at once; afterwards every operation but the queries throws
     * {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            arena.close();
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
