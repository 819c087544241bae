package io.pagedkv.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a model's attention shape from a Hugging Face {@code config.json}, with a streaming parser.
 *
 * <p>Fields used (GPT-2 style aliases in brackets): {@code num_hidden_layers} [{@code n_layer}],
 * {@code num_attention_heads} [{@code n_head}], {@code num_key_value_heads} (default: the head count),
 * {@code head_dim} (default: {@code hidden_size} [{@code n_embd}] / heads), {@code sliding_window}
 * (ignored when {@code use_sliding_window} is false or the window is null), {@code layer_types}
 * and {@code model_type}. A multimodal config whose language model sits under {@code text_config}
 * is read from there.
 *
 * <p>Sliding windows: {@code model_type} {@code gemma2} and {@code gpt_oss} alternate sliding (even)
 * and global (odd) layers; a Gemma-3 style {@code sliding_window_pattern} n (every n-th layer global)
 * alternates for n = 2 and is treated as all-global otherwise; a {@code layer_types} list
 * ({@code "sliding_attention"} / {@code "full_attention"} per layer) is matched against the patterns
 * {@link AttentionPattern} knows and treated as all-global (an over-estimate of the cache, never an
 * under-estimate) when it fits none; any other config with a window slides on every layer.
 *
 * <p>Parameter count: config.json does not state it, so it is computed for Llama-style decoders
 * (Llama, Mistral, Qwen2, Gemma2: embeddings, Q/K/V/O, gated MLP, norms, Q/K/V biases for Qwen2),
 * gpt-oss (its experts, router and attention sinks) and GPT-2 from {@code vocab_size}, {@code hidden_size}, {@code intermediate_size} and
 * {@code tie_word_embeddings}; it is 0 (unknown) when those are missing. Stateless and thread-safe.
 */
public final class HfConfigReader {

    private static final JsonFactory JSON = new JsonFactory();
    private static final int MAX_DEPTH = 64;

    private HfConfigReader() {
    }

    /** Reads the shape from the config at {@code file}, named after its directory. */
    public static ModelShape read(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        String name = dir == null || dir.getFileName() == null ? "config" : dir.getFileName().toString();
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, name);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Reads the shape from a config.json stream, naming it {@code name}. */
    public static ModelShape read(InputStream in, String name) throws IOException {
        Map<String, Object> top;
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ModelFormatException("config.json: " + p.currentToken() + " (expected: a JSON object)");
            }
            top = object(p, 0);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException("config.json is not valid JSON: " + e.getOriginalMessage()
                    + " at " + e.getLocation(), e);
        }
        Map<String, Object> cfg = top;
        if (!has(top, "num_hidden_layers", "n_layer") && top.get("text_config") instanceof Map<?, ?> text) {
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) text;
            cfg = t;
        }
        return toShape(cfg, name);
    }

    private static ModelShape toShape(Map<String, Object> c, String name) throws ModelFormatException {
        String type = c.get("model_type") instanceof String s ? s : "";
        int layers = positive(c, "num_hidden_layers", "n_layer");
        int heads = positive(c, "num_attention_heads", "n_head");
        int kvHeads = has(c, "num_key_value_heads") ? positive(c, "num_key_value_heads") : heads;
        long hidden = has(c, "hidden_size", "n_embd") ? positive(c, "hidden_size", "n_embd") : 0;
        int headDim;
        if (has(c, "head_dim")) {
            headDim = positive(c, "head_dim");
        } else {
            if (hidden == 0) {
                throw new ModelFormatException("config.json: neither head_dim nor hidden_size is given"
                        + " (expected: one of them to size a head)");
            }
            if (hidden % heads != 0) {
                throw new ModelFormatException("config.json: hidden_size " + hidden + " is not a multiple of"
                        + " num_attention_heads " + heads + " (expected: head_dim to be given)");
            }
            headDim = (int) (hidden / heads);
        }
        if (heads % kvHeads != 0) {
            throw new ModelFormatException("config.json: num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int window = 0;
        AttentionPattern pattern = AttentionPattern.GLOBAL;
        boolean slidingOn = !(Boolean.FALSE.equals(c.get("use_sliding_window")));
        if (slidingOn && c.get("sliding_window") instanceof Number) {
            window = positive(c, "sliding_window");
            pattern = type.equals("gemma2") || type.equals("gpt_oss") ? AttentionPattern.ALTERNATING_SLIDING_GLOBAL
                    : AttentionPattern.SLIDING;
            if (c.get("sliding_window_pattern") instanceof Long every) {
                // Gemma-3 style: every n-th layer is global; only n = 2 is a pattern AttentionPattern knows
                pattern = every == 2 ? AttentionPattern.ALTERNATING_SLIDING_GLOBAL : AttentionPattern.GLOBAL;
            }
            if (c.get("layer_types") instanceof List<?> types) {
                pattern = patternOf(types, layers);
            }
            if (pattern == AttentionPattern.GLOBAL) {
                window = 0;
            }
        }
        long params = parameters(c, type, layers, heads, kvHeads, headDim, hidden);
        return new ModelShape(name, layers, heads, kvHeads, headDim, window, pattern, params);
    }

    private static AttentionPattern patternOf(List<?> types, int layers) {
        for (AttentionPattern p : new AttentionPattern[] {AttentionPattern.SLIDING,
                AttentionPattern.ALTERNATING_SLIDING_GLOBAL}) {
            boolean all = types.size() == layers;
            for (int l = 0; all && l < layers; l++) {
                boolean sliding = String.valueOf(types.get(l)).contains("sliding");
                all = sliding == p.isSliding(l);
            }
            if (all) {
                return p;
            }
        }
        return AttentionPattern.GLOBAL;
    }

    private static long parameters(Map<String, Object> c, String type, long layers, long heads, long kvHeads,
            long headDim, long hidden) throws ModelFormatException {
        if (hidden == 0 || !has(c, "vocab_size")) {
            return 0;
        }
        BigInteger vocab = big(positive(c, "vocab_size"));
        BigInteger h = big(hidden);
        BigInteger total;
        if (type.equals("gpt2")) {
            BigInteger positions = big(has(c, "n_positions") ? positive(c, "n_positions") : 1024);
            BigInteger inner = has(c, "n_inner") ? big(positive(c, "n_inner")) : h.multiply(big(4));
            BigInteger perLayer = h.multiply(big(4))
                    .add(h.multiply(h).multiply(big(3)).add(h.multiply(big(3))))
                    .add(h.multiply(h).add(h))
                    .add(h.multiply(inner).add(inner))
                    .add(inner.multiply(h).add(h));
            total = vocab.multiply(h).add(positions.multiply(h)).add(big(layers).multiply(perLayer))
                    .add(h.multiply(big(2)));
        } else if (type.equals("gpt_oss")) {
            total = gptOssParameters(c, vocab, h, layers, heads, kvHeads, headDim);
            if (total == null) {
                return 0;
            }
        } else {
            if (!has(c, "intermediate_size") || has(c, "num_local_experts", "num_experts")) {
                return 0; // a mixture of experts other than gpt-oss: not counted
            }
            BigInteger inter = big(positive(c, "intermediate_size"));
            BigInteger qDim = big(heads * headDim);
            BigInteger kvDim = big(kvHeads * headDim);
            boolean tied = Boolean.TRUE.equals(c.get("tie_word_embeddings"))
                    || (type.startsWith("gemma") && !Boolean.FALSE.equals(c.get("tie_word_embeddings")));
            boolean bias = type.equals("qwen2") || Boolean.TRUE.equals(c.get("attention_bias"));
            BigInteger norms = h.multiply(big(type.equals("gemma2") ? 4 : 2));
            BigInteger perLayer = h.multiply(qDim).add(h.multiply(kvDim).multiply(big(2))).add(qDim.multiply(h))
                    .add(h.multiply(inter).multiply(big(3))).add(norms)
                    .add(bias ? qDim.add(kvDim.multiply(big(2))) : BigInteger.ZERO);
            total = vocab.multiply(h).multiply(big(tied ? 1 : 2)).add(big(layers).multiply(perLayer)).add(h);
        }
        if (total.bitLength() > 62) {
            throw new ModelFormatException("config.json: the sizes give " + total + " parameters (expected: < 2^62)");
        }
        return total.longValue();
    }

    /**
     * gpt-oss: untied embeddings; per layer Q/K/V/O with biases, one attention sink per query head,
     * a router with bias, {@code num_local_experts} SwiGLU experts with biases (gate and up fused),
     * two norms; a final norm. Null if a size is missing.
     */
    private static BigInteger gptOssParameters(Map<String, Object> c, BigInteger vocab, BigInteger h, long layers,
            long heads, long kvHeads, long headDim) throws ModelFormatException {
        if (!has(c, "intermediate_size") || !has(c, "num_local_experts")) {
            return null;
        }
        BigInteger inter = big(positive(c, "intermediate_size"));
        BigInteger experts = big(positive(c, "num_local_experts"));
        BigInteger qDim = big(heads * headDim);
        BigInteger kvDim = big(kvHeads * headDim);
        BigInteger attention = h.multiply(qDim).add(qDim).add(h.multiply(kvDim).add(kvDim).multiply(big(2)))
                .add(qDim.multiply(h)).add(h).add(big(heads));
        BigInteger expert = h.multiply(inter).multiply(big(2)).add(inter.multiply(big(2))).add(inter.multiply(h)).add(h);
        BigInteger moe = h.multiply(experts).add(experts).add(experts.multiply(expert));
        BigInteger perLayer = attention.add(moe).add(h.multiply(big(2)));
        return vocab.multiply(h).multiply(big(2)).add(big(layers).multiply(perLayer)).add(h);
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }

    private static boolean has(Map<String, Object> c, String... keys) {
        for (String k : keys) {
            if (c.get(k) != null) {
                return true;
            }
        }
        return false;
    }

    private static int positive(Map<String, Object> c, String... keys) throws ModelFormatException {
        for (String k : keys) {
            Object v = c.get(k);
            if (v == null) {
                continue;
            }
            if (v instanceof Long n && n > 0 && n <= Integer.MAX_VALUE) {
                return (int) (long) n;
            }
            throw new ModelFormatException("config.json: " + k + " = " + v + " (expected: an integer 1.."
                    + Integer.MAX_VALUE + ")");
        }
        throw new ModelFormatException("config.json: " + String.join(" / ", keys) + " missing (expected: a positive integer)");
    }

    /** Reads an object whose START_OBJECT was consumed: scalars, string lists and nested objects. */
    private static Map<String, Object> object(JsonParser p, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new ModelFormatException("config.json nests deeper than " + MAX_DEPTH + " levels");
        }
        Map<String, Object> m = new HashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken t = p.nextToken();
            m.put(key, value(p, t, depth));
        }
        return m;
    }

    private static Object value(JsonParser p, JsonToken t, int depth) throws IOException {
        if (t == null) {
            throw new ModelFormatException("config.json ends early (truncated)");
        }
        return switch (t) {
            case START_OBJECT -> object(p, depth + 1);
            case START_ARRAY -> {
                List<Object> list = new ArrayList<>();
                JsonToken e;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (e == null) {
                        throw new ModelFormatException("config.json ends inside an array (truncated)");
                    }
                    list.add(value(p, e, depth + 1));
                }
                yield list;
            }
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getDecimalValue()
                    : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_STRING -> p.getText();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            default -> null;
        };
    }
}
