package io.pagedkv.benchmarks.throughput;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.PoolThreading;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Allocate + free pairs of one KV block per second: pagedkv's {@link BlockPool} in its three
 * {@link PoolThreading} modes against Netty's pooled direct allocator and a confined or shared
 * {@link Arena} per block, same block size, same run.
 *
 * <p>{@code blockPoolThreadCaches} (one pool shared by all threads, per-thread block caches) is the
 * pool a multi-threaded engine shares; {@code blockPoolLocked} the same pool with one lock;
 * {@code blockPoolOwnerPerThread} an {@code OWNER} pool per thread (each thread its own, like an
 * {@code Arena} per thread).
 *
 * <p>Subclasses fix the thread count ({@link AllocateFreeSingleThreadBenchmark},
 * {@link AllocateFreeContendedBenchmark}); the state is shared by all threads of a trial, so under
 * contention both threads allocate from the same pool and the same Netty allocator. Each pair also
 * obtains the block's memory (the pool's pre-made slice, Netty's {@code ByteBuf}, the arena's segment)
 * so every contender hands out usable memory. {@code Arena.allocate} zero-fills, the pool and Netty
 * hand out memory as the last user left it: that difference is part of what is measured.
 *
 * <p>Netty 4.2 runs without extra {@code --add-opens} or flags: on Java 25+ it sets
 * {@code io.netty.noUnsafe=true} by default and uses its {@code ByteBuffer} path, which is what a
 * Netty user on JDK 25 gets. Two Netty variants run: {@code PooledByteBufAllocator.DEFAULT} (no
 * thread-local cache for plain threads such as JMH's) and the same settings with thread caches for
 * all threads. Block sizes: 4 KiB and one Llama-3.1-8B q8_0 block of 16 tokens (1,114,112 bytes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public abstract class AllocateFreeBenchmark {

    /**
     * Bytes per block: 4 KiB; 32 KiB (the largest buffer Netty's thread caches keep by default); and
     * llama-3.1-8b q8_0 with 16 tokens per block.
     */
    @Param({"4096", "32768", "1114112"})
    public int blockBytes;

    /** Blocks in the pagedkv pool: more than the threads can hold at once. */
    static final int POOL_BLOCKS = 64;

    private BlockPool pool;
    private BlockPool cachedPool;
    private PooledByteBufAllocator netty;
    private PooledByteBufAllocator nettyCached;

    /** Creates the pool and touches all its chunks, creates and warms Netty: the steady state is measured. */
    @Setup(Level.Trial)
    public void setUp() {
        pool = new BlockPool(POOL_BLOCKS, blockBytes);
        int[] all = new int[POOL_BLOCKS];
        if (!pool.allocate(POOL_BLOCKS, all)) {
            throw new IllegalStateException("pool: " + pool.freeBlocks() + " free (expected: " + POOL_BLOCKS + ")");
        }
        for (int id : all) {
            pool.free(id);
        }
        cachedPool = touched(BlockPool.builder(POOL_BLOCKS, blockBytes).threading(PoolThreading.THREAD_CACHES).build());
        cachedPool.flushThreadCache();
        netty = PooledByteBufAllocator.DEFAULT;
        nettyCached = new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
                PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(),
                PooledByteBufAllocator.defaultMaxOrder(), PooledByteBufAllocator.defaultSmallCacheSize(),
                PooledByteBufAllocator.defaultNormalCacheSize(), true);
        // Netty's first buffer pays its one-time class initialisation (hundreds of ms): not a pair's cost.
        netty.directBuffer(blockBytes, blockBytes).release();
        nettyCached.directBuffer(blockBytes, blockBytes).release();
    }

    /** Touches every chunk once, so the steady state is measured. */
    static BlockPool touched(BlockPool p) {
        int[] all = new int[POOL_BLOCKS];
        if (!p.allocate(POOL_BLOCKS, all)) {
            throw new IllegalStateException(p + " (expected: " + POOL_BLOCKS + " free)");
        }
        p.releaseAll(all, POOL_BLOCKS);
        return p;
    }

    /** Frees the pools' memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        cachedPool.close();
    }

    /** An {@code OWNER} pool per thread (its owner: the thread's first change claims it). */
    @State(Scope.Thread)
    public static class OwnedPool {
        /** The benchmark's block size (JMH gives parameters of the same name the same value). */
        @Param({"4096", "32768", "1114112"})
        public int blockBytes;

        BlockPool pool;

        /** Makes and touches this thread's pool. */
        @Setup(Level.Trial)
        public void setUp() {
            pool = touched(BlockPool.builder(POOL_BLOCKS, blockBytes).threading(PoolThreading.OWNER).build());
            pool.transferOwnership(null); // claimed by the benchmark thread's first call
        }

        /** Frees it. */
        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
        }
    }

    /** pagedkv, one pool for all threads with per-thread caches: take a block id, get its segment, free it. */
    @Benchmark
    public long blockPoolThreadCaches() {
        int id = cachedPool.allocate();
        MemorySegment block = cachedPool.block(id);
        long size = block.byteSize();
        cachedPool.free(id);
        return size;
    }

    /** pagedkv, one pool for all threads under one lock (the default mode). */
    @Benchmark
    public long blockPoolLocked() {
        int id = pool.allocate();
        MemorySegment block = pool.block(id);
        long size = block.byteSize();
        pool.free(id);
        return size;
    }

    /** pagedkv, an {@code OWNER} pool per thread: no lock, no atomic. */
    @Benchmark
    public long blockPoolOwnerPerThread(OwnedPool owned) {
        BlockPool p = owned.pool;
        int id = p.allocate();
        MemorySegment block = p.block(id);
        long size = block.byteSize();
        p.free(id);
        return size;
    }

    /** Netty: a pooled direct buffer of the block size from {@code PooledByteBufAllocator.DEFAULT}, released. */
    @Benchmark
    public long nettyPooledDirect() {
        ByteBuf buf = netty.directBuffer(blockBytes, blockBytes);
        long size = buf.capacity();
        buf.release();
        return size;
    }

    /**
     * Netty with per-thread caches for every thread (as its own event-loop threads get them; the
     * default allocator of Netty 4.2 gives them only to {@code FastThreadLocalThread}s), released.
     */
    @Benchmark
    public long nettyPooledDirectThreadCache() {
        ByteBuf buf = nettyCached.directBuffer(blockBytes, blockBytes);
        long size = buf.capacity();
        buf.release();
        return size;
    }

    /** A confined arena per block: allocate (zero-filled) and close. */
    @Benchmark
    public long arenaConfined() {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(blockBytes).byteSize();
        }
    }

    /** A shared arena per block: allocate (zero-filled) and close (a handshake with all threads). */
    @Benchmark
    public long arenaShared() {
        try (Arena arena = Arena.ofShared()) {
            return arena.allocate(blockBytes).byteSize();
        }
    }
}
