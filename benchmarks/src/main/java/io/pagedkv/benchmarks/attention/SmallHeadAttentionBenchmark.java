package io.pagedkv.benchmarks.attention;

import io.pagedkv.attention.BlockTableView;
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
 * Decode attention at the head dims of the real tiny models (stories260K: 8 query heads, 4 KV heads,
 * head dim 8; aidreams260K: head dim 16; stories15M: 48), F32, 16-token blocks: the Vector API kernel,
 * which scores a whole block of slots per vector pass, against the scalar reference in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SmallHeadAttentionBenchmark {

    /** Head dimension. */
    @Param({"8", "16", "48"})
    public int headDim;

    /** Context length. */
    @Param({"512", "4096"})
    public int tokens;

    private PagedKvCache cache;
    private BlockTableView view;
    private PagedAttention vector;
    private PagedAttention scalar;
    private float[] q;
    private float[] out;

    /** Fills one sequence of a cache with random keys and values. */
    @Setup(Level.Trial)
    public void setUp() {
        ModelShape shape = ModelShape.of("small", 1, 8, 4, headDim);
        CacheLayout layout = new CacheLayout(shape, KvDType.F32, 16);
        cache = new PagedKvCache(layout, (int) layout.blocksFor(tokens));
        Sequence seq = cache.openSequence();
        seq.append(tokens);
        SplittableRandom r = new SplittableRandom(7);
        float[] k = new float[4 * headDim];
        float[] v = new float[4 * headDim];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) r.nextGaussian();
                v[i] = (float) r.nextGaussian();
            }
            seq.write(0, t, k, v);
        }
        view = BlockTableView.of(seq);
        vector = PagedAttention.create(cache);
        scalar = PagedAttention.scalar(cache);
        q = new float[8 * headDim];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        out = new float[q.length];
    }

    /** Releases the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
    }

    /** Vector API loops. */
    @Benchmark
    public float vector() {
        vector.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }

    /** Scalar reference loops. */
    @Benchmark
    public float scalar() {
        scalar.decode(view, tokens, 0, q, 0, out, 0, null);
        return out[0] + out[out.length - 1];
    }
}
