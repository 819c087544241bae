package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pagedkv.dtype.KvDType;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The per-token path (forward pass, paged writes, paged attention) allocates nothing on the heap in
 * steady state. Steady state means compiled: on a loaded machine the JIT may not have compiled the path
 * by the end of a fixed warm-up, and interpreted or C1 code allocates what C2's escape analysis removes
 * (a fresh clone in CI once counted 2,024 bytes over 16 tokens that way). So the test measures up to
 * ten windows of 16 tokens after the warm-up and passes when one window allocates nothing; it fails
 * when every window allocates, which a real per-token allocation does.
 */
class AllocationTest {

    @Test
    void aForwardPassThroughThePagedCacheAllocatesNothingPerToken() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "skipped: no per-thread allocation counter");
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) mx;
        LlamaConfig c = new LlamaConfig(64, 96, 2, 4, 2, 50, 1024, false);
        LlamaWeights w = SeededWeights.generate(c, 21);
        for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16}) {
            try (PagedKvStore store = new PagedKvStore(c, dtype, 16, c.seqLen())) {
                LlamaDecoder d = new LlamaDecoder(w, store);
                for (int t = 0; t < 100; t++) {
                    d.forward(t % 50); // warm up the JIT and the block table
                }
                long tid = Thread.currentThread().threadId();
                StringBuilder windows = new StringBuilder();
                long least = Long.MAX_VALUE;
                for (int window = 0; window < 10 && least >= 1024; window++) {
                    long before = bean.getThreadAllocatedBytes(tid);
                    for (int t = 0; t < 16; t++) {
                        d.forward(t % 50); // 16 positions: appends, one new block, writes, attention
                    }
                    long bytes = bean.getThreadAllocatedBytes(tid) - before;
                    least = Math.min(least, bytes);
                    windows.append(windows.isEmpty() ? "" : ", ").append(bytes);
                }
                assertTrue(least < 1024, dtype + ": every window of 16 tokens allocated: " + windows
                        + " bytes (expected: none once compiled)");
            }
        }
    }
}
