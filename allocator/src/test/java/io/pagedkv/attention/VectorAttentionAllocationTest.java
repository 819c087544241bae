package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Once C2 has compiled it, the Vector API engine allocates at most {@value #BYTES_PER_DECODE} bytes per
 * decode, also after other dtypes, head dims and group sizes have run through the same methods (profile
 * pollution once made C2 stop inlining inside the hot loops, which then boxed every vector: 850 KB per
 * 16 decoded tokens, about 50 KB per decode). Measured: 0 bytes in a fresh JVM; 24 bytes per decode in 1
 * run of 2 when the vector codec allocation tests ran first in the same JVM, before or after the other
 * shapes (the site was not pinned down: JFR shows occasional boxing at loads of the four-row score loop).
 * Slow: it waits for C2, for at most {@link #MAX_WAIT_NANOS} of wall time per case ({@link
 * ThreadAllocation#lastRoundUntilAtMost}).
 */
@Tag("slow")
class VectorAttentionAllocationTest {

    private static final long MAX_WAIT_NANOS = 30_000_000_000L;
    private static final int BYTES_PER_DECODE = 64;

    @Test
    void decodeAllocatesAtMost64BytesPerCallOnceCompiledAlsoAfterOtherShapesAndDtypesRan() {
        com.sun.management.ThreadMXBean bean = ThreadAllocation.counterOrSkip();
        CacheLayout clean = new CacheLayout(ModelShape.of("clean", 1, 8, 2, 64), KvDType.F32, 16);
        long cleanBytes = ThreadAllocation.lastRoundUntilAtMost(200L * BYTES_PER_DECODE, MAX_WAIT_NANOS,
                () -> run(clean, 301, 400, bean));
        assertTrue(cleanBytes <= 200L * BYTES_PER_DECODE, "f32 before any other shape: " + cleanBytes
                + " bytes allocated by 200 decodes after " + MAX_WAIT_NANOS / 1_000_000_000L + " s of warm-up rounds (expected: <= "
                + BYTES_PER_DECODE + " per decode)");
        int[][] shapes = {{8, 2, 64}, {4, 2, 16}, {8, 4, 8}, {4, 4, 32}, {6, 2, 24}, {2, 2, 128}};
        for (int round = 0; round < 3; round++) {
            for (KvDType dtype : KvDType.values()) {
                for (int[] sh : shapes) {
                    ModelShape shape = ModelShape.of("pollute", 1, sh[0], sh[1], sh[2]);
                    if (dtype.supports(sh[2])) {
                        run(new CacheLayout(shape, dtype, 16), 100, 200, null);
                    }
                }
            }
        }
        for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16, KvDType.Q8_0}) {
            CacheLayout layout = new CacheLayout(ModelShape.of("measured", 1, 8, 2, 64), dtype, 16);
            long bytes = ThreadAllocation.lastRoundUntilAtMost(200L * BYTES_PER_DECODE, MAX_WAIT_NANOS,
                    () -> run(layout, 301, 400, bean));
            assertTrue(bytes <= 200L * BYTES_PER_DECODE, dtype + ": " + bytes + " bytes allocated by 200 decodes"
                    + " after other shapes ran and " + MAX_WAIT_NANOS / 1_000_000_000L + " s of warm-up rounds (expected: <= "
                    + BYTES_PER_DECODE + " per decode)");
        }
    }

    /** Decodes {@code calls} times over {@code tokens} tokens; returns the bytes allocated by the calls (or 0). */
    private static long run(CacheLayout layout, int tokens, int calls, com.sun.management.ThreadMXBean bean) {
        ModelShape shape = layout.shape();
        try (ScatteredBlocks s = new ScatteredBlocks(layout, tokens, new SplittableRandom(tokens))) {
            PagedAttention a = PagedAttention.vectorized(layout,
                    KvScales.uniform(shape.layers(), shape.kvHeads(), 1f, 1f));
            float[] q = PagedAttentionTest.randomQuery(new SplittableRandom(1), shape);
            float[] out = new float[q.length];
            float[] weights = new float[shape.queryHeads() * tokens];
            BlockTableView view = s.view();
            for (int i = 0; i < calls / 2; i++) {
                a.decode(view, tokens, 0, q, 0, out, 0, i % 2 == 0 ? null : weights);
            }
            long before = bean == null ? 0 : bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls / 2; i++) {
                a.decode(view, tokens, 0, q, 0, out, 0, i % 2 == 0 ? null : weights);
            }
            return bean == null ? 0 : bean.getCurrentThreadAllocatedBytes() - before;
        }
    }
}
