package io.pagedkv.benchmarks.allocator;

import io.pagedkv.cache.BlockPool;
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
 * Cost of one allocate + free pair of {@link BlockPool} (the lock-guarded free stack), against
 * {@code unsynchronized}: the same int free stack without a lock, the floor any pool can reach, in
 * the same run. {@code batch16} takes and frees 16 blocks with the all-or-nothing call;
 * {@code contended} runs allocate + free on two threads against one pool. Run with
 * {@code -prof gc} to see that the pool allocates nothing on the heap.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class BlockPoolBenchmark {

    private BlockPool pool;
    private UnsynchronizedFreeStack floor;
    private final int[] ids = new int[16];

    @Setup(Level.Trial)
    public void setUp() {
        pool = new BlockPool(4096, 64);
        floor = new UnsynchronizedFreeStack(4096);
        // touch all chunks once so the benchmark measures the steady state, not the first reservation
        int[] all = new int[4096];
        pool.allocate(4096, all);
        for (int id : all) {
            pool.free(id);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    /** One allocate and one free of the pool. */
    @Benchmark
    @Group("single")
    public int allocateFree() {
        int id = pool.allocate();
        pool.free(id);
        return id;
    }

    /** The same pair on the lock-free, thread-unsafe floor. */
    @Benchmark
    @Group("floor")
    public int unsynchronized() {
        int id = floor.allocate();
        floor.free(id);
        return id;
    }

    /** 16 blocks all-or-nothing, then 16 frees. */
    @Benchmark
    @Group("batch16")
    public int allocateFree16() {
        pool.allocate(16, ids);
        for (int i = 0; i < 16; i++) {
            pool.free(ids[i]);
        }
        return ids[0];
    }

    /** Two threads allocating and freeing against one pool. */
    @Benchmark
    @Group("contended")
    @GroupThreads(2)
    public int contendedAllocateFree() {
        int id = pool.allocate();
        pool.free(id);
        return id;
    }

    /** The int free stack of the pool without its lock: the floor of allocate + free. */
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
