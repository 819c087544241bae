package io.pagedkv.examples.serve;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.examples.llama.GenerateCommand.PolicyKind;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Tokenizer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A running server: the KV backend, the engine, the metrics and the HTTP side, built from a
 * {@link ServeConfig} and a model, started together and closed together (HTTP first, then the
 * engine, which fails what is pending and releases its memory, then the pool). Thread-safe.
 */
public final class ServerAssembly implements AutoCloseable {

    private final KvBackend kv;
    private final Engine engine;
    private final ServeMetrics metrics;
    private final CompletionServer http;
    private final ServeConfig config;
    private final int context;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private ServerAssembly(ServeConfig config, KvBackend kv, Engine engine, ServeMetrics metrics, CompletionServer http,
            int context) {
        this.config = config;
        this.kv = kv;
        this.engine = engine;
        this.metrics = metrics;
        this.http = http;
        this.context = context;
    }

    /**
     * Builds and starts a server for {@code weights}.
     *
     * @param tokenizer null: prompts are token ids and completions are shown as ids
     * @throws IllegalArgumentException naming the value and the limit when the configuration does
     *     not fit the model (a pool that cannot hold one context, a block size the dtype cannot use)
     * @throws IOException if the address cannot be bound
     */
    public static ServerAssembly start(ServeConfig config, LlamaWeights weights, Tokenizer tokenizer) throws IOException {
        return start(config, weights, tokenizer, config.modelName());
    }

    /**
     * As {@link #start(ServeConfig, LlamaWeights, Tokenizer)}; {@code modelId} names the weights in the
     * prefix tier's keys (a checkpoint digest: two checkpoints of one shape must never share blocks).
     *
     * @throws io.pagedkv.redis.RedisTierException if the {@code --kv-store} Redis cannot be reached or
     *     refuses the credentials (at start-up, never a silent fallback)
     */
    public static ServerAssembly start(ServeConfig config, LlamaWeights weights, Tokenizer tokenizer, String modelId)
            throws IOException {
        LlamaConfig c = weights.config();
        int context = c.seqLen();
        KvBackend kv = backend(config, c, modelId);
        try {
            int maxPrompt = config.maxPromptTokens() == 0 ? context - 1 : config.maxPromptTokens();
            if (kv instanceof EvictingKvBackend e) {
                maxPrompt = Math.min(maxPrompt, Math.min(context - 1, e.maxPromptTokens()));
            }
            CompletionRequestParser parser = new CompletionRequestParser(config.modelName(), tokenizer, c.vocabSize(),
                    context, maxPrompt);
            ServeMetrics metrics = new ServeMetrics();
            Engine engine = new Engine(weights, tokenizer, kv, config.engine(), metrics);
            metrics.bind(engine);
            CompletionServer http;
            try {
                http = new CompletionServer(new InetSocketAddress(config.host(), config.port()), engine, parser, metrics,
                        config.modelName(), context, config.apiKey(), config.server());
            } catch (IOException | RuntimeException e) {
                engine.close();
                throw e;
            }
            engine.start();
            http.start();
            return new ServerAssembly(config, kv, engine, metrics, http, context);
        } catch (IOException | RuntimeException e) {
            kv.close();
            throw e;
        }
    }

    /** The KV backend {@code config} asks for, sized for the model. */
    static KvBackend backend(ServeConfig config, LlamaConfig c) {
        return backend(config, c, config.modelName());
    }

    static KvBackend backend(ServeConfig config, LlamaConfig c, String modelId) {
        int context = c.seqLen();
        CacheLayout paged = new CacheLayout(c.shape("llama2.c"), config.dtype(), config.blockSize());
        long bytesPerContext = paged.bytesPerToken() * (long) context;
        long memory = config.kvMemoryBytes() > 0 ? config.kvMemoryBytes()
                : bytesPerContext * config.engine().maxRunning();
        return switch (config.kv()) {
            case paged -> {
                long blocks = config.kvBlocks() > 0 ? config.kvBlocks() : memory / paged.bytesPerBlock();
                if (blocks > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("kv blocks: " + blocks + " (expected: <= " + Integer.MAX_VALUE + ")");
                }
                if (config.policy() != PolicyKind.none) {
                    yield new EvictingKvBackend(paged, (int) blocks, c, config.policy(), config.kvBudget());
                }
                int watermark = (int) Math.floor(config.watermark() * blocks);
                if (config.kvStore() != null) {
                    io.pagedkv.redis.RedisBlockStore store = io.pagedkv.redis.RedisBlockStore.connect(config.kvStore());
                    try {
                        yield new PagedKvBackend(paged, (int) blocks, context, watermark, true, store,
                                io.pagedkv.tier.LayoutFingerprint.of(modelId, paged, null));
                    } catch (RuntimeException e) {
                        store.close();
                        throw e;
                    }
                }
                yield new PagedKvBackend(paged, (int) blocks, context, watermark, config.prefixCaching());
            }
            case contiguous -> {
                long regions = config.kvBlocks() > 0 ? config.kvBlocks() : memory / bytesPerContext;
                if (regions < 1 || regions > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("kv memory: " + memory + " bytes holds " + regions
                            + " regions of the whole context (" + bytesPerContext + " bytes each; expected: >= 1)");
                }
                yield new ContiguousKvBackend(c.shape("llama2.c"), config.dtype(), context, (int) regions);
            }
        };
    }

    /** The bound port. */
    public int port() {
        return http.port();
    }

    /** {@code http://host:port} of the server. */
    public String baseUrl() {
        InetSocketAddress a = http.address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** The engine. */
    public Engine engine() {
        return engine;
    }

    /** The KV backend. */
    public KvBackend kv() {
        return kv;
    }

    /** The metrics. */
    public ServeMetrics metrics() {
        return metrics;
    }

    /** The configuration it runs with. */
    public ServeConfig config() {
        return config;
    }

    /** The model's context length. */
    public int context() {
        return context;
    }

    /** Closes everything once; later calls do nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        http.close();
        engine.close();
        kv.close();
    }
}
