package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PrefixCacheStats;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.KvStore;
import io.pagedkv.examples.llama.LlamaWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The server's paged backend on the step API: admission that touches nothing when it refuses, steps through the planner. */
class PagedKvBackendTest {

    static final CacheLayout LAYOUT = new CacheLayout(io.pagedkv.model.ModelShape.of("tiny", 2, 2, 1, 4), KvDType.F32, 4);

    @Test
    void aRefusedAdmissionLeavesThePrefixCacheAndItsCountersExactlyAsTheyWere() {
        try (PagedKvBackend kv = new PagedKvBackend(LAYOUT, 8, 16, 2, true)) {
            int[] prompt = {1, 5, 6, 7, 8, 9, 10, 11, 12, 13};
            // a first request computes and commits the prompt, then finishes: its blocks stay cached
            float[] k = new float[9 * 4];
            float[] v = new float[9 * 4];
            // snippet:serve-kvbackend-step
            KvSequence first = kv.admit(prompt, 9, false);   // probe, then open; null: does not fit now
            assertTrue(kv.reserve(first, prompt, 0, 9));      // the step's chunk, all or nothing
            kv.planStep();                                    // the step API's plan: slot mapping, block tables
            KvStore store = first.store();                    // a worker: K/V of each layer through the plan
            store.writeChunk(0, 0, 9, k, v);                  // (LlamaDecoder.prefill does this per layer)
            store.writeChunk(1, 0, 9, k, v);
            kv.completeStep();                                // the written full blocks go to the prefix cache
            kv.release(first);                                // they stay cached for the next request
            // end-snippet
            assertEquals(2, kv.usage().cachedBlocks());
            // another request holds most of the pool
            int[] other = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
            KvSequence hog = kv.admit(other, 15, false);
            assertNotNull(hog);
            assertTrue(kv.reserve(hog, other, 0, 15));
            kv.planStep();
            float[] k15 = new float[15 * 4];
            hog.store().writeChunk(0, 0, 15, k15, k15);
            hog.store().writeChunk(1, 0, 15, k15, k15);
            kv.completeStep();
            PrefixCacheStats prefix = kv.cache().prefixStats();
            CacheStats stats = kv.cache().stats();
            // the prompt again, beside it: the hit would fit, the watermark does not
            assertNull(kv.admit(prompt, 10, true), "3 blocks needed (2 reused but cached-unreferenced) + watermark 2 > 4");
            assertEquals(prefix, kv.cache().prefixStats(), "no query, hit or token counted");
            assertEquals(stats, kv.cache().stats(), "no block taken, none moved");
            assertEquals(9 + 15, kv.usage().prefixQueryTokens(), "only admitted requests are counted");
            kv.release(hog);
            KvSequence again = kv.admit(prompt, 10, false);
            assertEquals(8, again.cachedTokens(), "the cached prompt is still there, and hit now");
            kv.release(again);
        }
    }

    @Test
    void everyEngineStepIsPlannedByTheStepApiAndCompletionsEqualTheirReferences() throws InterruptedException {
        LlamaWeights w = ServeFixtures.weights(ServeFixtures.AIDREAMS);
        int context = w.config().seqLen();
        CacheLayout layout = new CacheLayout(w.config().shape("llama2.c"), KvDType.F32, 8);
        try (PagedKvBackend kv = new PagedKvBackend(layout, (int) layout.blocksFor(context) * 2, context, 1, true);
             Engine engine = new Engine(w, null, kv, new EngineLimits(4, 20, 64, 2), new EngineListener() { })) {
            engine.start();
            List<EngineRequest> handles = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            for (int r = 0; r < 6; r++) {
                int[] prompt = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310 + r, 330 + r};
                expected.add(ServeFixtures.reference(w, prompt, 30, 0f, 0));
                handles.add(engine.submit(new CompletionRequest("m", prompt, 30, 0f, 1f, 0, List.of(), false, false, false)));
            }
            for (int r = 0; r < handles.size(); r++) {
                List<Integer> ids = new ArrayList<>();
                while (true) {
                    CompletionEvent ev = handles.get(r).events().poll(60, TimeUnit.SECONDS);
                    assertNotNull(ev, "request " + r + " timed out");
                    if (ev instanceof CompletionEvent.Token t) {
                        ids.add(t.id());
                    } else {
                        assertTrue(ev instanceof CompletionEvent.Finished, String.valueOf(ev));
                        break;
                    }
                }
                assertArrayEquals(expected.get(r), ids.stream().mapToInt(Integer::intValue).toArray(), "request " + r);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!kv.usage().drained() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            assertTrue(kv.usage().drained(), String.valueOf(kv.usage()));
            // the engine releases a step's finished sequences before it counts the step: wait for the count
            while (engine.steps() != kv.planner().steps() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            assertEquals(engine.steps(), kv.planner().steps(), "one plan per engine step");
            assertTrue(kv.usage().prefixHitTokens() > 0, "later requests reused the shared prompt");
        }
    }
}
