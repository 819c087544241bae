package io.pagedkv.examples.serve;

import static io.pagedkv.examples.serve.ServeFixtures.AIDREAMS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import io.pagedkv.examples.llama.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's official Java SDK ({@code com.openai:openai-java}), unmodified, with its base URL pointed
 * at the server over a real socket: a plain and a streaming completion, the model list, and an
 * error mapped to the SDK's exception type.
 */
class OpenAiSdkTest {

    private static final String KEY = "sk-sdk-test";

    @Test
    void theOfficialJavaClientGetsPlainAndStreamingCompletionsEqualToGenerate() throws Exception {
        Tokenizer tok = ServeFixtures.aidreamsTokenizer();
        String prompt = "The gentle hum";
        int[] ids = tok.encode(prompt, true);
        int[] expected = ServeFixtures.reference(ServeFixtures.weights(AIDREAMS), ids, 24, 0f, 0);
        String expectedText = tok.decode(ids[ids.length - 1], expected);
        ServeConfig config = ServeConfig.defaults("aidreams260K").withApiKey(KEY);
        try (ServerAssembly s = ServeFixtures.start(config, AIDREAMS, tok)) {
            // snippet:serve-openai-client
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey(KEY).maxRetries(0).build();
            CompletionCreateParams params = CompletionCreateParams.builder().model("aidreams260K").prompt(prompt)
                    .maxTokens(24).temperature(0.0).build();
            Completion c = client.completions().create(params);
            // end-snippet
            try {
                List<Model> models = client.models().list().data();
                assertEquals("aidreams260K", models.get(0).id());

                CompletionChoice choice = c.choices().get(0);
                assertEquals(expectedText, choice.text());
                assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
                assertEquals(ids.length, c.usage().orElseThrow().promptTokens());
                assertEquals(24, c.usage().orElseThrow().completionTokens());

                StringBuilder streamed = new StringBuilder();
                int[] chunks = {0};
                try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
                    stream.stream().forEach(chunk -> {
                        chunks[0]++;
                        for (CompletionChoice ch : chunk.choices()) {
                            streamed.append(ch.text());
                        }
                    });
                }
                assertEquals(expectedText, streamed.toString());
                assertTrue(chunks[0] >= 24, "one chunk per token at least: " + chunks[0]);

                assertThrows(BadRequestException.class, () -> client.completions().create(CompletionCreateParams.builder()
                        .model("aidreams260K").prompt(prompt).maxTokens(500).build()));
            } finally {
                client.close();
            }
            OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey("sk-wrong")
                    .maxRetries(0).build();
            try {
                assertThrows(UnauthorizedException.class, () -> wrongKey.models().list());
            } finally {
                wrongKey.close();
            }
            ServeFixtures.assertDrained(s);
        }
    }
}
