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
 * <p>Names (after Prometheus naming): {@code pagedkv_kv_blocks{state=free|used|cached}},
 * {@code pagedkv_kv_blocks_total_blocks}, {@code pagedkv_prefix_cache_query_tokens_total},
 * {@code pagedkv_prefix_cache_hit_tokens_total}, {@code pagedkv_preemptions_total},
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

    /** Metrics of {@code engine} and its KV backend. */
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
        for (String state : new String[] {"free", "used", "cached"}) {
            Gauge.builder("pagedkv.kv.blocks", kv, k -> switch (state) {
                case "free" -> k.usage().freeBlocks();
                case "used" -> k.usage().usedBlocks();
                default -> k.usage().cachedBlocks();
            }).tag("state", state).description("KV blocks by state (cached: held only by the prefix cache, reclaimable)")
                    .register(registry);
        }
        Gauge.builder("pagedkv.kv.blocks.total", kv, k -> k.usage().totalBlocks()).baseUnit("blocks")
                .description("KV blocks in the pool").register(registry);
        Gauge.builder("pagedkv.kv.block.tokens", kv, k -> k.usage().blockTokens())
                .description("Tokens per KV block (the whole context for max-length reservation)").register(registry);
        FunctionCounter.builder("pagedkv.prefix.cache.query.tokens", kv, k -> k.usage().prefixQueryTokens())
                .description("Prompt tokens of admitted requests looked up in the prefix cache").register(registry);
        FunctionCounter.builder("pagedkv.prefix.cache.hit.tokens", kv, k -> k.usage().prefixHitTokens())
                .description("Prompt tokens served from the prefix cache").register(registry);
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
