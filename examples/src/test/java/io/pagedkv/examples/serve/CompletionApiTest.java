package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.examples.llama.Tokenizer;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The completions API's fields over a real socket: stop strings, seeds, usage, models and health. */
class CompletionApiTest {

    @Test
    @SuppressWarnings("unchecked")
    void stopStringsSeedsUsageModelsAndHealthBehaveAsOpenAiDescribes() throws Exception {
        Tokenizer tok = ServeFixtures.aidreamsTokenizer();
        int[] ids = tok.encode("The gentle hum", true);
        int[] ref = ServeFixtures.reference(ServeFixtures.weights(AIDREAMS), ids, 40, 0f, 0);
        String full = tok.decode(ids[ids.length - 1], ref);
        String stop = full.substring(12, 16); // a piece of the greedy text: the completion ends before it
        String expected = full.substring(0, full.indexOf(stop));
        try (ServerAssembly s = ServeFixtures.start(ServeConfig.defaults("aidreams260K"), AIDREAMS, tok)) {
            String url = s.baseUrl() + "/v1/completions";
            String body = "{\"model\":\"aidreams260K\",\"prompt\":\"The gentle hum\",\"max_tokens\":40,\"temperature\":0,"
                    + "\"stop\":[\"zzzz\"," + ServeFixtures.quote(stop) + "]";
            HttpResponse<String> r = ServeFixtures.post(url, body + "}");
            assertEquals(200, r.statusCode(), r.body());
            Map<String, Object> c = (Map<String, Object>) JsonTree.parse(r.body().getBytes());
            Map<String, Object> choice = (Map<String, Object>) ((List<Object>) c.get("choices")).get(0);
            assertEquals(expected, choice.get("text"), "cut before the stop string " + stop);
            assertEquals("stop", choice.get("finish_reason"));
            assertEquals("text_completion", c.get("object"));
            assertTrue(((String) c.get("id")).startsWith("cmpl-"));
            ServeFixtures.Streamed st = ServeFixtures.stream(url, body + ",\"stream\":true}");
            assertEquals(expected, st.text(), "the stream never shows the stop string, not even in part");
            assertEquals("stop", st.finishReason());

            String sampled = "{\"model\":\"aidreams260K\",\"prompt\":\"The gentle hum\",\"max_tokens\":30,\"temperature\":1.0,"
                    + "\"top_p\":0.9,\"seed\":1234}";
            String a = ServeFixtures.post(url, sampled).body().replaceAll("\"(id|created)\":[^,]*,", "");
            String b = ServeFixtures.post(url, sampled).body().replaceAll("\"(id|created)\":[^,]*,", "");
            assertEquals(a, b, "a seed reproduces a sampled completion");

            Map<String, Object> usage = (Map<String, Object>) c.get("usage");
            assertEquals((long) ids.length, usage.get("prompt_tokens"));
            assertEquals((long) ids.length + (Long) usage.get("completion_tokens"), usage.get("total_tokens"));

            Map<String, Object> models = (Map<String, Object>) JsonTree.parse(ServeFixtures.get(s.baseUrl() + "/v1/models")
                    .body().getBytes());
            Map<String, Object> m = (Map<String, Object>) ((List<Object>) models.get("data")).get(0);
            assertEquals("aidreams260K", m.get("id"));
            assertEquals(128L, m.get("max_model_len"));
            assertEquals("{\"status\":\"ok\"}", ServeFixtures.get(s.baseUrl() + "/health").body());
            ServeFixtures.assertDrained(s);
        }
    }
}
