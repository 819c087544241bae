package io.pagedkv.benchmarks.allocator;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.SplittableRandom;
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
 * The prefix cache's two paths, per request:
 * <ul>
 *   <li>{@code lookupHit}: open a sequence for a {@code promptTokens}-token prompt whose full blocks
 *       are all cached (hash every block, verify its token ids, retain it), then close it (the blocks
 *       go back to the LRU). {@code lookupMiss} does the same for a prompt that shares nothing.</li>
 *   <li>{@code reclaim}: with every block of the pool cached and unreferenced, append one block's
 *       worth of tokens (reclaims the least recently used cached block and unlinks it), then close.</li>
 * </ul>
 * The pool holds a small shape (K/V bytes do not matter here: nothing is copied).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class PrefixCacheBenchmark {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("bench", 1, 1, 1, 4), KvDType.F32, 16);

    @Param({"512", "8192"})
    public int promptTokens;

    private PagedKvCache cache;
    private PagedKvCache full;
    private int[] cached;
    private int[] unseen;
    private final int[] fresh = new int[16];
    private int counter = 1 << 20;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(7);
        cached = r.ints(promptTokens + 1, 0, 32_000).toArray();
        unseen = r.ints(promptTokens + 1, 0, 32_000).toArray();
        int blocks = 2 * (promptTokens / 16 + 2);
        cache = new PagedKvCache(LAYOUT, blocks);
        Sequence s = cache.openSequence(cached);
        s.appendTokens(cached, 0, cached.length);
        s.markWritten(cached.length); // bookkeeping only: no K/V is computed in this benchmark
        s.commitPrefix();
        s.close();
        // a pool whose every block is cached and unreferenced: any allocation must reclaim
        full = new PagedKvCache(LAYOUT, 1024);
        for (int i = 0; i < 1024 / 4; i++) {
            int[] p = r.ints(4 * 16, 0, 32_000).toArray();
            Sequence f = full.openSequence(p);
            f.appendTokens(p, 0, p.length);
            f.markWritten(p.length);
            f.commitPrefix();
            f.close();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        full.close();
    }

    /** Open a prompt whose full blocks are all cached, then close it. */
    @Benchmark
    public int lookupHit() {
        Sequence s = cache.openSequence(cached);
        int reused = s.reusedTokens();
        s.close();
        return reused;
    }

    /** Open a prompt that shares no block (one hash and one failed probe), then close it. */
    @Benchmark
    public int lookupMiss() {
        Sequence s = cache.openSequence(unseen);
        int reused = s.reusedTokens();
        s.close();
        return reused;
    }

    /**
     * Append one block of new tokens into a pool whose blocks are all cached: reclaims the oldest
     * cached block, indexes the new one, closes (the new block joins the LRU, so every call reclaims).
     */
    @Benchmark
    public int reclaim() {
        fresh[0] = counter++;
        Sequence s = full.openSequence();
        s.appendTokens(fresh, 0, 16);
        s.markWritten(16);
        s.commitPrefix();
        s.close();
        return full.prefixStats().cachedBlocks();
    }
}
