package io.pagedkv.benchmarks.allocator;

import io.pagedkv.cache.BlockPool;
import io.pagedkv.cache.PoolThreading;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one allocate + free pair of {@link BlockPool} in each {@link PoolThreading} mode against
 * {@code floor}: a bare int free stack without lock or checks, the floor any pool can reach, in the
 * same run. {@code owner} is the confined pool (no lock, no atomic), {@code single} the locked one,
 * {@code cached} the thread-cache one; {@code contended} and {@code cachedContended} run the pair on two
 * threads against one pool (time per pair per thread). {@code batch16} takes 16 blocks with the
 * all-or-nothing call and frees them one by one; {@code batch16ReleaseAll} gives them back in one
 * {@code releaseAll} call. Run with {@code -prof gc} to see that no mode allocates on the heap.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class BlockPoolBenchmark {

    static final int BLOCKS = 4096;

    private BlockPool locked;
    private BlockPool owned;
    private BlockPool cached;
    private UnsynchronizedFreeStack floor;
    private final int[] ids = new int[16];

    @Setup(Level.Trial)
    public void setUp() {
        locked = touched(BlockPool.builder(BLOCKS, 64).build());
        owned = touched(BlockPool.builder(BLOCKS, 64).threading(PoolThreading.OWNER).build());
        owned.transferOwnership(null); // the benchmark thread claims it with its first call
        cached = touched(BlockPool.builder(BLOCKS, 64).threading(PoolThreading.THREAD_CACHES).build());
        cached.flushThreadCache();
        floor = new UnsynchronizedFreeStack(BLOCKS);
    }

    /** Touches every chunk once, so the benchmark measures the steady state, not the first reservation. */
    private static BlockPool touched(BlockPool pool) {
        int[] all = new int[BLOCKS];
        if (!pool.allocate(BLOCKS, all)) {
            throw new IllegalStateException(pool + " (expected: " + BLOCKS + " free)");
        }
        pool.releaseAll(all, BLOCKS);
        return pool;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        locked.close();
        owned.close();
        cached.close();
    }

    /** One allocate and one free of the locked pool. */
    @Benchmark
    @Group("single")
    public int allocateFree() {
        int id = locked.allocate();
        locked.free(id);
        return id;
    }

    /** The same pair on the bare free stack: the floor. */
    @Benchmark
    @Group("floor")
    public int unsynchronized() {
        int id = floor.allocate();
        floor.free(id);
        return id;
    }

    /** The same pair on an {@code OWNER} pool from its owner thread. */
    @Benchmark
    @Group("owner")
    public int ownerAllocateFree() {
        int id = owned.allocate();
        owned.free(id);
        return id;
    }

    /** The same pair on a {@code THREAD_CACHES} pool, one thread. */
    @Benchmark
    @Group("cached")
    public int cachedAllocateFree() {
        int id = cached.allocate();
        cached.free(id);
        return id;
    }

    /** 16 blocks all-or-nothing, then 16 frees (locked pool). */
    @Benchmark
    @Group("batch16")
    public int allocateFree16() {
        locked.allocate(16, ids);
        for (int i = 0; i < 16; i++) {
            locked.free(ids[i]);
        }
        return ids[0];
    }

    /** 16 blocks all-or-nothing, then one {@code releaseAll} (locked pool: two lock round trips in all). */
    @Benchmark
    @Group("batch16ReleaseAll")
    public int allocateReleaseAll16() {
        locked.allocate(16, ids);
        return locked.releaseAll(ids, 16);
    }

    /** Two threads allocating and freeing against one locked pool. */
    @Benchmark
    @Group("contended")
    @GroupThreads(2)
    public int contendedAllocateFree() {
        int id = locked.allocate();
        locked.free(id);
        return id;
    }

    /** Two threads allocating and freeing against one thread-cache pool. */
    @Benchmark
    @Group("cachedContended")
    @GroupThreads(2)
    public int cachedContendedAllocateFree() {
        int id = cached.allocate();
        cached.free(id);
        return id;
    }

    /** The int free stack of the pool without its lock or checks: the floor of allocate + free. */
    static final class UnsynchronizedFreeStack {
        private final int[] stack;
        private int top;

        UnsynchronizedFreeStack(int n) {
            stack = new int[n];
            for (int i = 0; i < n; i++) {
                stack[i] = n - 1 - i;
            }
            top = n;
        }

        int allocate() {
            return top == 0 ? -1 : stack[--top];
        }

        void free(int id) {
            stack[top++] = id;
        }
    }
}
