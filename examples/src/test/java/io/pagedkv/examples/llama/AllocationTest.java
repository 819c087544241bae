package io.pagedkv.examples.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pagedkv.dtype.KvDType;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The per-token path (forward pass, paged writes, paged attention) allocates nothing on the heap. */
class AllocationTest {

    @Test
    void aForwardPassThroughThePagedCacheAllocatesNothingPerToken() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "skipped: no per-thread allocation counter");
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) mx;
        LlamaConfig c = new LlamaConfig(64, 96, 2, 4, 2, 50, 400, false);
        LlamaWeights w = SeededWeights.generate(c, 21);
        for (KvDType dtype : new KvDType[] {KvDType.F32, KvDType.F16}) {
            try (PagedKvStore store = new PagedKvStore(c, dtype, 16, c.seqLen())) {
                LlamaDecoder d = new LlamaDecoder(w, store);
                for (int t = 0; t < 100; t++) {
                    d.forward(t % 50); // warm up the JIT and the block table
                }
                long tid = Thread.currentThread().threadId();
                long before = bean.getThreadAllocatedBytes(tid);
                for (int t = 0; t < 16; t++) {
                    d.forward(t % 50); // positions 100..115: appends, one new block, writes, attention
                }
                long bytes = bean.getThreadAllocatedBytes(tid) - before;
                assertTrue(bytes < 1024, dtype + ": " + bytes + " bytes allocated over 16 tokens (expected: none)");
            }
        }
    }
}
