package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Encode and decode allocate nothing per call once compiled: a round of calls on a warm codec
 * leaves the thread's allocated-bytes counter where it was. Vector codecs allocate their vector
 * boxes until C2 compiles them, so rounds repeat until the JIT has caught up, for at most {@link
 * #MAX_WAIT_NANOS} of wall time; a codec that allocates per call never reaches a clean round and
 * fails. (The bound is time, not a count of rounds: 60 rounds of 8,000 calls were over in 0.7-0.9 s,
 * before C2 had compiled the Q8_0 encoder on a 2-core machine, and the test failed three runs in a row
 * although the compiled encoder allocates nothing.)
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
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread");
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
            for (KvCodec codec : codecs) {
                long tid = Thread.currentThread().threadId();
                long allocated = -1;
                long deadline = System.nanoTime() + MAX_WAIT_NANOS;
                while (allocated != 0 && System.nanoTime() - deadline < 0) {
                    long before = mx.getThreadAllocatedBytes(tid);
                    for (int c = 0; c < CALLS; c++) {
                        codec.encode(x, 0, n, dst, 0);
                        codec.encode(floats, 0, n, dst, 0);
                        codec.decode(dst, 0, n, out, 0);
                        codec.decode(dst, 0, n, floats, 0);
                    }
                    allocated = mx.getThreadAllocatedBytes(tid) - before;
                }
                assertEquals(0, allocated, codec.getClass().getSimpleName() + " allocated bytes in its last round of "
                        + CALLS + " x 4 calls, after " + MAX_WAIT_NANOS / 1_000_000_000L + " s of rounds");
            }
        }
    }
}
