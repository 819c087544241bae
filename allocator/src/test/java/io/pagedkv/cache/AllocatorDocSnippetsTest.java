package io.pagedkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The Java snippets of docs/allocator.md, compiled and run here: each doc fence is quoted verbatim from
 * the code between its {@code // snippet:} markers ({@code DocSnippetsTest} in examples checks it).
 */
class AllocatorDocSnippetsTest {

    private final ModelShape shape = ModelShape.of("tiny", 2, 4, 2, 8);
    private final int layers = shape.layers();
    private int attended;
    private int sampled;

    @Test
    void quickStartWritesAPromptAndForksIt() {
        int promptLength = 20;
        float[][][] k = new float[layers][promptLength][shape.kvHeads() * shape.headDim()];
        float[][][] v = new float[layers][promptLength][shape.kvHeads() * shape.headDim()];
        // snippet:allocator-quick-start
        CacheLayout layout = new CacheLayout(ModelShape.of("tiny", 2, 4, 2, 8), KvDType.F32, 16);
        try (PagedKvCache cache = new PagedKvCache(layout, 64)) {      // or PagedKvCache.ofBytes(layout, bytes)
            Sequence seq = cache.openSequence();
            seq.append(promptLength);                                   // throws PoolExhaustedException if short
            for (int p = 0; p < promptLength; p++) {
                for (int l = 0; l < layers; l++) {
                    seq.write(l, p, k[l][p], v[l][p]);                  // float[kvHeads * headDim] each
                }
            }
            Sequence sample2 = seq.fork();                              // shares every block
            // end-snippet
            assertEquals(2, cache.stats().sharedBlocks());
            assertEquals(promptLength, sample2.length());
            sample2.close();
            seq.close();
        }
    }

    @Test
    void theDecodeLoopReusesThePromptAndStopsWhenThePoolIsFull() {
        int[] prompt = {1, 7, 7, 3, 9, 4, 2, 8, 5, 6, 1, 2, 3, 4, 5, 6, 7, 8};
        int maxTokens = 40;
        int[] next = {0};
        float[] q = new float[shape.headDim()];
        float[] k = new float[shape.kvHeads() * shape.headDim()];
        float[] v = new float[shape.kvHeads() * shape.headDim()];
        for (int round = 0; round < 2; round++) {
            // snippet:allocator-decode-loop
            CacheLayout layout = new CacheLayout(shape, KvDType.F16, 16);
            try (PagedKvCache cache = new PagedKvCache(layout, 4096)) {
                Sequence seq = cache.openSequence(prompt);                 // reuses cached prefix blocks
                int done = seq.reusedTokens();
                seq.appendTokens(prompt, done, prompt.length - done);       // throws PoolExhaustedException if short
                prefill(seq, done, prompt.length);                          // seq.write(layer, pos, k, v) per layer
                seq.commitPrefix();                                         // the prompt's full blocks become reusable
                for (int step = 0; step < maxTokens; step++) {
                    if (!seq.tryAppendTokens(next, 0, 1)) {                 // false = pool full, nothing changed:
                        break;                                              // preempt, evict or wait
                    }
                    int pos = seq.length() - 1;
                    for (int layer = 0; layer < shape.layers(); layer++) {
                        projectKv(layer, pos, k, v);                        // float[kvHeads * headDim] each
                        seq.write(layer, pos, k, v);                        // encoded by the layout's codec
                        for (int b = 0; b < seq.blockCount(); b++) {        // attention walks the block table
                            int tokens = Math.min(layout.blockSize(), seq.length() - b * layout.blockSize());
                            for (int h = 0; h < shape.kvHeads(); h++) {
                                attend(q, h, cache.keys(seq.blockId(b), layer, h), cache.values(seq.blockId(b), layer, h), tokens);
                            }
                        }
                    }
                    next[0] = sample();
                }
                seq.close();                                                // cached blocks stay in the LRU
            }
            // end-snippet
        }
        assertEquals(2 * maxTokens, sampled, "both rounds decoded every step");
        assertTrue(attended > 0);
    }

    @Test
    void faultsFireWhereTheDocSays() {
        CacheLayout layout = new CacheLayout(shape, KvDType.F32, 4);
        // snippet:allocator-fault-injection
        NthCallFaults faults = new NthCallFaults();
        PagedKvCache cache = PagedKvCache.builder(layout, 8).blocksPerChunk(2).faults(faults).build();
        faults.failNthAllocation(1);       // the next pool allocation call answers "short"
        faults.failNthChunkCommit(2);      // the chunk commit after next fails with out-of-memory
        faults.injectedFailures();         // how many fired (a test knows whether its fault was reached)
        // end-snippet
        try (cache) {
            Sequence s = cache.openSequence();
            assertFalse(s.tryAppend(1), "the first allocation call is refused");
            assertEquals(1, faults.injectedFailures());
            assertEquals(8, cache.freeBlocks(), "nothing changed");
        }
    }

    private void prefill(Sequence seq, int from, int to) {
        float[] kv = new float[shape.kvHeads() * shape.headDim()];
        for (int p = from; p < to; p++) {
            for (int l = 0; l < layers; l++) {
                seq.write(l, p, kv, kv);
            }
        }
    }

    private static void projectKv(int layer, int pos, float[] k, float[] v) {
        java.util.Arrays.fill(k, layer + pos / 64f);
        java.util.Arrays.fill(v, -layer - pos / 64f);
    }

    private void attend(float[] q, int head, MemorySegment keys, MemorySegment values, int tokens) {
        assertTrue(keys.isReadOnly() && values.isReadOnly(), "kernel views are read-only");
        assertTrue(tokens > 0 && q.length == shape.headDim() && head >= 0);
        attended++;
    }

    private int sample() {
        sampled++;
        return sampled % 50;
    }
}
