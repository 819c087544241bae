package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;
import io.pagedkv.workload.Workload;

/**
 * What one {@code pagedkv simulate} run compares: a model, a KV dtype, a memory budget and a trace.
 *
 * <p>Invariants, checked by the constructor: at least one request; a block size in {@code [1,
 * 1024]}; a context at least the workload's own; a budget that holds one request's full context (so
 * every strategy can serve every request); with a policy, a token budget in {@code [8, maxContext]}.
 * Immutable and thread-safe.
 *
 * @param model the model whose KV cache is simulated
 * @param dtype the KV storage type
 * @param memoryBytes the KV memory budget in bytes
 * @param workload the trace's workload
 * @param requests requests in the trace
 * @param blockSize tokens per block of the paged strategy
 * @param seed the trace's seed
 * @param maxContext the context a contiguous max-length cache reserves per request, in tokens
 * @param policy the eviction policy (applied to the paged strategy)
 * @param kvBudget tokens a request keeps under the policy (ignored for {@code none})
 */
public record SimulationConfig(ModelShape model, KvDType dtype, long memoryBytes, Workload workload, int requests,
        int blockSize, long seed, int maxContext, EvictionChoice policy, int kvBudget) {

    /** Largest accepted block size, in tokens. */
    public static final int MAX_BLOCK_SIZE = 1024;

    /** Validates the invariants above. */
    public SimulationConfig {
        if (requests < 1) {
            throw new IllegalArgumentException("requests: " + requests + " (expected: >= 1)");
        }
        if (blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("block-size: " + blockSize + " (expected: 1 <= tokens <= " + MAX_BLOCK_SIZE + ")");
        }
        if (maxContext < workload.defaultMaxContext()) {
            throw new IllegalArgumentException("max-context: " + maxContext + " (expected: >= "
                    + workload.defaultMaxContext() + ", the context of the " + workload + " trace)");
        }
        if (policy == null) {
            throw new IllegalArgumentException("policy: null (expected: none, window, sinks or h2o)");
        }
        if (policy != EvictionChoice.NONE && (kvBudget < EvictionChoice.MIN_BUDGET || kvBudget > maxContext)) {
            throw new IllegalArgumentException("kv-budget: " + kvBudget + " (expected: " + EvictionChoice.MIN_BUDGET
                    + " <= tokens <= max-context " + maxContext + " with policy " + policy.label() + ")");
        }
        if (memoryBytes < 1) {
            throw new IllegalArgumentException("memory: " + memoryBytes + " bytes (expected: > 0)");
        }
        CacheLayout layout = new CacheLayout(model, dtype, blockSize);
        long perToken = layout.bytesPerToken();
        if (memoryBytes / layout.bytesPerBlock() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("memory: " + memoryBytes + " bytes holds " + memoryBytes / layout.bytesPerBlock()
                    + " blocks (expected: <= " + Integer.MAX_VALUE + " blocks of " + layout.bytesPerBlock() + " bytes)");
        }
        long oneRequest = perToken * maxContext;
        if (memoryBytes < oneRequest) {
            throw new IllegalArgumentException("memory: " + memoryBytes + " bytes holds " + memoryBytes / perToken
                    + " tokens of " + model.name() + " " + dtype + " cache (expected: >= " + oneRequest
                    + " bytes, one request's context of " + maxContext + " tokens at " + perToken + " bytes per token)");
        }
    }

    /** The full-scale cache layout of the model. */
    public CacheLayout layout() {
        return new CacheLayout(model, dtype, blockSize);
    }
}
