package io.pagedkv.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.CheckpointReader;
import io.pagedkv.examples.llama.Generation;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.examples.llama.LlamaDecoder;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.PagedKvStore;
import io.pagedkv.examples.llama.Sampler;
import io.pagedkv.examples.llama.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Shared pieces of the server tests: the real models (skipping when absent), the single-request
 * reference ({@code pagedkv generate}'s loop), and a small HTTP client over real sockets.
 */
final class ServeFixtures {

    static final String AIDREAMS = "aidreams260K.bin";
    static final String AIDREAMS_TOKENIZER = "aidreams-tok512.bin";
    static final String STORIES = "stories260K.bin";

    private static final Map<String, LlamaWeights> WEIGHTS = new ConcurrentHashMap<>();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private ServeFixtures() {
    }

    static Path file(String name) {
        String dir = System.getProperty("pagedkv.models.dir", "../../shared/models");
        Path f = Path.of(dir).resolve(name);
        assumeTrue(Files.isReadable(f), "skipped: real model " + f.toAbsolutePath()
                + " is absent (set -Dpagedkv.models.dir to the folder holding the llama2.c files)");
        return f;
    }

    static LlamaWeights weights(String name) {
        Path f = file(name);
        return WEIGHTS.computeIfAbsent(name, n -> {
            try {
                return CheckpointReader.read(f);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static Tokenizer aidreamsTokenizer() throws IOException {
        return Tokenizer.read(file(AIDREAMS_TOKENIZER), 512);
    }

    /** A started server for {@code model} with {@code config}. */
    static ServerAssembly start(ServeConfig config, String model, Tokenizer tok) throws IOException {
        return ServerAssembly.start(config, weights(model), tok);
    }

    /**
     * What {@code pagedkv generate} produces for {@code prompt} with {@code maxTokens} tokens to
     * generate: the same loop ({@link Generation#run}) over a paged F32 store, stopping at BOS.
     */
    static int[] reference(LlamaWeights w, int[] prompt, int maxTokens, float temperature, long seed) {
        return reference(w, prompt, maxTokens, temperature, seed, 16);
    }

    /**
     * What {@code pagedkv generate --block-size blockSize} produces: the paged kernel folds each block
     * into its online softmax, so the block size is part of the arithmetic (a different one may round
     * differently and, at a near tie, pick another token).
     */
    static int[] reference(LlamaWeights w, int[] prompt, int maxTokens, float temperature, long seed, int blockSize) {
        LlamaConfig c = w.config();
        try (PagedKvStore store = new PagedKvStore(c, KvDType.F32, blockSize, c.seqLen())) {
            int[] all = Generation.run(new LlamaDecoder(w, store), new Sampler(c.vocabSize(), temperature, seed), prompt,
                    prompt.length + maxTokens - 1, true, id -> { });
            return Arrays.copyOfRange(all, prompt.length, all.length);
        }
    }

    /** The JSON body of a completion request. */
    static String body(String model, String promptJson, int maxTokens, float temperature, long seed, boolean stream) {
        return "{\"model\":\"" + model + "\",\"prompt\":" + promptJson + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":" + temperature + ",\"seed\":" + seed + ",\"stream\":" + stream
                + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    static String idsJson(int[] ids) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) {
            sb.append(i == 0 ? "" : ",").append(ids[i]);
        }
        return sb.append(']').toString();
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** POSTs {@code body} to {@code url} and returns the response as text. */
    static HttpResponse<String> post(String url, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GETs {@code url}. */
    static HttpResponse<String> get(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET();
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A streamed completion as the client saw it. */
    record Streamed(int status, String text, List<Integer> tokenIds, String finishReason, Map<String, Object> usage,
            boolean done, List<Map<String, Object>> chunks) {
        int[] ids() {
            return tokenIds.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /** POSTs a streaming request and reads its server-sent events to {@code [DONE]}. */
    @SuppressWarnings("unchecked")
    static Streamed stream(String url, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<Stream<String>> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofLines());
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        List<Map<String, Object>> chunks = new ArrayList<>();
        String finish = null;
        Map<String, Object> usage = null;
        boolean done = false;
        try (Stream<String> lines = r.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                assertTrue(!done, "no event after [DONE]");
                Map<String, Object> chunk = (Map<String, Object>) JsonTree.parse(data.getBytes());
                chunks.add(chunk);
                if (chunk.containsKey("error")) {
                    continue;
                }
                assertEquals("text_completion", chunk.get("object"));
                List<Object> choices = (List<Object>) chunk.get("choices");
                if (chunk.get("usage") != null) {
                    usage = (Map<String, Object>) chunk.get("usage");
                }
                for (Object o : choices) {
                    Map<String, Object> choice = (Map<String, Object>) o;
                    text.append((String) choice.get("text"));
                    for (Object id : (List<Object>) choice.get("token_ids")) {
                        ids.add((int) (long) (Long) id);
                    }
                    if (choice.get("finish_reason") != null) {
                        finish = (String) choice.get("finish_reason");
                    }
                }
            }
        }
        return new Streamed(r.statusCode(), text.toString(), ids, finish, usage, done, chunks);
    }

    /** Asserts OpenAI's error shape with {@code status} and returns the error object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> assertError(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        Map<String, Object> root = (Map<String, Object>) JsonTree.parse(r.body().getBytes());
        Map<String, Object> error = (Map<String, Object>) root.get("error");
        assertNotNull(error, r.body());
        assertInstanceOf(String.class, error.get("message"));
        assertTrue(!((String) error.get("message")).isEmpty());
        assertInstanceOf(String.class, error.get("type"));
        assertTrue(error.containsKey("param") && error.containsKey("code"), r.body());
        return error;
    }

    /** Waits until the engine holds nothing, then asserts every block is free or cached. */
    static void assertDrained(ServerAssembly s) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while ((s.engine().runningCount() > 0 || s.engine().waitingCount() > 0 || !s.kv().usage().drained())
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        KvUsage u = s.kv().usage();
        assertEquals(0, s.engine().runningCount(), "running");
        assertEquals(0, s.engine().waitingCount(), "waiting");
        assertTrue(u.drained(), "every block free or cached, none used: " + u);
    }
}
