package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Tokenizer;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The engine without HTTP, on the real aidreams260K model, over random pool sizes, block sizes,
 * step token budgets (down to one token: every prompt is prefilled in many chunks), running limits
 * and request mixes that share prefixes: every completion equals its single-request reference and
 * the pool drains.
 */
class EngineProperties {

    @Test
    void everyCompletionEqualsItsReferenceAndThePoolDrainsWhateverTheChunkingPoolAndBatchLimits() {
        LlamaWeights w = ServeFixtures.weights(ServeFixtures.AIDREAMS);
        int context = w.config().seqLen();
        Property.forAll(Gens.ints(1, 24), Gens.ints(1, 12), Gens.longs(0, Long.MAX_VALUE))
                .tries(Math.max(6, Integer.getInteger("pagedkv.tries", 100) / 12))
                .check((blockSize, requests, seed) -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    CacheLayout layout = new CacheLayout(w.config().shape("llama2.c"), KvDType.F32, blockSize);
                    int minBlocks = (int) layout.blocksFor(context);
                    int blocks = minBlocks + rnd.nextInt(3 * minBlocks);
                    int budget = rnd.nextBoolean() ? 1 + rnd.nextInt(8) : 16 + rnd.nextInt(200);
                    int maxRunning = 1 + rnd.nextInt(8);
                    int[] shared = new int[10 + rnd.nextInt(40)];
                    shared[0] = Tokenizer.BOS;
                    for (int i = 1; i < shared.length; i++) {
                        shared[i] = 3 + rnd.nextInt(509);
                    }
                    String what = "block " + blockSize + ", " + blocks + " blocks, budget " + budget + ", running "
                            + maxRunning + ", " + requests + " requests";
                    try (PagedKvBackend kv = new PagedKvBackend(layout, blocks, context, rnd.nextInt(3), true);
                         Engine engine = new Engine(w, null, kv, new EngineLimits(maxRunning, budget, 64, 1 + rnd.nextInt(3)),
                                 new EngineListener() { })) {
                        engine.start();
                        List<EngineRequest> handles = new ArrayList<>();
                        List<int[]> expected = new ArrayList<>();
                        for (int r = 0; r < requests; r++) {
                            int[] prompt = java.util.Arrays.copyOf(shared, 1 + rnd.nextInt(shared.length));
                            for (int i = Math.max(1, prompt.length - rnd.nextInt(4)); i < prompt.length; i++) {
                                prompt[i] = 3 + rnd.nextInt(509);
                            }
                            int maxTokens = 1 + rnd.nextInt(Math.min(70, context - prompt.length));
                            float temperature = rnd.nextInt(4) == 0 ? 0.9f : 0f;
                            long s = rnd.nextLong();
                            expected.add(ServeFixtures.reference(w, prompt, maxTokens, temperature, s, blockSize));
                            handles.add(engine.submit(new CompletionRequest("m", prompt, maxTokens, temperature, 1f, s,
                                    List.of(), false, false, false)));
                        }
                        for (int r = 0; r < requests; r++) {
                            List<Integer> ids = new ArrayList<>();
                            while (true) {
                                CompletionEvent ev = handles.get(r).events().poll(60, TimeUnit.SECONDS);
                                assertTrue(ev != null, what + ": request " + r + " timed out");
                                if (ev instanceof CompletionEvent.Token t) {
                                    ids.add(t.id());
                                } else {
                                    assertTrue(ev instanceof CompletionEvent.Finished, what + ": " + ev);
                                    break;
                                }
                            }
                            assertArrayEquals(expected.get(r), ids.stream().mapToInt(Integer::intValue).toArray(),
                                    what + ": request " + r);
                        }
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        while (!kv.usage().drained() && System.nanoTime() < deadline) {
                            Thread.sleep(2);
                        }
                        assertTrue(kv.usage().drained(), what + ": " + kv.usage());
                        assertEquals(0, engine.waitingCount(), what);
                    }
                });
    }
}
