package io.pagedkv.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The Java snippets of docs/engine.md, compiled and run here (quoted verbatim by the docs; checked by
 * {@code DocSnippetsTest} in examples).
 */
class EngineDocSnippetsTest {

    private final ModelShape shape = ModelShape.of("tiny", 2, 4, 2, 8);
    private final int layers = shape.layers();
    private final int kvDim = shape.kvHeads() * shape.headDim();
    private final float[] k = new float[64 * kvDim];
    private final float[] v = new float[64 * kvDim];
    private final float[] q = new float[64 * shape.queryHeads() * shape.headDim()];
    private final float[] out = new float[64 * shape.queryHeads() * shape.headDim()];

    /** Fills K, V and Q of {@code count} tokens at {@code start} with values that depend on the token and position. */
    private void project(int layer, int[] tokens, int start, int count) {
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < kvDim; j++) {
                k[i * kvDim + j] = (tokens[start + i] * 31 + (start + i) * 7 + layer * 3 + j) % 17 / 17f;
                v[i * kvDim + j] = (tokens[start + i] * 13 + (start + i) * 5 + layer + j) % 11 / 11f;
            }
            Arrays.fill(q, i * (shape.queryHeads() * shape.headDim()), (i + 1) * (shape.queryHeads() * shape.headDim()), 0.25f);
        }
    }

    /** A token id from the attention output of token {@code token} of the chunk. */
    private int sample(float[] out, int token) {
        return Math.floorMod((int) (out[token * (shape.queryHeads() * shape.headDim())] * 1000), 50) + 2;
    }

    @Test
    void theIntegrationGuideGeneratesTwiceAndTheSecondRequestReusesThePrompt() {
        int[] prompt = {1, 7, 7, 3, 9, 4, 2, 8, 5, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        int maxTokens = 12;
        int[][] generated = new int[2][];
        int[] cached = new int[2];
        CacheLayout layout = new CacheLayout(shape, KvDType.F16, 16);
        try (PagedKvCache cache = new PagedKvCache(layout, 256)) {
            StepPlanner planner = new StepPlanner(cache, 4);
            for (int request = 0; request < 2; request++) {
                // snippet:engine-generate
                KvWriter writer = planner.newWriter();                      // one per worker thread
                PagedAttention attention = PagedAttention.create(cache);
                StepSequence seq = planner.admit(prompt, prompt.length, PrefixKeys.NONE); // null: not now
                int[] tokens = Arrays.copyOf(prompt, prompt.length + maxTokens);
                int length = prompt.length;
                while (length < tokens.length) {
                    int start = seq.length();                               // tokens with K/V so far
                    if (!planner.schedule(seq, tokens, start, length - start)) { // all or nothing
                        break;                                              // pool short: preempt and retry
                    }
                    StepPlan plan = planner.plan();                         // slot mapping, block tables, lengths
                    int row = seq.row();
                    int count = plan.queryLength(row);                      // the prompt's rest, then 1 a step
                    for (int layer = 0; layer < layers; layer++) {
                        project(layer, tokens, start, count);               // k, v: [count][kvHeads][headDim]
                        writer.write(plan, row, layer, 0, count, k, 0, v, 0);
                        attention.prefill(plan.blockTable(row), start, count, layer, q, 0, out, 0);
                    }
                    planner.complete(plan);                                 // written full blocks -> prefix cache
                    tokens[length++] = sample(out, count - 1);
                }
                planner.release(seq);                                       // cached blocks stay for the next request
                // end-snippet
                assertNotNull(seq);
                generated[request] = tokens;
                cached[request] = seq.cachedTokens();
            }
            assertEquals(0, cached[0]);
            assertEquals(16, cached[1], "the second request reuses the prompt's full block");
            assertTrue(Arrays.equals(generated[0], generated[1]), "the same tokens whether the prefix came from the cache");
            assertEquals(0, cache.stats().usedBlocks());
            assertEquals(2L * maxTokens, planner.steps());
        }
    }
}
