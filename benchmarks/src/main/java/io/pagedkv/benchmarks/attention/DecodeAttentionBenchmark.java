package io.pagedkv.benchmarks.attention;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.attention.SegmentAttention;
import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
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
 * Decode attention of one query token, one layer, over a context of {@code tokens} tokens, against
 * an honest baseline and the memory-bandwidth limit, all in the same run:
 *
 * <ul>
 *   <li>{@code paged}: {@link PagedAttention} (Vector API) over a {@link PagedKvCache} sequence whose
 *       16-token blocks ({@code -p blockSize}) interleave in the pool with a neighbour sequence's, as under concurrent serving:
 *       {@code layout=random} (default) gives the neighbour 0, 1 or 2 blocks between two of the measured
 *       sequence's, an irregular fragmentation; {@code layout=alternating} one block each, a fixed stride
 *       of two blocks that leaves half of every cache's sets unused (a worst case worth knowing: it halves
 *       the caches the measured sequence can use); {@code layout=sequential}: no neighbour, the blocks back
 *       to back in the pool; {@code layout=shuffled}: the same blocks walked in a random order;
 *       {@code layout=recycled}: the blocks a closed sequence had, as the pool hands them back; {@code -p
 *       runBlocks=k}: the neighbour's blocks between runs of {@code k} (what separates the cost of the
 *       blocks' order in memory from that of the pages they span);</li>
 *   <li>{@code blockOrder=token-runs} stores the blocks in {@link BlockOrder#TOKEN_RUNS} (what the token
 *       write prefers; the same kernel steps over the other heads), {@code head-runs} (default) as
 *       pagedkv's default;</li>
 *   <li>{@code contiguous}: {@link SegmentAttention}, the same Vector API loops over one contiguous
 *       segment per KV head holding byte for byte the same encoded keys and values: what the block
 *       table costs is {@code paged / contiguous};</li>
 *   <li>{@code alternating}: {@code paged} and {@code contiguous} in one JVM, iteration by iteration,
 *       the measurement {@link AttentionRatioReport} takes that ratio from;</li>
 *   <li>{@code scan}: a plain vector sum over a segment of exactly the K/V bytes attention reads
 *       ({@link #kvBytes}): the time to stream them at this working-set size, the limit;</li>
 *   <li>{@code fmaFloor}: the fused multiply-adds one decode needs at least (keys and values, every
 *       query head: {@code 2 * tokens * queryHeads * headDim}), at the core's full FMA throughput with no
 *       memory traffic: the compute limit, which in cache can exceed the bandwidth limit;</li>
 *   <li>{@code pagedScalar}: the scalar reference kernel, for scale.</li>
 * </ul>
 *
 * Shape: 8 query heads sharing 2 KV heads (GQA), head dim 64 (override with {@code -p headDim=128}).
 * Every fork warms up 6 s: C2 has compiled the loops by then (the first two 1 s warmups can still be
 * 100-1000x slower, the later ones are not).
 * Each benchmark returns a value derived from its output so nothing is dead code. {@link
 * AttentionRatioReport} runs it and prints the ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DecodeAttentionBenchmark {

    /** Query heads of the benchmark shape. */
    public static final int QUERY_HEADS = 8;
    /** KV heads of the benchmark shape. */
    public static final int KV_HEADS = 2;

    /** Tokens per block: 16 (vLLM's default) unless {@code -p blockSize=N}. */
    @Param({"16"})
    public int blockSize;

    /** Context length. */
    @Param({"1024", "8192", "32768"})
    public int tokens;

    /** Cache dtype. */
    @Param({"f32", "f16", "q8_0"})
    public String dtype;

    /** Head dimension. */
    @Param({"64"})
    public int headDim;

    /**
     * How the measured sequence's blocks interleave with a neighbour's in the pool: random, alternating or
     * sequential (none); or shuffled: no neighbour, the blocks back to back as in sequential but the block
     * table visits them in a random order (the same pages, only the order of the walk differs); or recycled:
     * no neighbour, the blocks an earlier sequence of the same length took one by one and then closed,
     * in the order the pool hands them back (what the next request after a finished one gets).
     */
    @Param({"random"})
    public String layout;

    /**
     * Blocks of the measured sequence back to back between two of the neighbour's insertions (random and
     * alternating layouts): 1 (default) scatters every block; {@code k} keeps runs of {@code k} consecutive
     * blocks, what a pool that hands a sequence {@code k} blocks at a time would give.
     */
    @Param({"1"})
    public int runBlocks;

    /**
     * The order inside a block ({@link BlockOrder}): {@code head-runs} (default: a KV head's slots
     * contiguous) or {@code token-runs} (a token's heads contiguous, so the kernel reads one head's keys
     * {@code kvHeads * headBytes} apart). {@code contiguous} is the same either way.
     */
    @Param({"head-runs"})
    public String blockOrder;

    private Arena arena;
    private PagedKvCache cache;
    private BlockTableView view;
    private PagedAttention paged;
    private PagedAttention scalar;
    private SegmentAttention contiguous;
    private MemorySegment[] keys;
    private MemorySegment[] values;
    private MemorySegment scanned;
    private float[] q;
    private float[] out;
    private long fmaVectors;
    private boolean pagedTurn;

    /** K/V bytes one decode reads: tokens x KV heads x 2 x encoded head bytes. */
    public static long kvBytes(int tokens, KvDType dtype, int headDim) {
        return (long) tokens * KV_HEADS * 2 * dtype.bytesFor(headDim);
    }

    /**
     * Fills a {@link PagedKvCache} (the measured sequence's blocks interleaved with another
     * sequence's) and copies each head's encoded bytes into the contiguous segments.
     */
    @Setup(Level.Trial)
    public void setUp() {
        ModelShape shape = ModelShape.of("bench", 1, QUERY_HEADS, KV_HEADS, headDim);
        KvDType type = KvDType.parse(dtype);
        CacheLayout layout = new CacheLayout(shape, type, blockSize, BlockOrder.parse(blockOrder));
        SplittableRandom r = new SplittableRandom(42);
        int nBlocks = (int) layout.blocksFor(tokens);
        int mode = switch (this.layout) {
            case "random" -> 0;
            case "alternating" -> 1;
            case "sequential" -> 2;
            case "shuffled" -> 3;
            case "recycled" -> 4;
            default -> throw new IllegalArgumentException("layout: " + this.layout
                    + " (expected: random, alternating, sequential, shuffled or recycled)");
        };
        if (runBlocks < 1) {
            throw new IllegalArgumentException("runBlocks: " + runBlocks + " (expected: >= 1)");
        }
        cache = new PagedKvCache(layout, 3 * nBlocks + 1);
        if (mode == 4) {
            try (Sequence earlier = cache.openSequence()) {
                for (int b = 0; b < nBlocks; b++) {
                    earlier.append(Math.min(blockSize, tokens - b * blockSize));
                }
            }
        }
        Sequence seq = cache.openSequence();
        Sequence neighbour = cache.openSequence();
        for (int b = 0; b < nBlocks; b++) {
            seq.append(Math.min(blockSize, tokens - b * blockSize));
            int between = (b + 1) % runBlocks != 0 ? 0 : mode == 0 ? r.nextInt(3) : mode == 1 ? 1 : 0;
            if (between > 0) {
                neighbour.append(between * blockSize);
            }
        }
        MemorySegment[] walked = new MemorySegment[nBlocks];
        for (int b = 0; b < nBlocks; b++) {
            walked[b] = cache.block(seq.blockId(b));
        }
        if (mode == 3) {
            Collections.shuffle(Arrays.asList(walked), r); // the list writes through to the array
        }
        arena = Arena.ofShared();
        int headBytes = layout.headBytes();
        keys = new MemorySegment[KV_HEADS];
        values = new MemorySegment[KV_HEADS];
        for (int h = 0; h < KV_HEADS; h++) {
            keys[h] = arena.allocate((long) tokens * headBytes, 64);
            values[h] = arena.allocate((long) tokens * headBytes, 64);
        }
        int kvDim = KV_HEADS * headDim;
        float[] k = new float[kvDim];
        float[] v = new float[kvDim];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < kvDim; i++) {
                k[i] = (float) r.nextGaussian();
                v[i] = (float) r.nextGaussian();
            }
            seq.write(0, t, k, v);
        }
        // After every write: a shuffled table's block t / blockSize may be written by a later token.
        for (int t = 0; t < tokens; t++) {
            MemorySegment block = walked[t / blockSize];
            int slot = t % blockSize;
            for (int h = 0; h < KV_HEADS; h++) {
                MemorySegment.copy(block, layout.offset(0, CacheLayout.K, h, slot), keys[h], (long) t * headBytes, headBytes);
                MemorySegment.copy(block, layout.offset(0, CacheLayout.V, h, slot), values[h], (long) t * headBytes, headBytes);
            }
        }
        view = mode == 3 ? BlockTableView.of(() -> tokens, b -> walked[b]) : BlockTableView.of(seq);
        paged = PagedAttention.create(cache);
        scalar = PagedAttention.scalar(cache);
        contiguous = SegmentAttention.create(shape, type);
        scanned = arena.allocate(kvBytes(tokens, type, headDim), 64);
        for (long i = 0; i < scanned.byteSize(); i += 8) {
            scanned.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
        }
        q = new float[QUERY_HEADS * headDim];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian() * 0.3f;
        }
        out = new float[q.length];
        fmaVectors = FmaFloor.vectorsFor(2L * tokens * QUERY_HEADS * headDim);
    }

    /** Releases the pool and the segments. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        arena.close();
    }

    /** The paged kernel (Vector API loops when the module is present) walking the block table. */
    @Benchmark
    public float paged() {
        paged.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }

    /**
     * Flips the kernel {@link #alternating} runs before every iteration, warmups included: the
     * iteration with index {@code j} (counting from the first warmup, from 0) runs {@code paged}
     * when {@code j} is even, {@code contiguous} when odd.
     */
    @Setup(Level.Iteration)
    public void alternate() {
        pagedTurn = !pagedTurn;
    }

    /**
     * {@code paged} and {@code contiguous} in turn, one iteration each, in one JVM ({@link #alternate}
     * says which iteration runs which): neighbouring iterations saw the same compiled code, the same
     * placement of each kernel's pages and nearly the same machine, so their ratio is the block table's cost with the drift of a
     * shared host taken out. Separate forks of {@code paged} and {@code contiguous} moved by up to 1.8x
     * fork to fork and within a fork after 10-20 s on the 2-core VM, with no compilation at the switch;
     * {@link AlternatingPairs} turns the iterations into ratios. Short iterations (250 ms) so the pairs
     * are close in time; 12 warmups of 500 ms (both kernels compiled by then).
     */
    @Benchmark
    @Warmup(iterations = 12, time = 500, timeUnit = TimeUnit.MILLISECONDS)
    @Measurement(iterations = 40, time = 250, timeUnit = TimeUnit.MILLISECONDS)
    public float alternating() {
        return pagedTurn ? paged() : contiguous();
    }

    /** The same loops over one contiguous segment per KV head: the baseline. */
    @Benchmark
    public float contiguous() {
        contiguous.decode(keys, values, tokens, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }

    /** Streams the same number of K/V bytes: the bandwidth limit. */
    @Benchmark
    public long scan() {
        return SegmentScan.sum(scanned);
    }

    /** The decode's multiply-adds at full FMA throughput, no memory: the compute limit. */
    @Benchmark
    public float fmaFloor() {
        return FmaFloor.run(fmaVectors, q);
    }

    /** The scalar reference kernel over the block table. */
    @Benchmark
    public float pagedScalar() {
        scalar.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }
}
