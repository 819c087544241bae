package io.pagedkv.examples.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The server's metrics in a Micrometer {@link PrometheusMeterRegistry}, scraped as Prometheus text
 * at {@code GET /metrics}: KV blocks by state, prefix-cache tokens, preemptions, requests waiting
 * and running, tokens, and histograms of time to first token (TTFT), time per output token (TPOT,
 * per request: {@code (last - first token) / (tokens - 1)}) and end-to-end latency.
 *
 * <p>The cache's own meters come from the {@code pagedkv-micrometer} binding
 * ({@code pagedkv_blocks_objects{state=free|used|cached}}, {@code pagedkv_blocks_total_objects}, sequences,
 * live tokens, prefix-cache queries and hits), tagged {@code kv=paged|contiguous}. The engine adds
 * {@code pagedkv_kv_block_tokens}, {@code pagedkv_admitted_prompt_tokens_total},
 * {@code pagedkv_admitted_cached_tokens_total} (admitted requests only: a refused admission probe
 * is not counted), {@code pagedkv_preemptions_total},
 * {@code pagedkv_requests_waiting}, {@code pagedkv_requests_running},
 * {@code pagedkv_requests_finished_total{finish_reason}}, {@code pagedkv_prompt_tokens_total},
 * {@code pagedkv_generation_tokens_total}, {@code pagedkv_time_to_first_token_seconds},
 * {@code pagedkv_time_per_output_token_seconds}, {@code pagedkv_e2e_request_latency_seconds}.
 * Thread-safe.
 */
public final class ServeMetrics implements EngineListener {

    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(20),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter preemptions;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter cancelled;
    private final Counter failed;
    private final Timer ttft;
    private final Timer tpot;
    private final Timer e2e;
    private final DistributionSummary cachedShare;

    /** Metrics with no engine bound yet; see {@link #bind}. */
    public ServeMetrics() {
        this.preemptions = Counter.builder("pagedkv.preemptions")
                .description("Sequences preempted (released and recomputed) because KV blocks ran out").register(registry);
        this.promptTokens = Counter.builder("pagedkv.prompt.tokens").description("Prompt tokens of finished requests")
                .register(registry);
        this.generationTokens = Counter.builder("pagedkv.generation.tokens").description("Tokens generated")
                .register(registry);
        this.cancelled = Counter.builder("pagedkv.requests.cancelled")
                .description("Requests dropped because their client went away").register(registry);
        this.failed = Counter.builder("pagedkv.requests.failed").description("Requests failed inside the engine")
                .register(registry);
        this.ttft = Timer.builder("pagedkv.time.to.first.token").description("Time from arrival to the first token")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        this.tpot = Timer.builder("pagedkv.time.per.output.token")
                .description("Per request: (last token - first token) / (tokens - 1)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        this.e2e = Timer.builder("pagedkv.e2e.request.latency").description("Time from arrival to the last token")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        this.cachedShare = DistributionSummary.builder("pagedkv.prefix.cached.share")
                .description("Share of a request's prompt served from the prefix cache").register(registry);
    }

    /** Registers the gauges that read {@code engine} and its backend at scrape time. */
    public void bind(Engine engine) {
        KvBackend kv = engine.kv();
        kv.bindMetrics(registry);
        Gauge.builder("pagedkv.kv.block.tokens", kv, k -> k.usage().blockTokens())
                .description("Tokens per KV block (the whole context for max-length reservation)").register(registry);
        FunctionCounter.builder("pagedkv.admitted.prompt.tokens", kv, k -> k.usage().prefixQueryTokens())
                .description("Prompt tokens of admitted requests (re-admissions after preemption included)")
                .register(registry);
        FunctionCounter.builder("pagedkv.admitted.cached.tokens", kv, k -> k.usage().prefixHitTokens())
                .description("Prompt tokens of admitted requests served from the prefix cache").register(registry);
        Gauge.builder("pagedkv.requests.waiting", engine, Engine::waitingCount)
                .description("Requests waiting for admission (queued or preempted)").register(registry);
        Gauge.builder("pagedkv.requests.running", engine, Engine::runningCount)
                .description("Requests admitted and holding KV blocks").register(registry);
        FunctionCounter.builder("pagedkv.engine.steps", engine, Engine::steps).description("Engine steps run")
                .register(registry);
    }

    /** The registry (a Micrometer binding may add its own meters). */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void onPreempted(EngineRequest r) {
        preemptions.increment();
    }

    @Override
    public void onToken(EngineRequest r, long nowNs) {
        generationTokens.increment();
        if (r.generated == 1) {
            ttft.record(nowNs - r.arrivalNs, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void onFinished(EngineRequest r, long nowNs) {
        promptTokens.increment(r.promptLength);
        if (r.generated == 0) {
            ttft.record(nowNs - r.arrivalNs, TimeUnit.NANOSECONDS);
        }
        if (r.generated > 1) {
            tpot.record((nowNs - r.firstTokenNs) / (r.generated - 1), TimeUnit.NANOSECONDS);
        }
        e2e.record(nowNs - r.arrivalNs, TimeUnit.NANOSECONDS);
        cachedShare.record(r.promptLength == 0 ? 0 : Math.max(0, r.cachedTokens) / (double) r.promptLength);
        Counter.builder("pagedkv.requests.finished").tag("finish_reason", r.finishReason)
                .description("Requests finished, by finish reason").register(registry).increment();
    }

    @Override
    public void onCancelled(EngineRequest r) {
        cancelled.increment();
    }

    @Override
    public void onFailed(EngineRequest r) {
        failed.increment();
    }
}
