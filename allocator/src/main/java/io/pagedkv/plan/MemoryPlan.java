package io.pagedkv.plan;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;

/**
 * The memory budget of serving a model: does {@code concurrency} requests of {@code contextTokens}
 * tokens fit in {@code memoryBytes}, and what is the largest context or concurrency that does.
 *
 * <pre>
 *   kvBytesPerTokenPerLayer = 2 (K and V) * kvHeads * kvDtype.bytesFor(headDim)
 *   cache per request       = kvBytesPerTokenPerLayer * blockSize
 *                             * ( globalLayers  * blocks(context)
 *                               + slidingLayers * min(blocks(context), blocks(slidingWindow) + 1) )
 *   blocks(n)               = ceil(n / blockSize)       (a paged cache allocates whole blocks)
 *   weights                 = ceil(parameters * bitsPerWeight / 8)
 *   total                   = overhead + weights + cache per request * concurrency
 *   fits                    = total &lt;= memory
 * </pre>
 *
 * <p>Prefill needs more for a moment: while a chunk of {@code prefillChunkTokens} prompt tokens is
 * processed, the chunk's activations (about {@value #ACTIVATION_WIDTHS} float32 vectors of width
 * {@code queryHeads * headDim} per token: residual, norm, Q, K, V, attention output and the gated
 * MLP's wider intermediates) and the attention kernel's scratch are live at once. The scratch depends
 * on the {@link AttentionKernel}: with {@link AttentionKernel#FLASH} (the default, what current engines
 * run) it is two float32 softmax statistics per query row, {@code queryHeads * chunk * 2 * 4} bytes;
 * with {@link AttentionKernel#EAGER} it is one layer's score matrix, {@code queryHeads * chunk *
 * context} float32 values. {@link #prefillTransientBytes()} reports that estimate as a separate,
 * visible term; {@link
 * #fits()}, {@link #maxContext()} and {@link #maxConcurrency()} are about the steady state, and
 * {@link #fitsWithPrefill()} adds the transient.
 *
 * <p>All arithmetic is exact in {@code long}; sums that could overflow saturate at {@link
 * Long#MAX_VALUE} (which never fits). Immutable and thread-safe.
 *
 * @param shape the model
 * @param kvDtype storage type of the KV cache; must hold whole groups of a head
 * @param blockSize tokens per cache block
 * @param weights storage format of the weights
 * @param overheadBytes fixed overhead: runtime, CUDA context, buffers
 * @param memoryBytes the memory budget
 * @param contextTokens tokens per request (prompt + output)
 * @param concurrency requests held at once
 * @param prefillChunkTokens prompt tokens processed per prefill step
 * @param attention the prefill attention kernel's memory behaviour
 */
public record MemoryPlan(ModelShape shape, KvDType kvDtype, int blockSize, WeightFormat weights, long overheadBytes,
        long memoryBytes, long contextTokens, long concurrency, long prefillChunkTokens, AttentionKernel attention) {

    /** Result of {@link #maxContext()} and {@link #maxConcurrency()} when there is no upper limit. */
    public static final long UNLIMITED = Long.MAX_VALUE;
    /** Result of {@link #maxContext()} when not even an empty request fits (weights exceed memory). */
    public static final long NONE = -1;
    /** Float32 activation vectors of width {@code queryHeads * headDim} live per prefill token. */
    public static final int ACTIVATION_WIDTHS = 16;
    /** Default tokens per block. */
    public static final int DEFAULT_BLOCK_SIZE = 16;
    /** Default prefill chunk, in tokens (llama.cpp's default micro-batch). */
    public static final long DEFAULT_PREFILL_CHUNK = 512;

    /** Validates every term; the messages name the value and its limit. */
    public MemoryPlan {
        if (shape == null || kvDtype == null || weights == null || attention == null) {
            throw new IllegalArgumentException("shape, kvDtype, weights, attention: " + shape + ", " + kvDtype + ", "
                    + weights + ", " + attention + " (expected: all non-null)");
        }
        if (!kvDtype.supports(shape.headDim())) {
            throw new IllegalArgumentException("kv dtype " + kvDtype + ": head dim " + shape.headDim() + " of "
                    + shape.name() + " is not a multiple of its group size " + kvDtype.groupSize());
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("blockSize: " + blockSize + " (expected: > 0 tokens)");
        }
        if (overheadBytes < 0) {
            throw new IllegalArgumentException("overheadBytes: " + overheadBytes + " (expected: >= 0)");
        }
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("memoryBytes: " + memoryBytes + " (expected: > 0)");
        }
        if (contextTokens < 0 || contextTokens > TokenCount.MAX) {
            throw new IllegalArgumentException("contextTokens: " + contextTokens + " (expected: 0.." + TokenCount.MAX + ")");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: >= 1)");
        }
        if (prefillChunkTokens < 1 || prefillChunkTokens > TokenCount.MAX) {
            throw new IllegalArgumentException("prefillChunkTokens: " + prefillChunkTokens + " (expected: 1.."
                    + TokenCount.MAX + ")");
        }
    }

    /** A plan with a {@link AttentionKernel#FLASH} prefill kernel (what current engines run). */
    public MemoryPlan(ModelShape shape, KvDType kvDtype, int blockSize, WeightFormat weights, long overheadBytes,
            long memoryBytes, long contextTokens, long concurrency, long prefillChunkTokens) {
        this(shape, kvDtype, blockSize, weights, overheadBytes, memoryBytes, contextTokens, concurrency,
                prefillChunkTokens, AttentionKernel.FLASH);
    }

    /** A plan with the default block size, overhead 0, the default prefill chunk and a flash kernel. */
    public static MemoryPlan of(ModelShape shape, KvDType kvDtype, WeightFormat weights, long memoryBytes,
            long contextTokens, long concurrency) {
        return new MemoryPlan(shape, kvDtype, DEFAULT_BLOCK_SIZE, weights, 0, memoryBytes, contextTokens, concurrency,
                DEFAULT_PREFILL_CHUNK);
    }

    /** This plan with another KV dtype. */
    public MemoryPlan withKvDtype(KvDType d) {
        return new MemoryPlan(shape, d, blockSize, weights, overheadBytes, memoryBytes, contextTokens, concurrency,
                prefillChunkTokens, attention);
    }

    /** This plan with another context length. */
    public MemoryPlan withContext(long tokens) {
        return new MemoryPlan(shape, kvDtype, blockSize, weights, overheadBytes, memoryBytes, tokens, concurrency,
                prefillChunkTokens, attention);
    }

    /** This plan with another concurrency. */
    public MemoryPlan withConcurrency(long requests) {
        return new MemoryPlan(shape, kvDtype, blockSize, weights, overheadBytes, memoryBytes, contextTokens, requests,
                prefillChunkTokens, attention);
    }

    /** This plan with another prefill attention kernel. */
    public MemoryPlan withAttention(AttentionKernel kernel) {
        return new MemoryPlan(shape, kvDtype, blockSize, weights, overheadBytes, memoryBytes, contextTokens,
                concurrency, prefillChunkTokens, kernel);
    }

    /** K and V bytes of one token in one layer. */
    public long bytesPerTokenPerLayer() {
        return 2L * shape.kvHeads() * kvDtype.bytesFor(shape.headDim());
    }

    /** K and V bytes of one token across all layers (before any sliding window caps it). */
    public long bytesPerToken() {
        return shape.layers() * bytesPerTokenPerLayer();
    }

    /** Bytes of one cache block: {@code blockSize * bytesPerToken()}. */
    public long bytesPerBlock() {
        return blockSize * bytesPerToken();
    }

    /** Cache bytes of one request of {@link #contextTokens()} tokens. */
    public long cacheBytesPerRequest() {
        return cacheBytesPerRequest(contextTokens);
    }

    /**
     * Cache bytes of one request of {@code tokens} tokens. A sliding layer holds at most
     * {@code ceil(window / blockSize) + 1} blocks: what {@code GroupedKvCache}, which frees a sliding
     * group's blocks outside the window, holds between steps ({@code LayerGroups.maxWindowBlocks}: the
     * block the window's first token sits in is only partly inside it).
     */
    public long cacheBytesPerRequest(long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        long globalBlocks = Math.ceilDiv(tokens, blockSize);
        long slidingBlocks = Math.min(globalBlocks, Math.ceilDiv(shape.slidingWindow(), blockSize) + 1);
        long blockLayers = add(mul(shape.globalLayers(), globalBlocks), mul(shape.slidingLayers(), slidingBlocks));
        return mul(mul(blockLayers, blockSize), bytesPerTokenPerLayer());
    }

    /** Cache bytes of all requests: {@code cacheBytesPerRequest() * concurrency}. */
    public long cacheBytes() {
        return mul(cacheBytesPerRequest(), concurrency);
    }

    /** Bytes of the weights. */
    public long weightsBytes() {
        return weights.bytesFor(shape.parameters());
    }

    /** Steady-state total: overhead + weights + cache of all requests. */
    public long totalBytes() {
        return add(add(overheadBytes, weightsBytes()), cacheBytes());
    }

    /** Whether the steady state fits the memory: {@code totalBytes() <= memoryBytes}. */
    public boolean fits() {
        return totalBytes() <= memoryBytes;
    }

    /** Memory left after the steady state; negative when it does not fit (saturating). */
    public long headroomBytes() {
        long total = totalBytes();
        return total == Long.MAX_VALUE ? Long.MIN_VALUE : memoryBytes - total;
    }

    /**
     * The attention kernel's scratch for one prefill chunk: with {@link AttentionKernel#FLASH} the
     * running maximum and denominator of every query row ({@code queryHeads * chunk * 2} float32);
     * with {@link AttentionKernel#EAGER} one layer's scores over the whole context ({@code queryHeads
     * * chunk * context} float32).
     */
    public long prefillAttentionScratchBytes() {
        long chunk = Math.min(prefillChunkTokens, Math.max(contextTokens, 1));
        long rows = mul(shape.queryHeads(), chunk);
        return switch (attention) {
            case FLASH -> mul(mul(rows, 2), Float.BYTES);
            case EAGER -> mul(mul(rows, Math.max(contextTokens, 1)), Float.BYTES);
        };
    }

    /** Activations of one prefill chunk: {@value #ACTIVATION_WIDTHS} float32 vectors per token. */
    public long prefillActivationBytes() {
        long chunk = Math.min(prefillChunkTokens, Math.max(contextTokens, 1));
        long width = (long) shape.queryHeads() * shape.headDim();
        return mul(mul(chunk, width), (long) ACTIVATION_WIDTHS * Float.BYTES);
    }

    /** The transient extra of prefill: attention scratch plus activations. */
    public long prefillTransientBytes() {
        return add(prefillAttentionScratchBytes(), prefillActivationBytes());
    }

    /** Peak during prefill: {@code totalBytes() + prefillTransientBytes()}. */
    public long peakBytes() {
        return add(totalBytes(), prefillTransientBytes());
    }

    /** Whether the prefill peak fits the memory too. */
    public boolean fitsWithPrefill() {
        return peakBytes() <= memoryBytes;
    }

    /**
     * The largest context (tokens per request) at which {@link #concurrency()} requests fit: a plan
     * with it fits and one with a token more does not. {@link #NONE} when the weights and overhead
     * alone exceed the memory; {@link #UNLIMITED} when even {@link TokenCount#MAX} tokens fit (every layer slides, so the
     * cache stops growing, or the memory is vast).
     */
    public long maxContext() {
        if (!withContext(0).fits()) {
            return NONE;
        }
        long lo = 0;
        long hi = TokenCount.MAX;
        if (withContext(hi).fits()) {
            return UNLIMITED;
        }
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (withContext(mid).fits()) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * The largest number of requests of {@link #contextTokens()} tokens that fit: that many fit, one
     * more does not; 0 if not even one does; {@link #UNLIMITED} when a request needs no cache.
     */
    public long maxConcurrency() {
        long free = memoryBytes - add(overheadBytes, weightsBytes());
        if (free < 0) {
            return 0;
        }
        long perRequest = cacheBytesPerRequest();
        return perRequest == 0 ? UNLIMITED : free / perRequest;
    }

    private static long mul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    private static long add(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }
}
