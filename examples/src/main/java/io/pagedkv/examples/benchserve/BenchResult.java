package io.pagedkv.examples.benchserve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pagedkv.examples.serve.JsonTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of one benchmark run, as printed, written as JSON ({@link #toJson()}) and read back
 * ({@link #fromJson}) to compare with a baseline run.
 *
 * @param label name of the run (e.g. paged, contiguous)
 * @param model served model
 * @param workload trace name
 * @param requests requests sent
 * @param rate requests per second asked ({@code Infinity}: all at once)
 * @param seed trace seed
 * @param context the server's context length
 * @param scale factor applied to the trace's lengths
 * @param durationS seconds from the first send to the last end
 * @param completed requests that got every token
 * @param failed requests that did not
 * @param meanPromptTokens mean prompt tokens sent
 * @param meanOutputTokens mean tokens received per completed request
 * @param requestThroughput completed requests per second
 * @param outputThroughput output tokens per second
 * @param totalTokenThroughput prompt + output tokens per second
 * @param ttft time to first token, ms
 * @param tpot time per output token after the first, ms
 * @param latency end-to-end latency, ms
 * @param preemptions preemptions the server counted during the run (-1 when unknown)
 * @param prefixHitShare prompt tokens served from the prefix cache / prompt tokens sent
 * @param kvBlocks KV blocks of the server's pool (-1 when unknown)
 * @param kvBlockTokens tokens per block (-1 when unknown)
 * @param loadAverage the machine's 1-minute load average at the end (-1 when unknown)
 * @param processors processors of the machine running the benchmark
 */
public record BenchResult(String label, String model, String workload, int requests, double rate, long seed, int context,
        double scale, double durationS, int completed, int failed, double meanPromptTokens, double meanOutputTokens,
        double requestThroughput, double outputThroughput, double totalTokenThroughput, LatencySummary ttft,
        LatencySummary tpot, LatencySummary latency, long preemptions, double prefixHitShare, long kvBlocks,
        long kvBlockTokens, double loadAverage, int processors) {

    private static final JsonFactory FACTORY = new JsonFactory();

    /** Summarises {@code outcomes}. */
    static BenchResult of(String label, String model, String workload, double rate, long seed, int context, double scale,
            List<RequestOutcome> outcomes, long preemptions, long kvBlocks, long kvBlockTokens, double load) {
        long start = outcomes.stream().mapToLong(RequestOutcome::sentNs).min().orElse(0);
        long end = outcomes.stream().mapToLong(RequestOutcome::endNs).max().orElse(0);
        double duration = Math.max(1e-9, (end - start) / 1e9);
        List<RequestOutcome> ok = outcomes.stream().filter(RequestOutcome::ok).toList();
        long promptTokens = ok.stream().mapToLong(RequestOutcome::promptTokens).sum();
        long outputTokens = ok.stream().mapToLong(RequestOutcome::outputTokens).sum();
        long cached = ok.stream().mapToLong(RequestOutcome::cachedTokens).sum();
        return new BenchResult(label, model, workload, outcomes.size(), rate, seed, context, scale, duration, ok.size(),
                outcomes.size() - ok.size(),
                ok.isEmpty() ? 0 : promptTokens / (double) ok.size(), ok.isEmpty() ? 0 : outputTokens / (double) ok.size(),
                ok.size() / duration, outputTokens / duration, (promptTokens + outputTokens) / duration,
                LatencySummary.of(ok.stream().mapToDouble(RequestOutcome::ttftMs).toArray()),
                LatencySummary.of(ok.stream().mapToDouble(RequestOutcome::tpotMs).toArray()),
                LatencySummary.of(ok.stream().mapToDouble(RequestOutcome::latencyMs).toArray()),
                preemptions, promptTokens == 0 ? 0 : cached / (double) promptTokens, kvBlocks, kvBlockTokens, load,
                Runtime.getRuntime().availableProcessors());
    }

    /** The run as a table, one figure per line. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        line(sb, "run", label);
        line(sb, "requests completed / failed", completed + " / " + failed);
        line(sb, "duration (s)", f(durationS));
        line(sb, "mean prompt / output tokens", f(meanPromptTokens) + " / " + f(meanOutputTokens));
        line(sb, "request throughput (req/s)", f(requestThroughput));
        line(sb, "output token throughput (tok/s)", f(outputThroughput));
        line(sb, "total token throughput (tok/s)", f(totalTokenThroughput));
        line(sb, "TTFT mean / p50 / p90 / p99 (ms)", four(ttft));
        line(sb, "TPOT mean / p50 / p90 / p99 (ms)", four(tpot));
        line(sb, "latency mean / p50 / p90 / p99 (ms)", four(latency));
        line(sb, "preemptions", preemptions < 0 ? "?" : Long.toString(preemptions));
        line(sb, "prompt tokens from the prefix cache", String.format(Locale.ROOT, "%.1f%%", 100 * prefixHitShare));
        line(sb, "server KV pool", kvBlocks < 0 ? "?" : kvBlocks + " blocks of " + kvBlockTokens + " tokens");
        line(sb, "machine load (1 min) / processors", (loadAverage < 0 ? "?" : f(loadAverage)) + " / " + processors);
        return sb.toString();
    }

    private static void line(StringBuilder sb, String name, String value) {
        sb.append(String.format(Locale.ROOT, "%-40s %s%n", name, value));
    }

    private static String four(LatencySummary s) {
        return f(s.mean()) + " / " + f(s.p50()) + " / " + f(s.p90()) + " / " + f(s.p99());
    }

    static String f(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.1f" : "%.2f", v);
    }

    /** The run as a JSON object. */
    public String toJson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("label", label);
            g.writeStringField("model", model);
            g.writeStringField("workload", workload);
            g.writeNumberField("requests", requests);
            g.writeNumberField("rate", Double.isInfinite(rate) ? -1 : rate);
            g.writeNumberField("seed", seed);
            g.writeNumberField("context", context);
            g.writeNumberField("scale", scale);
            g.writeNumberField("durationS", durationS);
            g.writeNumberField("completed", completed);
            g.writeNumberField("failed", failed);
            g.writeNumberField("meanPromptTokens", meanPromptTokens);
            g.writeNumberField("meanOutputTokens", meanOutputTokens);
            g.writeNumberField("requestThroughput", requestThroughput);
            g.writeNumberField("outputThroughput", outputThroughput);
            g.writeNumberField("totalTokenThroughput", totalTokenThroughput);
            summary(g, "ttftMs", ttft);
            summary(g, "tpotMs", tpot);
            summary(g, "latencyMs", latency);
            g.writeNumberField("preemptions", preemptions);
            g.writeNumberField("prefixHitShare", prefixHitShare);
            g.writeNumberField("kvBlocks", kvBlocks);
            g.writeNumberField("kvBlockTokens", kvBlockTokens);
            g.writeNumberField("loadAverage", loadAverage);
            g.writeNumberField("processors", processors);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void summary(JsonGenerator g, String name, LatencySummary s) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("mean", nan(s.mean()));
        g.writeNumberField("p50", nan(s.p50()));
        g.writeNumberField("p90", nan(s.p90()));
        g.writeNumberField("p99", nan(s.p99()));
        g.writeNumberField("count", s.count());
        g.writeEndObject();
    }

    private static double nan(double v) {
        return Double.isNaN(v) ? -1 : v;
    }

    /**
     * Reads a run written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException if a field is missing or of the wrong type
     */
    @SuppressWarnings("unchecked")
    public static BenchResult fromJson(String json) {
        Object root = JsonTree.parse(json.getBytes(StandardCharsets.UTF_8));
        if (!(root instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("baseline: not a JSON object (expected: the output of bench-serve --json)");
        }
        Map<String, Object> m = (Map<String, Object>) root;
        double rate = num(m, "rate");
        return new BenchResult(str(m, "label"), str(m, "model"), str(m, "workload"), (int) num(m, "requests"),
                rate < 0 ? Double.POSITIVE_INFINITY : rate, (long) num(m, "seed"), (int) num(m, "context"), num(m, "scale"),
                num(m, "durationS"), (int) num(m, "completed"), (int) num(m, "failed"), num(m, "meanPromptTokens"),
                num(m, "meanOutputTokens"), num(m, "requestThroughput"), num(m, "outputThroughput"),
                num(m, "totalTokenThroughput"), sum(m, "ttftMs"), sum(m, "tpotMs"), sum(m, "latencyMs"),
                (long) num(m, "preemptions"), num(m, "prefixHitShare"), (long) num(m, "kvBlocks"),
                (long) num(m, "kvBlockTokens"), num(m, "loadAverage"), (int) num(m, "processors"));
    }

    @SuppressWarnings("unchecked")
    private static LatencySummary sum(Map<String, Object> m, String name) {
        Object o = m.get(name);
        if (!(o instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("baseline: " + name + " missing (expected: an object)");
        }
        Map<String, Object> s = (Map<String, Object>) o;
        return new LatencySummary(num(s, "mean"), num(s, "p50"), num(s, "p90"), num(s, "p99"), (int) num(s, "count"));
    }

    private static double num(Map<String, Object> m, String name) {
        if (!(m.get(name) instanceof Number n)) {
            throw new IllegalArgumentException("baseline: " + name + " = " + m.get(name) + " (expected: a number)");
        }
        return n.doubleValue();
    }

    private static String str(Map<String, Object> m, String name) {
        if (!(m.get(name) instanceof String s)) {
            throw new IllegalArgumentException("baseline: " + name + " = " + m.get(name) + " (expected: a string)");
        }
        return s;
    }
}
