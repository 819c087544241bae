package io.pagedkv.benchmarks.attention;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.ContiguousAttention;
import io.pagedkv.attention.PagedAttention;
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
 * Decode attention of one query token, one layer, over a context of {@code tokens} tokens: the
 * paged kernel reading a {@link PagedKvCache} sequence's blocks of the given dtype (interleaved in the
 * pool with a neighbour sequence's), against the textbook contiguous kernel over plain float arrays. Shape: 8 query heads
 * sharing 2 KV heads (GQA), head dim 64, 16-token blocks. Each benchmark returns a value derived
 * from its output so nothing is dead code. Run {@link AttentionRatioReport} for the ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DecodeAttentionBenchmark {

    /** Query heads of the benchmark shape. */
    public static final int QUERY_HEADS = 8;
    /** KV heads of the benchmark shape. */
    public static final int KV_HEADS = 2;
    /** Head dimension of the benchmark shape. */
    public static final int HEAD_DIM = 64;
    /** Tokens per block. */
    public static final int BLOCK_SIZE = 16;

    @Param({"1024", "8192", "32768"})
    public int tokens;

    @Param({"f32", "f16", "q8_0"})
    public String dtype;

    private PagedKvCache cache;
    private BlockTableView view;
    private PagedAttention vector;
    private PagedAttention scalar;
    private float[] keys;
    private float[] values;
    private float[] scores;
    private float[] q;
    private float[] out;

    /**
     * Fills a {@link PagedKvCache} (the measured sequence's blocks interleaved with another
     * sequence's, as under concurrent serving) and the contiguous arrays with the same decoded values.
     */
    @Setup(Level.Trial)
    public void setUp() {
        ModelShape shape = ModelShape.of("bench", 1, QUERY_HEADS, KV_HEADS, HEAD_DIM);
        CacheLayout layout = new CacheLayout(shape, KvDType.parse(dtype), BLOCK_SIZE);
        SplittableRandom r = new SplittableRandom(42);
        int nBlocks = (int) layout.blocksFor(tokens);
        cache = new PagedKvCache(layout, 2 * nBlocks);
        Sequence seq = cache.openSequence();
        Sequence neighbour = cache.openSequence();
        for (int b = 0; b < nBlocks; b++) {
            seq.append(Math.min(BLOCK_SIZE, tokens - b * BLOCK_SIZE));
            neighbour.append(BLOCK_SIZE);
        }
        int kvDim = KV_HEADS * HEAD_DIM;
        keys = new float[tokens * kvDim];
        values = new float[tokens * kvDim];
        float[] k = new float[kvDim];
        float[] v = new float[kvDim];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < kvDim; i++) {
                k[i] = (float) r.nextGaussian();
                v[i] = (float) r.nextGaussian();
            }
            seq.write(0, t, k, v);
            for (int h = 0; h < KV_HEADS; h++) {
                seq.readKey(0, h, t, keys, (t * KV_HEADS + h) * HEAD_DIM);
                seq.readValue(0, h, t, values, (t * KV_HEADS + h) * HEAD_DIM);
            }
        }
        PagedKvCache c = cache;
        view = i -> c.block(seq.blockId(i));
        vector = PagedAttention.create(layout);
        scalar = PagedAttention.scalar(layout);
        scores = new float[tokens];
        q = new float[QUERY_HEADS * HEAD_DIM];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian() * 0.3f;
        }
        out = new float[q.length];
    }

    /** Releases the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
    }

    /** The textbook kernel over contiguous float arrays (decoded once up front). */
    @Benchmark
    public float contiguous() {
        ContiguousAttention.decode(QUERY_HEADS, KV_HEADS, HEAD_DIM, q, 0, keys, values, tokens, out, 0, scores, null);
        return out[0] + out[out.length - 1];
    }

    /** The paged kernel, Vector API loops (when the module is present). */
    @Benchmark
    public float pagedVector() {
        vector.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }

    /** The paged kernel, scalar loops only. */
    @Benchmark
    public float pagedScalar() {
        scalar.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }
}
