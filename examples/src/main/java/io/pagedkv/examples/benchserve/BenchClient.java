package io.pagedkv.examples.benchserve;

import io.pagedkv.examples.serve.JsonTree;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Sends one streaming completion and times it: the first {@code data:} chunk that carries text or
 * token ids is the first token; every token id received counts as an output token. Thread-safe
 * (the JDK's {@link HttpClient} is shared).
 */
public final class BenchClient {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String baseUrl;
    private final String apiKey;
    private final String model;

    /** A client of the server at {@code baseUrl} ({@code http://host:port}) serving {@code model}; {@code apiKey} may be null. */
    public BenchClient(String baseUrl, String apiKey, String model) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.apiKey = apiKey;
        this.model = model;
    }

    /** GETs {@code path} and returns the body (throws on a non-200 answer). */
    public String get(String path) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30)).GET();
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    /** Sends {@code req} now and waits for its stream to end. */
    @SuppressWarnings("unchecked")
    public RequestOutcome send(BenchRequest req) {
        StringBuilder body = new StringBuilder("{\"model\":\"").append(model).append("\",\"prompt\":[");
        for (int i = 0; i < req.prompt().length; i++) {
            body.append(i == 0 ? "" : ",").append(req.prompt()[i]);
        }
        body.append("],\"max_tokens\":").append(req.outputTokens())
                .append(",\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/completions"))
                .timeout(Duration.ofMinutes(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        long sent = System.nanoTime();
        long first = 0;
        int tokens = 0;
        int cached = 0;
        try {
            HttpResponse<Stream<String>> r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) {
                String text;
                try (Stream<String> lines = r.body()) {
                    text = String.join("\n", lines.toList());
                }
                return new RequestOutcome(req.id(), r.statusCode(), text, sent, 0, System.nanoTime(), req.prompt().length, 0, 0);
            }
            boolean done = false;
            try (Stream<String> lines = r.body()) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    String line = it.next();
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    Map<String, Object> chunk = (Map<String, Object>) JsonTree.parse(data.getBytes(StandardCharsets.UTF_8));
                    if (chunk.containsKey("error")) {
                        return new RequestOutcome(req.id(), 200, data, sent, first, System.nanoTime(), req.prompt().length,
                                tokens, cached);
                    }
                    Object usage = chunk.get("usage");
                    if (usage instanceof Map<?, ?> u && u.get("prompt_tokens_details") instanceof Map<?, ?> d
                            && d.get("cached_tokens") instanceof Long c) {
                        cached = (int) (long) c;
                    }
                    for (Object o : (List<Object>) chunk.get("choices")) {
                        List<Object> ids = (List<Object>) ((Map<String, Object>) o).get("token_ids");
                        if (ids != null && !ids.isEmpty()) {
                            if (first == 0) {
                                first = System.nanoTime();
                            }
                            tokens += ids.size();
                        }
                    }
                }
            }
            long end = System.nanoTime();
            String error = !done ? "stream ended without [DONE]"
                    : tokens != req.outputTokens() ? "tokens: " + tokens + " (expected: " + req.outputTokens() + ")" : null;
            return new RequestOutcome(req.id(), 200, error, sent, first, end, req.prompt().length, tokens, cached);
        } catch (IOException | RuntimeException e) {
            return new RequestOutcome(req.id(), 0, e.toString(), sent, first, System.nanoTime(), req.prompt().length, tokens,
                    cached);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new RequestOutcome(req.id(), 0, "interrupted", sent, first, System.nanoTime(), req.prompt().length,
                    tokens, cached);
        }
    }
}
