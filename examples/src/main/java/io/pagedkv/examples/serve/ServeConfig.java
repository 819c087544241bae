package io.pagedkv.examples.serve;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.examples.llama.GenerateCommand;
import io.pagedkv.examples.llama.GenerateCommand.PolicyKind;

/**
 * Everything {@link ServerAssembly} needs to start a server, validated where a value alone can be
 * judged (the model-dependent checks happen when the server is assembled).
 *
 * @param modelName the name clients send as {@code model}
 * @param host address to bind ({@code 127.0.0.1} unless the operator says otherwise)
 * @param port port to bind, 0 for any free port
 * @param apiKey null or empty: no authentication
 * @param kv paged or contiguous
 * @param dtype storage type of K/V
 * @param blockSize tokens per block (paged)
 * @param kvBlocks blocks in the pool (paged) or regions (contiguous) when {@code > 0}; otherwise
 *     {@code kvMemoryBytes} decides
 * @param kvMemoryBytes K/V memory when {@code kvBlocks == 0}; 0 = one whole context per running slot
 * @param watermark fraction of the paged pool admission keeps free while others run (vLLM: 0.01)
 * @param prefixCaching whether the paged cache reuses prompt prefixes across requests
 * @param policy eviction policy of the paged cache ({@code none}: keep every token)
 * @param kvBudget tokens the policy keeps per request (0 without a policy)
 * @param maxPromptTokens longest prompt accepted, 0 = the context minus one
 * @param engine the scheduler's limits
 * @param server the HTTP side's limits
 * @param kvStore a Redis URL for the prefix tier below the paged pool, or null for none
 */
public record ServeConfig(
        String modelName,
        String host,
        int port,
        String apiKey,
        KvKind kv,
        KvDType dtype,
        int blockSize,
        int kvBlocks,
        long kvMemoryBytes,
        double watermark,
        boolean prefixCaching,
        PolicyKind policy,
        int kvBudget,
        int maxPromptTokens,
        EngineLimits engine,
        ServerLimits server,
        String kvStore) {

    /** Validates the values that can be judged alone. */
    public ServeConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0 .. 65535)");
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size: " + blockSize + " (expected: >= 1)");
        }
        if (kvBlocks < 0) {
            throw new IllegalArgumentException("kv blocks: " + kvBlocks + " (expected: >= 0)");
        }
        if (kvMemoryBytes < 0) {
            throw new IllegalArgumentException("kv memory: " + kvMemoryBytes + " bytes (expected: >= 0)");
        }
        if (!(watermark >= 0 && watermark < 1)) {
            throw new IllegalArgumentException("watermark: " + watermark + " (expected: 0 <= watermark < 1)");
        }
        if (policy == null) {
            throw new IllegalArgumentException("policy: null (expected: none or a policy)");
        }
        if (policy != PolicyKind.none && kvBudget < GenerateCommand.MIN_BUDGET) {
            throw new IllegalArgumentException("kv budget: " + kvBudget + " with policy " + policy + " (expected: >= "
                    + GenerateCommand.MIN_BUDGET + ")");
        }
        if (policy == PolicyKind.none && kvBudget != 0) {
            throw new IllegalArgumentException("kv budget: " + kvBudget + " (expected: with --policy window|sinks|h2o|tova|knorm)");
        }
        if (policy != PolicyKind.none && kv != KvKind.paged) {
            throw new IllegalArgumentException("kv: " + kv + " with policy " + policy + " (expected: paged)");
        }
        if (kvStore != null) {
            if (!kvStore.startsWith("redis://") && !kvStore.startsWith("rediss://")) {
                throw new IllegalArgumentException("kv store: " + kvStore.replaceAll("//[^@/]*@", "//***@")
                        + " (expected: redis://[user:password@]host:port or rediss://...)");
            }
            if (kv != KvKind.paged || policy != PolicyKind.none || !prefixCaching) {
                throw new IllegalArgumentException("kv store: with kv " + kv + ", policy " + policy + ", prefix caching "
                        + (prefixCaching ? "on" : "off") + " (expected: the paged cache, no policy, prefix caching on)");
            }
        }
        if (maxPromptTokens < 0) {
            throw new IllegalArgumentException("max prompt tokens: " + maxPromptTokens + " (expected: >= 0)");
        }
    }

    /** A configuration with the defaults of {@code pagedkv serve} for {@code modelName} on a free port. */
    public static ServeConfig defaults(String modelName) {
        return new ServeConfig(modelName, "127.0.0.1", 0, null, KvKind.paged, KvDType.F32, 16, 0, 0, 0.01, true,
                PolicyKind.none, 0, 0,
                new EngineLimits(64, 512, 256, Math.max(1, Runtime.getRuntime().availableProcessors())),
                new ServerLimits(ServerLimits.DEFAULT_MAX_BODY_BYTES, 128), null);
    }

    /** This configuration with {@code kv} memory strategy. */
    public ServeConfig withKv(KvKind kind, int blocks, long memoryBytes) {
        return new ServeConfig(modelName, host, port, apiKey, kind, dtype, blockSize, blocks, memoryBytes, watermark,
                prefixCaching, policy, kvBudget, maxPromptTokens, engine, server, kvStore);
    }

    /** This configuration with an eviction policy keeping {@code budget} tokens per request. */
    public ServeConfig withPolicy(PolicyKind kind, int budget) {
        return new ServeConfig(modelName, host, port, apiKey, kv, dtype, blockSize, kvBlocks, kvMemoryBytes, watermark,
                prefixCaching, kind, budget, maxPromptTokens, engine, server, kvStore);
    }

    /** This configuration with another API key. */
    public ServeConfig withApiKey(String key) {
        return new ServeConfig(modelName, host, port, key, kv, dtype, blockSize, kvBlocks, kvMemoryBytes, watermark,
                prefixCaching, policy, kvBudget, maxPromptTokens, engine, server, kvStore);
    }

    /** This configuration with other engine limits. */
    public ServeConfig withEngine(EngineLimits limits) {
        return new ServeConfig(modelName, host, port, apiKey, kv, dtype, blockSize, kvBlocks, kvMemoryBytes, watermark,
                prefixCaching, policy, kvBudget, maxPromptTokens, limits, server, kvStore);
    }

    /** This configuration with other HTTP limits. */
    public ServeConfig withServer(ServerLimits limits) {
        return new ServeConfig(modelName, host, port, apiKey, kv, dtype, blockSize, kvBlocks, kvMemoryBytes, watermark,
                prefixCaching, policy, kvBudget, maxPromptTokens, engine, limits, kvStore);
    }

    /** This configuration with a prefix tier in Redis at {@code url} (null: none). */
    public ServeConfig withKvStore(String url) {
        return new ServeConfig(modelName, host, port, apiKey, kv, dtype, blockSize, kvBlocks, kvMemoryBytes, watermark,
                prefixCaching, policy, kvBudget, maxPromptTokens, engine, server, url);
    }
}
