package io.pagedkv.eviction;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.testfixtures.ThreadAllocation;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A decode step under a policy (evict, place, write K/V of every layer so keys and values reach the
 * policy, one attention row per layer and query head) allocates nothing per token in steady state:
 * measured with the JVM's per-thread allocation counter over 8,000 steps after 8,000 of warm-up. A
 * boxed value, a lambda or an array per token would cost 16 bytes or more each.
 */
class SequenceEvictorAllocationTest {

    static final CacheLayout LAYOUT = new CacheLayout(ModelShape.of("small", 2, 4, 2, 16), KvDType.F32, 16);

    @Test
    void decodeStepsUnderEveryStandardPolicyAllocateLessThanOneBytePerToken() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        for (StandardPolicy kind : StandardPolicy.values()) {
            Supplier<EvictionPolicy> policy = () -> kind.create(64);
            try (PagedKvCache cache = new PagedKvCache(LAYOUT, 16);
                    SequenceEvictor ev = new SequenceEvictor(cache.openSequence(), policy.get())) {
                float[] k = new float[2 * 16];
                float[] v = new float[2 * 16];
                float[] row = new float[4 * 64];
                decode(ev, 8_000, k, v, row); // warm up (class loading, JIT, buffers grown)
                long tokens = 8_000;
                long before = threads.getCurrentThreadAllocatedBytes();
                double sink = decode(ev, (int) tokens, k, v, row);
                long bytes = threads.getCurrentThreadAllocatedBytes() - before;
                assertTrue(bytes < tokens, kind.label() + ": " + bytes + " bytes for " + tokens + " tokens ("
                        + (double) bytes / tokens + " per token; expected: < 1)" + sink);
            }
        }
    }

    private static double decode(SequenceEvictor ev, int tokens, float[] k, float[] v, float[] row) {
        double sum = 0;
        for (int t = 0; t < tokens; t++) {
            int pos = ev.append(t);
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) Math.sin(pos * 31 + i);
                v[i] = (float) Math.cos(pos * 17 + i);
            }
            for (int l = 0; l < 2; l++) {
                ev.write(l, pos, k, v);
                int slots = ev.slots();
                for (int s = 0; s < slots; s++) {
                    row[s] = ((pos + s) % 7) / 7f;
                }
                for (int h = 0; h < 4; h++) {
                    ev.attention(l, h, row, 0);
                }
            }
            sum += ev.liveTokens();
        }
        return sum;
    }
    static final CacheLayout PER_LAYER = new CacheLayout(ModelShape.of("small-layer", 1, 4, 2, 16), KvDType.F32, 16);

    /** The same for a per-layer evictor over 3 layers, every per-layer line-up (SnapKV pools and sorts per eviction). */
    @Test
    void perLayerDecodeStepsAllocateLessThanOneBytePerToken() {
        com.sun.management.ThreadMXBean threads = ThreadAllocation.counterOrSkip();
        for (LayerPolicy kind : LayerPolicy.values()) {
            try (PagedKvCache cache = new PagedKvCache(PER_LAYER, 32);
                    LayerwiseEvictor ev = new LayerwiseEvictor(cache, kind.create(64, 3))) {
                float[] k = new float[2 * 16];
                float[] v = new float[2 * 16];
                float[] row = new float[4 * 256];
                decode(ev, 8_000, k, v, row);
                long tokens = 8_000;
                long before = threads.getCurrentThreadAllocatedBytes();
                double sink = decode(ev, (int) tokens, k, v, row);
                long bytes = threads.getCurrentThreadAllocatedBytes() - before;
                assertTrue(bytes < tokens, kind.label() + ": " + bytes + " bytes for " + tokens + " tokens ("
                        + (double) bytes / tokens + " per token; expected: < 1)" + sink);
            }
        }
    }

    private static double decode(LayerwiseEvictor ev, int tokens, float[] k, float[] v, float[] row) {
        double sum = 0;
        for (int t = 0; t < tokens; t++) {
            int pos = ev.append(t);
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) Math.sin(pos * 31 + i);
                v[i] = (float) Math.cos(pos * 17 + i);
            }
            for (int l = 0; l < 3; l++) {
                ev.write(l, pos, k, v);
                int slots = ev.slots(l);
                for (int s = 0; s < slots; s++) {
                    row[s] = ((pos + s + l) % 7) / 7f;
                }
                for (int h = 0; h < 4; h++) {
                    ev.attention(l, h, row, 0);
                }
            }
            sum += ev.keptTokens();
        }
        return sum;
    }
}
