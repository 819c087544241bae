package io.pagedkv.benchmarks.codec;

import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
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
 * The native anchor of the codec benchmarks: our own C code of the same formats
 * ({@code benchmarks/src/main/c/kvcodecs.c}, gcc -O3 -march=native, built by {@code benchmarks/run.sh})
 * over the very same 128 KiB of floats as {@link ScalarCodecBenchmark} and {@link VectorCodecBenchmark},
 * in GB/s of binary32 data, measured by JMH in the same run. One operation is one FFM downcall that
 * encodes or decodes all of it (the C loop sees the whole buffer; the Java codecs are called once per
 * head of 128, as a cache calls them). Set-up checks that the C code writes exactly the bytes of the
 * Java codecs and decodes to exactly their floats, so both sides do the same work.
 *
 * <p>Needs {@code -Dpagedkv.native.lib=...} in the fork ({@code benchmarks/run.sh} passes it when it
 * built the library); without it set-up fails with a message naming the property.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(CodecBench.INPUT_BYTES)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class NativeCodecBenchmark {

    /** The dtype under test. */
    @Param({"bf16", "fp8_e4m3", "q8_0", "q4_0"})
    public String dtype;

    private CodecBench bench;
    private MethodHandle encode;
    private MethodHandle decode;
    private MemorySegment src;
    private MemorySegment encoded;
    private MemorySegment out;
    private Arena arena;

    /** Loads the library, prepares the same data as the Java benchmarks and checks byte equality. */
    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        KvDType type = KvDType.parse(dtype);
        bench = new CodecBench(KvCodecs.scalar(type));
        NativeCodecs lib = NativeCodecs.load();
        String name = "pk_" + type.label();
        encode = lib.function(name + "_encode");
        decode = lib.function(name + "_decode");
        arena = Arena.ofShared();
        src = MemorySegment.ofArray(bench.src);
        encoded = arena.allocate(bench.encoded.byteSize(), 64);
        out = MemorySegment.ofArray(new float[bench.src.length]);
        long n = bench.src.length;
        encode.invokeExact(src, encoded, n);
        byte[] want = bench.encoded.toArray(ValueLayout.JAVA_BYTE);
        byte[] got = encoded.toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(want, got)) {
            throw new IllegalStateException(name + "_encode: bytes differ from the Java codec's at index "
                    + Arrays.mismatch(want, got) + " (expected: identical output)");
        }
        decode.invokeExact(bench.encoded, out, n);
        bench.decodeAll();
        float[] native0 = out.toArray(ValueLayout.JAVA_FLOAT);
        for (int i = 0; i < native0.length; i++) {
            if (Float.floatToRawIntBits(native0[i]) != Float.floatToRawIntBits(bench.decoded[i])) {
                throw new IllegalStateException(name + "_decode: value " + i + " is " + native0[i] + ", Java gives "
                        + bench.decoded[i] + " (expected: identical output)");
            }
        }
    }

    /** Frees the native segments. */
    @TearDown(Level.Trial)
    public void tearDown() {
        bench.close();
        arena.close();
    }

    /** C: encodes the 128 KiB of floats in one call. */
    @Benchmark
    public byte encode() throws Throwable {
        encode.invokeExact(src, encoded, (long) CodecBench.HEADS * CodecBench.HEAD_DIM);
        return encoded.get(ValueLayout.JAVA_BYTE, 7);
    }

    /** C: decodes them in one call. */
    @Benchmark
    public float decode() throws Throwable {
        decode.invokeExact(bench.encoded, out, (long) CodecBench.HEADS * CodecBench.HEAD_DIM);
        return out.get(ValueLayout.JAVA_FLOAT, 12);
    }
}
