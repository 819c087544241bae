package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS;
import static io.pagedkv.examples.serve.ServeFixtures.STORIES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Issue 25, must-show 1: 64 concurrent streaming clients over real HTTP, prompts sharing prefixes;
 * every completion equals its single-request reference ({@code pagedkv generate}'s loop), and
 * afterwards every block is free or cached.
 */
class ConcurrentStreamingTest {

    private static final String[] PREFIXES = {
        "Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes",
        "In the quiet lattice of weights, features emerge and refine",
        "Whispers of gradients drift through the layers of thought",
        "A tapestry of probability, woven from tokens",
    };
    private static final String[] SUFFIXES = {
        " and", " of light", ", softly", " as I", " in", " where the", ", a", " humming",
        " beyond", " with care", " like rain", " of code", " to", " that", " unfold", " again",
    };

    /** One client's request and what it must get. */
    private record Case(String promptJson, int[] prompt, int maxTokens, float temperature, long seed, int[] expected) {
    }

    @Test
    void sixtyFourStreamingClientsWithSharedPrefixesEachGetTheirReferenceAndNoBlockLeaks() throws Exception {
        Tokenizer tok = ServeFixtures.aidreamsTokenizer();
        LlamaWeights w = ServeFixtures.weights(AIDREAMS);
        List<Case> cases = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(25);
        for (int i = 0; i < 64; i++) {
            String prompt = PREFIXES[i % PREFIXES.length] + SUFFIXES[i / PREFIXES.length];
            int[] ids = tok.encode(prompt, true);
            int maxTokens = 20 + rnd.nextInt(128 - ids.length - 20);
            float temperature = i % 8 == 7 ? 0.8f : 0f; // a few seeded samplers too: same draws as generate --seed
            long seed = 1000 + i;
            cases.add(new Case(ServeFixtures.quote(prompt), ids, maxTokens, temperature, seed,
                    ServeFixtures.reference(w, ids, maxTokens, temperature, seed)));
        }
        ServeConfig config = ServeConfig.defaults("aidreams260K").withKv(KvKind.paged, 512, 0);
        try (ServerAssembly s = ServeFixtures.start(config, AIDREAMS, tok)) {
            runClients(s, "aidreams260K", cases, tok);
            ServeFixtures.assertDrained(s);
            KvUsage u = s.kv().usage();
            assertTrue(u.prefixHitTokens() > 0, "shared prefixes hit the prefix cache: " + u);
            assertTrue(u.cachedBlocks() > 0, "committed blocks stay cached: " + u);
        }
    }

    @Test
    void aPoolTooSmallForAllClientsPreemptsAndRecomputesYetEveryCompletionStillEqualsItsReference() throws Exception {
        LlamaWeights w = ServeFixtures.weights(STORIES);
        int[] shared = new int[48];
        SplittableRandom rnd = new SplittableRandom(7);
        shared[0] = Tokenizer.BOS;
        for (int i = 1; i < shared.length; i++) {
            shared[i] = 3 + rnd.nextInt(509);
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int[] ids = java.util.Arrays.copyOf(shared, shared.length - 8 * (i % 4) + 1 + (i % 5));
            ids[ids.length - 1] = 3 + rnd.nextInt(509);
            int maxTokens = 30 + rnd.nextInt(90);
            cases.add(new Case(ServeFixtures.idsJson(ids), ids, maxTokens, 0f, i,
                    ServeFixtures.reference(w, ids, maxTokens, 0f, i)));
        }
        // 48 blocks of 16 tokens hold about 7 of these 64 requests (up to ~170 tokens each): admission
        // waits, running sequences run dry and the youngest are preempted and recomputed
        ServeConfig config = ServeConfig.defaults("stories260K").withKv(KvKind.paged, 48, 0);
        try (ServerAssembly s = ServeFixtures.start(config, STORIES, null)) {
            runClients(s, "stories260K", cases, null);
            ServeFixtures.assertDrained(s);
            assertTrue(s.engine().preemptions() > 0, "the pool ran dry and preempted: " + s.engine().preemptions());
            assertTrue(s.kv().usage().prefixHitTokens() > 0, "re-admission and shared prefixes hit the cache");
        }
    }

    private static void runClients(ServerAssembly s, String model, List<Case> cases, Tokenizer tok) throws Exception {
        String url = s.baseUrl() + "/v1/completions";
        CountDownLatch go = new CountDownLatch(1);
        List<Future<ServeFixtures.Streamed>> results = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Case c : cases) {
                results.add(clients.submit(() -> {
                    go.await();
                    return ServeFixtures.stream(url,
                            ServeFixtures.body(model, c.promptJson(), c.maxTokens(), c.temperature(), c.seed(), true));
                }));
            }
            go.countDown();
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                ServeFixtures.Streamed r = results.get(i).get();
                String what = "client " + i + " (prompt " + c.prompt().length + " tokens, max_tokens " + c.maxTokens() + ")";
                assertEquals(200, r.status(), what);
                assertTrue(r.done(), what + ": ends with data: [DONE]");
                assertArrayEquals(c.expected(), r.ids(), what + ": tokens of the single-request reference");
                assertEquals(c.expected().length == c.maxTokens() ? "length" : "stop", r.finishReason(), what);
                assertEquals((long) c.prompt().length, r.usage().get("prompt_tokens"), what);
                assertEquals((long) c.expected().length, r.usage().get("completion_tokens"), what);
                if (tok != null) {
                    assertEquals(tok.decode(c.prompt()[c.prompt().length - 1], c.expected()), r.text(), what + ": text");
                }
            }
        }
    }
}
