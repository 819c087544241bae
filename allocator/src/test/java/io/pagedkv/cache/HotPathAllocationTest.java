package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import org.junit.jupiter.api.Test;

/**
 * The per-token path (append one token, write K/V of every layer, read a head back, walk the block
 * table) allocates nothing per token on the heap: measured with the JVM's per-thread allocation
 * counter. The only allocation allowed is the block table's amortized doubling (well under a byte
 * per token); a boxed value, a slice or an array per token would cost 16 bytes or more each.
 */
class HotPathAllocationTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("small", 4, 8, 2, 64), KvDType.F32, 16);

    @Test
    void decodeStepsAllocateLessThanOneBytePerToken() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        try (PagedKvCache cache = new PagedKvCache(LAYOUT, 2048)) {
            float[] k = new float[LAYOUT.shape().kvHeads() * LAYOUT.shape().headDim()];
            float[] v = new float[k.length];
            float[] out = new float[LAYOUT.shape().headDim()];
            decode(cache, 8_000, k, v, out); // warm up (class loading, JIT)
            long tokens = 16_000;
            long before = threads.getCurrentThreadAllocatedBytes();
            double sink = decode(cache, (int) tokens, k, v, out);
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(bytes < tokens, bytes + " bytes for " + tokens + " tokens (" + (double) bytes / tokens
                    + " per token; expected: < 1)" + sink);
        }
    }

    private static double decode(PagedKvCache cache, int tokens, float[] k, float[] v, float[] out) {
        Sequence s = cache.openSequence();
        double sum = 0;
        int layers = LAYOUT.shape().layers();
        for (int t = 0; t < tokens; t++) {
            if (!s.tryAppend(1)) {
                throw new AssertionError("pool full at " + t);
            }
            int pos = s.length() - 1;
            k[0] = t;
            for (int l = 0; l < layers; l++) {
                s.write(l, pos, k, v);
            }
            s.readKey(layers - 1, 1, pos, out, 0);
            sum += out[0];
            for (int b = 0; b < s.blockCount(); b += 64) {
                sum += s.blockId(b);
            }
        }
        s.close();
        return sum;
    }
}
