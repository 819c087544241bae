package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.testfixtures.ThreadAllocation;
import org.junit.jupiter.api.Test;

/**
 * The per-token path (forward pass, paged writes, paged attention) allocates nothing on the heap once
 * compiled. The Vector API attention engine boxes every vector until C2 has compiled it (its
 * interpreter and C1 fallbacks allocate), so the test decodes fresh sequences until C2 has caught up,
 * for at most {@link #MAX_WAIT_NANOS} of wall time per case ({@code
 * ThreadAllocation.lastRoundUntilAtMost}), and asserts on the last window of 16 tokens.
 */
class AllocationTest {

    private static final long MAX_WAIT_NANOS = 60_000_000_000L;

    @Test
    void aForwardPassThroughThePagedCacheAllocatesNothingPerTokenOnceCompiled() {
        com.sun.management.ThreadMXBean bean = ThreadAllocation.counterOrSkip();
        LlamaConfig c = new LlamaConfig(64, 96, 2, 4, 2, 50, 400, false);
        LlamaWeights w = SeededWeights.generate(c, 21);
        long tid = Thread.currentThread().threadId();
        for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16}) {
            long bytes = ThreadAllocation.lastRoundUntilAtMost(1023, MAX_WAIT_NANOS, () -> {
                try (PagedKvStore store = new PagedKvStore(c, dtype, 16, c.seqLen())) {
                    LlamaDecoder d = new LlamaDecoder(w, store);
                    for (int t = 0; t < 300; t++) {
                        d.forward(t % 50); // warm up the JIT and the block table
                    }
                    long before = bean.getThreadAllocatedBytes(tid);
                    for (int t = 0; t < 16; t++) {
                        d.forward(t % 50); // positions 300..315: appends, one new block, writes, attention
                    }
                    return bean.getThreadAllocatedBytes(tid) - before;
                }
            });
            assertTrue(bytes < 1024, dtype + ": " + bytes + " bytes allocated over 16 tokens after "
                    + MAX_WAIT_NANOS / 1_000_000_000L + " s of warm-up rounds (expected: none)");
        }
    }

    /**
     * The per-layer evicting store: decode steps with every layer evicting on its own rows, and prompt
     * chunks whose last queries' weights come from {@code PagedAttention.decodeAt} (SnapKV's observation
     * window), allocate nothing per token once compiled.
     */
    @Test
    void thePerLayerEvictingStoreAllocatesNothingPerTokenOnceCompiled() {
        com.sun.management.ThreadMXBean bean = ThreadAllocation.counterOrSkip();
        LlamaConfig c = new LlamaConfig(64, 96, 2, 4, 2, 50, 400, false);
        LlamaWeights w = SeededWeights.generate(c, 22);
        int[] chunk = new int[8];
        java.util.Arrays.setAll(chunk, i -> 3 + i);
        long tid = Thread.currentThread().threadId();
        for (io.pagedkv.eviction.LayerPolicy lp : io.pagedkv.eviction.LayerPolicy.values()) {
            long bytes = ThreadAllocation.lastRoundUntilAtMost(1023, MAX_WAIT_NANOS, () -> {
                try (LayerwiseKvStore store = new LayerwiseKvStore(c, KvDType.F32, 16, 100_000, lp.create(48, c.layers()),
                        io.pagedkv.eviction.LayerPolicy.snapWindow(48), 0, lp.label())) {
                    LlamaDecoder d = new LlamaDecoder(w, store);
                    for (int t = 0; t < 300; t++) {
                        d.forward(t % 50);
                    }
                    d.prefill(chunk, 0, chunk.length); // grows the decoder's chunk buffers once
                    long before = bean.getThreadAllocatedBytes(tid);
                    for (int t = 0; t < 16; t++) {
                        d.forward(t % 50);
                    }
                    d.prefill(chunk, 0, chunk.length);
                    return bean.getThreadAllocatedBytes(tid) - before;
                }
            });
            assertTrue(bytes < 1024, lp.label() + ": " + bytes + " bytes allocated over 16 tokens and a chunk of 8 after "
                    + MAX_WAIT_NANOS / 1_000_000_000L + " s of warm-up rounds (expected: none)");
        }
    }
}
