package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.EvictingKvStore;
import io.pagedkv.examples.llama.GenerateCommand.PolicyKind;
import io.pagedkv.examples.llama.Generation;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.examples.llama.LlamaDecoder;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Sampler;
import io.pagedkv.examples.llama.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --policy P --kv-budget N}: each completion is token for token what
 * {@code generate --policy P --budget N} gives, however many run beside it; a pool with room for
 * two requests' maxima runs two at a time and drains.
 */
class PolicyServeTest {

    private static final String[] PROMPTS = {
        "Echoes of vectors unfold", "The gentle hum", "In the quiet lattice of weights", "Whispers of gradients",
        "A tapestry of probability", "Features emerge", "Contrast edges sharpen", "I sense the nodes",
    };

    @Test
    void evictingCompletionsEqualGenerateWithTheSamePolicyAndBudget() throws Exception {
        for (PolicyKind kind : new PolicyKind[] {PolicyKind.h2o, PolicyKind.window}) {
            check(kind, 24);
        }
    }

    private static void check(PolicyKind kind, int budget) throws Exception {
        Tokenizer tok = ServeFixtures.aidreamsTokenizer();
        LlamaWeights w = ServeFixtures.weights(AIDREAMS);
        LlamaConfig c = w.config();
        List<int[]> prompts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        int differFromFullCache = 0;
        for (String p : PROMPTS) {
            int[] ids = tok.encode(p, true);
            prompts.add(ids);
            int maxTokens = 90;
            try (EvictingKvStore store = new EvictingKvStore(c, KvDType.F32, 16, c.seqLen(), kind.build(budget))) {
                int[] all = Generation.run(new LlamaDecoder(w, store), new Sampler(c.vocabSize(), 0f, 0), ids,
                        ids.length + maxTokens - 1, true, id -> { });
                expected.add(Arrays.copyOfRange(all, ids.length, all.length));
            }
            if (!Arrays.equals(expected.getLast(), ServeFixtures.reference(w, ids, 90, 0f, 0))) {
                differFromFullCache++;
            }
        }
        assertTrue(differFromFullCache > 0, kind + ": the budget changes some completion, so the check below sees eviction");
        // room for exactly two requests' maxima: the others wait, none is preempted
        int perRequest = 2; // blocksFor(24) blocks of 16 tokens: evict, then place, never above the budget
        ServeConfig config = ServeConfig.defaults("aidreams260K").withKv(KvKind.paged, 2 * perRequest, 0)
                .withPolicy(kind, budget);
        try (ServerAssembly s = ServeFixtures.start(config, AIDREAMS, tok)) {
            assertTrue(s.kv().describe().contains("2 blocks reserved per running request"), s.kv().describe());
            List<Future<ServeFixtures.Streamed>> rs = new ArrayList<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int[] ids : prompts) {
                    rs.add(clients.submit(() -> ServeFixtures.stream(s.baseUrl() + "/v1/completions",
                            ServeFixtures.body("aidreams260K", ServeFixtures.idsJson(ids), 90, 0f, 0, true))));
                }
                for (int i = 0; i < prompts.size(); i++) {
                    ServeFixtures.Streamed r = rs.get(i).get();
                    assertEquals(200, r.status());
                    assertArrayEquals(expected.get(i), r.ids(), kind + " prompt " + i);
                }
            }
            assertEquals(0, s.engine().preemptions());
            ServeFixtures.assertDrained(s);
            Map<String, Object> e = ServeFixtures.assertError(ServeFixtures.post(s.baseUrl() + "/v1/completions",
                    ServeFixtures.body("aidreams260K", ServeFixtures.idsJson(new int[budget + 1]), 4, 0f, 0, false)), 400);
            assertEquals("context_length_exceeded", e.get("code"));
        }
    }
}
