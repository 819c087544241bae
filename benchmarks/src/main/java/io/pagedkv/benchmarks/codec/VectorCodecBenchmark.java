package io.pagedkv.benchmarks.codec;

import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode and decode throughput of the Vector API codecs (the dtypes that have one), head dim 128, in GB/s
 * of binary32 data (the score: bytes per nanosecond). The fork adds the incubator module the codecs need;
 * compare with {@link ScalarCodecBenchmark} of the same run: the same JVM, only the codec differs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(CodecBench.INPUT_BYTES)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class VectorCodecBenchmark {

    /** The dtype under test. */
    @Param({"f16", "bf16", "fp8_e4m3", "fp8_e5m2", "q8_0", "q4_0"})
    public String dtype;

    private CodecBench bench;

    /** Builds the data and the Vector API codec (fails if there is none). */
    @Setup(Level.Trial)
    public void setUp() {
        bench = new CodecBench(KvCodecs.vector(KvDType.parse(dtype)).orElseThrow(() -> new IllegalStateException(
                "no vector codec for " + dtype + " (is jdk.incubator.vector missing, or vectors under 256 bits?)")));
    }

    /** Frees the encoded segment. */
    @TearDown(Level.Trial)
    public void tearDown() {
        bench.close();
    }

    /** Encodes 256 heads of 128 floats. */
    @Benchmark
    public int encode() {
        return bench.encodeAll();
    }

    /** Decodes 256 heads of 128 floats. */
    @Benchmark
    public float decode() {
        return bench.decodeAll();
    }
}
