package io.pagedkv.examples.serve;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.CheckpointReader;
import io.pagedkv.examples.llama.GenerateCommand.PolicyKind;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.examples.llama.LlamaWeights;
import io.pagedkv.examples.llama.Tokenizer;
import io.pagedkv.plan.ByteSize;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pagedkv serve}: serves a llama2.c checkpoint over OpenAI's completions API, with the
 * continuous-batching {@link Engine} on the paged cache (or the contiguous baseline). Runs until
 * the process is interrupted. Not thread-safe; one per run.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a llama2.c checkpoint over an OpenAI-compatible HTTP API (POST /v1/completions,"
                + " GET /v1/models, /health, /metrics) with continuous batching on the paged KV cache.")
public final class ServeCommand implements Callable<Integer> {

    /** Environment variable read for the API key when {@code --api-key} is absent. */
    public static final String API_KEY_ENV = "PAGEDKV_API_KEY";

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin)")
    Path model;

    @Option(names = "--tokenizer", description = "llama2.c tokenizer (.bin); without it prompts are token ids and completions are ids")
    Path tokenizer;

    @Option(names = "--served-model-name", description = "the model name clients send (default: the checkpoint's file name without .bin)")
    String servedName;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE}, this machine only)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--api-key", description = "require Authorization: Bearer KEY on /v1 routes (default: env " + API_KEY_ENV + ")")
    String apiKey;

    @Option(names = "--kv", defaultValue = "paged", description = "K/V memory: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    KvKind kv;

    @Option(names = "--kv-dtype", defaultValue = "f32", description = "K/V storage type: f32, f16, bf16, fp8_e4m3, fp8_e5m2, q8_0, q4_0 (default: ${DEFAULT-VALUE})")
    String kvDtype;

    @Option(names = "--block-size", defaultValue = "16", description = "tokens per block of the paged cache (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--kv-blocks", defaultValue = "0", description = "blocks in the paged pool, or regions of the contiguous one (default: from --kv-memory)")
    int kvBlocks;

    @Option(names = "--kv-memory", description = "K/V memory, e.g. 8MiB (default: one whole context per --max-num-seqs)")
    String kvMemory;

    @Option(names = "--watermark", defaultValue = "0.01", description = "fraction of paged blocks admission keeps free while others run (default: ${DEFAULT-VALUE})")
    double watermark;

    @Option(names = "--no-prefix-caching", description = "do not reuse cached prompt prefixes across requests")
    boolean noPrefixCaching;

    @Option(names = "--policy", defaultValue = "none", description = "eviction policy of the paged cache: ${COMPLETION-CANDIDATES}"
            + " (default: ${DEFAULT-VALUE}); needs --kv-budget")
    PolicyKind policy;

    @Option(names = "--kv-budget", defaultValue = "0", description = "tokens the eviction policy keeps per request (>= 8; prompts must fit in it)")
    int kvBudget;

    @Option(names = "--max-num-seqs", defaultValue = "64", description = "most requests running at once (default: ${DEFAULT-VALUE})")
    int maxNumSeqs;

    @Option(names = "--max-batched-tokens", defaultValue = "512", description = "most tokens per engine step; longer prompts are prefilled in chunks (default: ${DEFAULT-VALUE})")
    int maxBatchedTokens;

    @Option(names = "--max-waiting", defaultValue = "256", description = "most requests waiting for admission; more get 429 (default: ${DEFAULT-VALUE})")
    int maxWaiting;

    @Option(names = "--max-streams", defaultValue = "128", description = "most streaming completions open at once; more get 429 (default: ${DEFAULT-VALUE})")
    int maxStreams;

    @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "largest request body; larger gets 413 (default: ${DEFAULT-VALUE})")
    int maxBodyBytes;

    @Option(names = "--max-prompt-tokens", defaultValue = "0", description = "longest prompt accepted (default: the context minus one)")
    int maxPromptTokens;

    @Option(names = "--kv-store", description = "a prefix tier below the paged pool shared by every server on it:"
            + " redis://[user:password@]host:port or rediss://... (default: none)")
    String kvStore;

    @Option(names = "--workers", defaultValue = "0", description = "threads for the decoder math, the scheduler included (default: the processors)")
    int workers;

    /** The last started server, for tests. */
    volatile ServerAssembly started;
    private final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isReadable(model)) {
            err.println("--model: " + model + " (expected: a readable llama2.c checkpoint)");
            return 2;
        }
        if (tokenizer != null && !Files.isReadable(tokenizer)) {
            err.println("--tokenizer: " + tokenizer + " (expected: a readable llama2.c tokenizer)");
            return 2;
        }
        ServeConfig config;
        LlamaWeights weights;
        Tokenizer tok;
        try {
            weights = CheckpointReader.read(model);
            LlamaConfig c = weights.config();
            tok = tokenizer == null ? null : Tokenizer.read(tokenizer, c.vocabSize());
            String name = servedName != null ? servedName : model.getFileName().toString().replaceFirst("\\.bin$", "");
            String key = apiKey != null ? apiKey : System.getenv(API_KEY_ENV);
            long memory = kvMemory == null ? 0 : ByteSize.parse(kvMemory).bytes();
            int threads = workers == 0 ? Runtime.getRuntime().availableProcessors() : workers;
            config = new ServeConfig(name, host, port, key, kv, KvDType.parse(kvDtype), blockSize, kvBlocks, memory,
                    watermark, !noPrefixCaching, policy, kvBudget, maxPromptTokens,
                    new EngineLimits(maxNumSeqs, maxBatchedTokens, maxWaiting, threads),
                    new ServerLimits(maxBodyBytes, maxStreams), kvStore);
        } catch (IllegalArgumentException e) {
            err.println("serve: " + e.getMessage());
            return 2;
        }
        ServerAssembly server;
        try {
            server = ServerAssembly.start(config, weights, tok,
                    kvStore == null ? config.modelName() : config.modelName() + "/" + digest(model));
        } catch (IllegalArgumentException | io.pagedkv.redis.RedisTierException e) {
            err.println("serve: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            err.println("--host/--port: " + host + ":" + port + " cannot be bound (" + e.getMessage() + ")");
            return 2;
        }
        started = server;
        LlamaConfig c = weights.config();
        out.printf("pagedkv serve: model \"%s\" (%s: %d layers, %d heads, %d KV heads, context %d, vocab %d, %s)%n",
                config.modelName(), model.getFileName(), c.layers(), c.heads(), c.kvHeads(), c.seqLen(), c.vocabSize(),
                tok == null ? "token ids only, no tokenizer" : "tokenizer " + tokenizer.getFileName());
        out.println("  " + server.kv().describe());
        EngineLimits el = config.engine();
        out.printf("  engine: %d running at most, %d tokens per step, %d waiting at most, %d worker threads%n",
                el.maxRunning(), el.maxBatchedTokens(), el.maxWaiting(), el.workers());
        out.printf("  listening on %s (API key %s); POST /v1/completions, GET /v1/models, /health, /metrics%n",
                server.baseUrl(), config.apiKey() == null || config.apiKey().isEmpty() ? "not required" : "required");
        if (!InetAddress.getByName(host).isLoopbackAddress() && !server.kv().describe().isEmpty()
                && (config.apiKey() == null || config.apiKey().isEmpty())) {
            err.println("serve: warning: listening on " + host + " beyond this machine without an API key (--api-key)");
        }
        out.flush();
        Thread hook = new Thread(() -> {
            server.close();
            stop.countDown();
        }, "pagedkv-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stop.await();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it closes the server
        }
        return 0;
    }

    /** The first 16 hex digits of the checkpoint's SHA-256: the model id in the prefix tier's keys. */
    static String digest(Path file) throws java.io.IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops a server started by {@link #call()} (tests). */
    void shutdown() {
        ServerAssembly s = started;
        if (s != null) {
            s.close();
        }
        stop.countDown();
    }
}
