package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pagedkv.testfixtures.ThreadAllocation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Encode and decode allocate nothing per call once compiled: a round of calls on a warm codec
 * leaves the thread's allocated-bytes counter where it was. Vector codecs allocate their vector
 * boxes until C2 compiles them, so rounds repeat until the JIT has caught up, for at most {@link
 * #MAX_WAIT_NANOS} of wall time ({@link ThreadAllocation#lastRoundUntilAtMost}); a codec that
 * allocates per call never reaches a clean round and fails.
 */
class CodecAllocationTest {

    private static final int CALLS = 2_000;
    private static final long MAX_WAIT_NANOS = 30_000_000_000L;

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void scalarCodecsAllocateNothingPerCall(KvDType dtype) {
        assertNoAllocation(dtype, List.of(KvCodecs.scalar(dtype)));
    }

    /** Slow: waits for C2 to compile the vector codecs (tens of seconds on a loaded machine). */
    @Tag("slow")
    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"F16", "BF16", "FP8_E4M3", "FP8_E5M2", "Q8_0", "Q4_0"})
    void vectorCodecsAllocateNothingPerCallOnceCompiled(KvDType dtype) {
        assertNoAllocation(dtype, List.of(KvCodecs.vector(dtype).orElseThrow()));
    }

    private static void assertNoAllocation(KvDType dtype, List<KvCodec> codecs) {
        com.sun.management.ThreadMXBean mx = ThreadAllocation.counterOrSkip();
        int n = 128;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 3;
        }
        float[] out = new float[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(dtype.bytesFor(n));
            MemorySegment floats = arena.allocate(4L * n);
            MemorySegment.copy(x, 0, floats, LeLayouts.FLOAT, 0, n);
            long tid = Thread.currentThread().threadId();
            for (KvCodec codec : codecs) {
                long allocated = ThreadAllocation.lastRoundUntilAtMost(0, MAX_WAIT_NANOS, () -> {
                    long before = mx.getThreadAllocatedBytes(tid);
                    for (int c = 0; c < CALLS; c++) {
                        codec.encode(x, 0, n, dst, 0);
                        codec.encode(floats, 0, n, dst, 0);
                        codec.decode(dst, 0, n, out, 0);
                        codec.decode(dst, 0, n, floats, 0);
                    }
                    return mx.getThreadAllocatedBytes(tid) - before;
                });
                assertEquals(0, allocated, codec.getClass().getSimpleName() + " allocated bytes in its last round of "
                        + CALLS + " x 4 calls, after " + MAX_WAIT_NANOS / 1_000_000_000L + " s of rounds");
            }
        }
    }
}
