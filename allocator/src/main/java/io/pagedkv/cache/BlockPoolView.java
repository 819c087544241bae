package io.pagedkv.cache;

import java.lang.foreign.MemorySegment;

/**
 * What an engine may see of a {@link PagedKvCache}'s pool: counts, reference counts, generations,
 * handles and read-only block bytes. It cannot allocate, retain, release, free, write or close: the
 * cache's sequences own the blocks, and a stray {@code release} would corrupt their reference counts.
 * Obtained from {@link PagedKvCache#pool()}; a wrapper, so it cannot be cast back to the pool.
 *
 * <p>Thread-safe; every query has the guarantee of the {@link BlockPool} method of the same name.
 */
public final class BlockPoolView {

    private final BlockPool pool;

    BlockPoolView(BlockPool pool) {
        this.pool = pool;
    }

    /** Total number of blocks. */
    public int blockCount() {
        return pool.blockCount();
    }

    /** Bytes of one block. */
    public long bytesPerBlock() {
        return pool.bytesPerBlock();
    }

    /** Blocks per lazily reserved chunk. */
    public int blocksPerChunk() {
        return pool.blocksPerChunk();
    }

    /** Free blocks, thread caches included (linearizable). */
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    /** Of the free blocks, those sitting in threads' caches; see {@link BlockPool#threadCachedBlocks()}. */
    public int threadCachedBlocks() {
        return pool.threadCachedBlocks();
    }

    /** How the pool lets threads change it; see {@link PoolThreading}. */
    public PoolThreading threading() {
        return pool.threading();
    }

    /** Allocated blocks: referenced by a sequence or the prefix index. */
    public int usedBlocks() {
        return pool.usedBlocks();
    }

    /** Allocated blocks whose reference count is above 1. */
    public int sharedBlocks() {
        return pool.sharedBlocks();
    }

    /** The reference count of a block (0 when free); see {@link BlockPool#refCount(int)}. */
    public int refCount(int id) {
        return pool.refCount(id);
    }

    /** How many times a block has been freed; see {@link BlockPool#generation(int)}. */
    public int generation(int id) {
        return pool.generation(id);
    }

    /** A handle of an allocated block; see {@link BlockPool#handle(int)}. */
    public long handle(int id) {
        return pool.handle(id);
    }

    /** The id of a handle's block if still allocated in its generation; see {@link BlockPool#resolve(long)}. */
    public int resolve(long handle) {
        return pool.resolve(handle);
    }

    /** Whether {@link #resolve(long)} would succeed now. */
    public boolean isLive(long handle) {
        return pool.isLive(handle);
    }

    /** The read-only bytes of an allocated block; see {@link BlockPool#block(int)}. */
    public MemorySegment block(int id) {
        return pool.block(id);
    }

    /** Off-heap bytes reserved so far. */
    public long reservedBytes() {
        return pool.reservedBytes();
    }

    /** Chunks reserved so far. */
    public int committedChunks() {
        return pool.committedChunks();
    }

    /** Chunk reservations that failed for lack of memory (or an injected fault). */
    public long chunkCommitFailures() {
        return pool.chunkCommitFailures();
    }

    /** Whether the pool (and so the cache) is closed. */
    public boolean isClosed() {
        return pool.isClosed();
    }

    @Override
    public String toString() {
        return "BlockPoolView[" + pool + "]";
    }
}
