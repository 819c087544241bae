package io.pagedkv.examples.serve;

import io.pagedkv.examples.llama.Tokenizer;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns the JSON body of {@code POST /v1/completions} into a {@link CompletionRequest}, checking
 * every field's type and range; a violation is an {@link ApiException} (400, or 404 for an unknown
 * model) naming the field, the value and the limit. Unknown fields are ignored, as OpenAI does;
 * fields whose behaviour this server does not implement ({@code n}, {@code best_of},
 * {@code logprobs}, {@code echo}, {@code suffix}, penalties, {@code logit_bias}) are accepted only
 * at their neutral value. Immutable and thread-safe.
 */
public final class CompletionRequestParser {

    private final String modelName;
    private final Tokenizer tokenizer;
    private final int vocabSize;
    private final int context;
    private final int maxPromptTokens;

    /**
     * A parser for the served model {@code modelName}.
     *
     * @param tokenizer encodes text prompts; null when the model takes token ids only
     * @param vocabSize token ids must be below it
     * @param context the model's context length: prompt + max_tokens must fit in it
     * @param maxPromptTokens the longest prompt accepted, {@code <= context - 1}
     */
    public CompletionRequestParser(String modelName, Tokenizer tokenizer, int vocabSize, int context, int maxPromptTokens) {
        if (maxPromptTokens < 1 || maxPromptTokens > context - 1) {
            throw new IllegalArgumentException("maxPromptTokens: " + maxPromptTokens + " (expected: 1 .. context - 1 = "
                    + (context - 1) + ")");
        }
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.context = context;
        this.maxPromptTokens = maxPromptTokens;
    }

    /**
     * Parses and validates a request body.
     *
     * @throws ApiException 400 for a malformed or invalid request, 404 for another model
     */
    public CompletionRequest parse(byte[] body) {
        Object root = JsonTree.parse(body);
        if (!(root instanceof Map<?, ?> raw)) {
            throw ApiException.badRequest(null, "request body: " + kind(root) + " (expected: a JSON object)");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> f = (Map<String, Object>) raw;

        Object model = f.get("model");
        if (model == null) {
            throw ApiException.badRequest("model", "model: missing (expected: \"" + modelName + "\")");
        }
        if (!(model instanceof String m)) {
            throw ApiException.badRequest("model", "model: " + kind(model) + " (expected: a string)");
        }
        if (!m.equals(modelName)) {
            throw new ApiException(404, ApiException.INVALID_REQUEST, "model", "model_not_found",
                    "model: \"" + m + "\" does not exist (expected: \"" + modelName + "\", see GET /v1/models)");
        }

        int[] prompt = prompt(f.get("prompt"));
        if (prompt.length > maxPromptTokens) {
            throw new ApiException(400, ApiException.INVALID_REQUEST, "prompt", "context_length_exceeded",
                    "prompt: " + prompt.length + " tokens (expected: <= " + maxPromptTokens + ")");
        }
        long maxTokens = integer(f, "max_tokens", CompletionRequest.DEFAULT_MAX_TOKENS, 1, Integer.MAX_VALUE);
        if (prompt.length + maxTokens > context) {
            throw new ApiException(400, ApiException.INVALID_REQUEST, "max_tokens", "context_length_exceeded",
                    "max_tokens: " + maxTokens + " with a prompt of " + prompt.length + " tokens (expected: prompt + max_tokens"
                            + " <= the model's context of " + context + " tokens, so max_tokens <= " + (context - prompt.length) + ")");
        }
        double temperature = number(f, "temperature", 1.0, 0.0, 2.0, true);
        double topP = number(f, "top_p", 1.0, 0.0, 1.0, false);
        long seed = f.get("seed") == null ? ThreadLocalRandom.current().nextLong()
                : integer(f, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = stop(f.get("stop"));
        boolean stream = bool(f, "stream", false);
        boolean includeUsage = false;
        Object so = f.get("stream_options");
        if (so != null) {
            if (!(so instanceof Map<?, ?> opts)) {
                throw ApiException.badRequest("stream_options", "stream_options: " + kind(so) + " (expected: an object)");
            }
            Object iu = opts.get("include_usage");
            if (iu != null && !(iu instanceof Boolean)) {
                throw ApiException.badRequest("stream_options", "stream_options.include_usage: " + kind(iu)
                        + " (expected: a boolean)");
            }
            includeUsage = Boolean.TRUE.equals(iu);
        }
        boolean ignoreEos = bool(f, "ignore_eos", false);

        neutral(f, "n", 1L);
        neutral(f, "best_of", 1L);
        neutral(f, "echo", Boolean.FALSE);
        neutralNumber(f, "presence_penalty");
        neutralNumber(f, "frequency_penalty");
        Object logprobs = f.get("logprobs");
        if (logprobs != null && !Long.valueOf(0).equals(logprobs)) {
            throw ApiException.badRequest("logprobs", "logprobs: " + logprobs + " (expected: null; log probabilities are not supported)");
        }
        Object suffix = f.get("suffix");
        if (suffix != null) {
            throw ApiException.badRequest("suffix", "suffix: not supported (expected: null)");
        }
        Object bias = f.get("logit_bias");
        if (bias != null && !(bias instanceof Map<?, ?> b && b.isEmpty())) {
            throw ApiException.badRequest("logit_bias", "logit_bias: not supported (expected: null or {})");
        }
        Object user = f.get("user");
        if (user != null && !(user instanceof String)) {
            throw ApiException.badRequest("user", "user: " + kind(user) + " (expected: a string)");
        }
        return new CompletionRequest(m, prompt, (int) maxTokens, (float) temperature, (float) topP, seed, stop, stream,
                includeUsage, ignoreEos);
    }

    private int[] prompt(Object p) {
        if (p == null) {
            throw ApiException.badRequest("prompt", "prompt: missing (expected: a string or an array of token ids)");
        }
        if (p instanceof String s) {
            return text(s);
        }
        if (!(p instanceof List<?> list)) {
            throw ApiException.badRequest("prompt", "prompt: " + kind(p) + " (expected: a string or an array of token ids)");
        }
        if (list.isEmpty()) {
            throw ApiException.badRequest("prompt", "prompt: empty array (expected: at least one token id)");
        }
        Object first = list.get(0);
        if (first instanceof String || first instanceof List<?>) {
            if (list.size() != 1) {
                throw ApiException.badRequest("prompt", "prompt: " + list.size() + " prompts (expected: one; batched"
                        + " prompts are not supported, send one request per prompt)");
            }
            return first instanceof String s ? text(s) : tokenIds((List<?>) first);
        }
        return tokenIds(list);
    }

    private int[] text(String s) {
        if (s.isEmpty()) {
            throw ApiException.badRequest("prompt", "prompt: empty string (expected: at least one character)");
        }
        if (tokenizer == null) {
            throw ApiException.badRequest("prompt", "prompt: text, but model \"" + modelName
                    + "\" is served without a tokenizer (expected: an array of token ids)");
        }
        if (s.length() > 16L * maxPromptTokens + 64) {
            // every token holds at least one char: refuse before an expensive encode of a huge text
            throw new ApiException(400, ApiException.INVALID_REQUEST, "prompt", "context_length_exceeded",
                    "prompt: " + s.length() + " characters (expected: a prompt of <= " + maxPromptTokens + " tokens)");
        }
        return tokenizer.encode(s, true);
    }

    private int[] tokenIds(List<?> list) {
        if (list.isEmpty()) {
            throw ApiException.badRequest("prompt", "prompt: empty array (expected: at least one token id)");
        }
        if (list.size() > maxPromptTokens) {
            throw new ApiException(400, ApiException.INVALID_REQUEST, "prompt", "context_length_exceeded",
                    "prompt: " + list.size() + " tokens (expected: <= " + maxPromptTokens + ")");
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            Object o = list.get(i);
            if (!(o instanceof Long v)) {
                throw ApiException.badRequest("prompt", "prompt[" + i + "]: " + kind(o) + " (expected: a token id, an integer)");
            }
            if (v < 0 || v >= vocabSize) {
                throw ApiException.badRequest("prompt", "prompt[" + i + "]: " + v + " (expected: a token id 0 <= id < "
                        + vocabSize + ")");
            }
            ids[i] = (int) (long) v;
        }
        return ids;
    }

    private static List<String> stop(Object s) {
        if (s == null) {
            return List.of();
        }
        List<?> items = s instanceof String ? List.of(s) : s instanceof List<?> l ? l : null;
        if (items == null) {
            throw ApiException.badRequest("stop", "stop: " + kind(s) + " (expected: a string or an array of strings)");
        }
        if (items.size() > CompletionRequest.MAX_STOP_STRINGS) {
            throw ApiException.badRequest("stop", "stop: " + items.size() + " strings (expected: <= "
                    + CompletionRequest.MAX_STOP_STRINGS + ")");
        }
        List<String> out = new ArrayList<>(items.size());
        for (Object o : items) {
            if (!(o instanceof String str) || str.isEmpty()) {
                throw ApiException.badRequest("stop", "stop: " + kind(o) + " (expected: non-empty strings)");
            }
            out.add(str);
        }
        return List.copyOf(out);
    }

    private static long integer(Map<String, Object> f, String name, long dflt, long min, long max) {
        Object o = f.get(name);
        if (o == null) {
            return dflt;
        }
        if (o instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
            o = (long) (double) d; // 16.0 is the integer 16
        }
        if (o instanceof BigInteger b) {
            throw ApiException.badRequest(name, name + ": " + b + " (expected: an integer " + min + " .. " + max + ")");
        }
        if (!(o instanceof Long v)) {
            throw ApiException.badRequest(name, name + ": " + kind(o) + " (expected: an integer)");
        }
        if (v < min || v > max) {
            throw ApiException.badRequest(name, name + ": " + v + " (expected: an integer " + min + " .. " + max + ")");
        }
        return v;
    }

    private static double number(Map<String, Object> f, String name, double dflt, double min, double max,
            boolean minInclusive) {
        Object o = f.get(name);
        if (o == null) {
            return dflt;
        }
        if (!(o instanceof Number n) || o instanceof BigInteger) {
            throw ApiException.badRequest(name, name + ": " + kind(o) + " (expected: a number " + min + " .. " + max + ")");
        }
        double v = n.doubleValue();
        if (!(minInclusive ? v >= min : v > min) || !(v <= max)) {
            throw ApiException.badRequest(name, name + ": " + v + " (expected: " + min + (minInclusive ? " <= " : " < ")
                    + name + " <= " + max + ")");
        }
        return v;
    }

    private static boolean bool(Map<String, Object> f, String name, boolean dflt) {
        Object o = f.get(name);
        if (o == null) {
            return dflt;
        }
        if (!(o instanceof Boolean b)) {
            throw ApiException.badRequest(name, name + ": " + kind(o) + " (expected: a boolean)");
        }
        return b;
    }

    private static void neutral(Map<String, Object> f, String name, Object neutral) {
        Object o = f.get(name);
        if (o != null && !o.equals(neutral)) {
            throw ApiException.badRequest(name, name + ": " + o + " (expected: " + neutral + "; other values are not supported)");
        }
    }

    private static void neutralNumber(Map<String, Object> f, String name) {
        Object o = f.get(name);
        if (o != null && !(o instanceof Number n && n.doubleValue() == 0.0)) {
            throw ApiException.badRequest(name, name + ": " + o + " (expected: 0; penalties are not supported)");
        }
    }

    /** A short description of a JSON value for messages: its kind and, when short, the value. */
    static String kind(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof String s) {
            return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
        }
        if (o instanceof Boolean b) {
            return "the boolean " + b;
        }
        if (o instanceof Number n) {
            return "the number " + n;
        }
        if (o instanceof List<?> l) {
            return "an array of " + l.size();
        }
        return "an object";
    }
}
