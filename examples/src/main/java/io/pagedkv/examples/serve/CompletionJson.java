package io.pagedkv.examples.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes the server's JSON bodies in OpenAI's shapes with jackson-core's generator: a completion
 * ({@code object: text_completion}), a streamed chunk of one, the usage object, the model list and
 * the error object. Each choice also carries {@code token_ids}, the generated ids (an extension,
 * as vLLM offers; OpenAI's clients ignore fields they do not know). Stateless and thread-safe.
 */
final class CompletionJson {

    private static final JsonFactory FACTORY = new JsonFactory();

    private CompletionJson() {
    }

    /** A whole (non-streamed) completion. */
    static byte[] completion(String id, long created, String model, String text, List<Integer> tokenIds,
            String finishReason, CompletionEvent.Usage usage) {
        return write(g -> {
            g.writeStartObject();
            head(g, id, created, model);
            g.writeArrayFieldStart("choices");
            choice(g, text, tokenIds, finishReason);
            g.writeEndArray();
            usage(g, usage);
            g.writeEndObject();
        });
    }

    /** One streamed chunk: a text delta with its token ids and, on the last, the finish reason. */
    static byte[] chunk(String id, long created, String model, String text, List<Integer> tokenIds, String finishReason) {
        return write(g -> {
            g.writeStartObject();
            head(g, id, created, model);
            g.writeArrayFieldStart("choices");
            choice(g, text, tokenIds, finishReason);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** The final usage chunk of a stream ({@code stream_options.include_usage}): no choices. */
    static byte[] usageChunk(String id, long created, String model, CompletionEvent.Usage usage) {
        return write(g -> {
            g.writeStartObject();
            head(g, id, created, model);
            g.writeArrayFieldStart("choices");
            g.writeEndArray();
            usage(g, usage);
            g.writeEndObject();
        });
    }

    /** {@code GET /v1/models}. */
    static byte[] models(String model, long created, int context) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            g.writeStartObject();
            g.writeStringField("id", model);
            g.writeStringField("object", "model");
            g.writeNumberField("created", created);
            g.writeStringField("owned_by", "pagedkv");
            g.writeNumberField("max_model_len", context);
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** OpenAI's error object. */
    static byte[] error(ApiException e) {
        return write(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", e.getMessage());
            g.writeStringField("type", e.type());
            nullable(g, "param", e.param());
            nullable(g, "code", e.code());
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** A small JSON object of string fields, e.g. {@code {"status":"ok"}}. */
    static byte[] fields(String... namesAndValues) {
        return write(g -> {
            g.writeStartObject();
            for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
                g.writeStringField(namesAndValues[i], namesAndValues[i + 1]);
            }
            g.writeEndObject();
        });
    }

    private static void head(JsonGenerator g, String id, long created, String model) throws IOException {
        g.writeStringField("id", id);
        g.writeStringField("object", "text_completion");
        g.writeNumberField("created", created);
        g.writeStringField("model", model);
    }

    private static void choice(JsonGenerator g, String text, List<Integer> tokenIds, String finishReason)
            throws IOException {
        g.writeStartObject();
        g.writeNumberField("index", 0);
        g.writeStringField("text", text);
        g.writeNullField("logprobs");
        nullable(g, "finish_reason", finishReason);
        g.writeArrayFieldStart("token_ids");
        for (int t : tokenIds) {
            g.writeNumber(t);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void usage(JsonGenerator g, CompletionEvent.Usage u) throws IOException {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", u.promptTokens());
        g.writeNumberField("completion_tokens", u.completionTokens());
        g.writeNumberField("total_tokens", u.totalTokens());
        g.writeObjectFieldStart("prompt_tokens_details");
        g.writeNumberField("cached_tokens", u.cachedTokens());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void nullable(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }

    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
