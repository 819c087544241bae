package io.pagedkv.attention;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Reference CPU attention over a paged KV cache: walks a sequence's block table, one layer at a time.
 *
 * <h2>Algorithm</h2>
 * For each KV head the kernel walks the blocks in table order. In a block it decodes one key vector
 * at a time (any {@link io.pagedkv.dtype.KvDType}, through {@link KvCodecs#of}) into a scratch of
 * {@code headDim} floats, scores it against every query head of the head's group (grouped-query
 * attention: query head {@code qh} reads KV head {@code qh / (queryHeads / kvHeads)}), scaled by
 * {@code 1/sqrt(headDim)}, then folds the block into a running (online) softmax: a running maximum
 * {@code m}, a running sum {@code l} and an unnormalised output {@code acc}; when a block raises
 * the maximum, {@code l} and {@code acc} are rescaled by {@code exp(mOld - mNew)}. Values are then
 * decoded one vector at a time and accumulated. At the end {@code out = acc / l}. Memory does not
 * grow with the context: scratch is sized by the layout only, and nothing is dequantised in bulk.
 *
 * <p>{@link #prefill} attends a chunk of consecutive query tokens with a causal mask (query at
 * position {@code p} sees tokens {@code 0..p}), in tiles of {@value #QUERY_TILE} queries by one
 * block of keys: each key is decoded once per tile, and no tokens x tokens matrix is ever built.
 *
 * <p>{@link #decode} can also hand back the normalised attention weights of every query head (what
 * a heavy-hitter eviction policy consumes): the raw scores are kept in the caller's array during
 * the pass and normalised with the final {@code m} and {@code l} at the end.
 *
 * <h2>Invariants</h2>
 * The output of every query head is a convex combination of the value vectors it attends to; the
 * returned weights of every head sum to 1 (up to rounding); with an F32 cache the result equals
 * {@link ContiguousAttention} up to float rounding. Attention over 0 tokens writes zeros.
 *
 * <h2>Threading</h2>
 * Not thread-safe: an instance owns its scratch. Use one per thread; instances are cheap.
 * Nothing is allocated per call.
 *
 * <h2>Example</h2>
 * <pre>{@code
 * PagedAttention attention = PagedAttention.create(cache.layout());
 * BlockTableView table = i -> cache.block(seq.blockId(i));
 * attention.decode(table, seq.length(), layer, q, 0, out, 0, null);
 * }</pre>
 */
public final class PagedAttention {

    /** Queries attended together by {@link #prefill}: each key is decoded once per tile. */
    public static final int QUERY_TILE = 8;

    private final CacheLayout layout;
    private final KvCodec[] codecs; // (layer * 2 + kv) * kvHeads + head
    private final FloatOps ops;
    private final int queryHeads;
    private final int kvHeads;
    private final int group;
    private final int headDim;
    private final int headBytes;
    private final int blockSize;
    private final int layers;
    private final float scale;
    private final float[] key;
    private final float[] value;
    private final float[] max;
    private final float[] sum;
    private final float[] acc;
    private final float[] scores;

    private PagedAttention(CacheLayout layout, FloatOps ops) {
        this(layout, ops, null);
    }

    private PagedAttention(CacheLayout layout, FloatOps ops, PagedKvCache cache) {
        this.layout = layout;
        int nl = layout.shape().layers();
        int nh = layout.shape().kvHeads();
        KvCodec plain = cache == null ? KvCodecs.of(layout.dtype()) : null;
        this.codecs = new KvCodec[nl * 2 * nh];
        for (int l = 0; l < nl; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < nh; h++) {
                    codecs[(l * 2 + kv) * nh + h] = cache == null ? plain : cache.codec(l, kv, h);
                }
            }
        }
        this.ops = ops;
        this.queryHeads = layout.shape().queryHeads();
        this.kvHeads = layout.shape().kvHeads();
        this.group = layout.shape().queryHeadsPerKvHead();
        this.headDim = layout.shape().headDim();
        this.headBytes = layout.headBytes();
        this.blockSize = layout.blockSize();
        this.layers = layout.shape().layers();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.key = new float[headDim];
        this.value = new float[headDim];
        int rows = QUERY_TILE * group;
        this.max = new float[rows];
        this.sum = new float[rows];
        this.acc = new float[rows * headDim];
        this.scores = new float[rows * blockSize];
    }

    /** A kernel for {@code layout} on the fastest loops available (Vector API when present and the head dim is long enough). */
    public static PagedAttention create(CacheLayout layout) {
        return new PagedAttention(layout, FloatOps.best(layout.shape().headDim()));
    }

    /**
     * A kernel for {@code cache}'s layout that decodes each (layer, K|V, head) with the cache's codec
     * for it, so per-head FP8 scales ({@link io.pagedkv.cache.KvScales}) are honoured.
     */
    public static PagedAttention create(PagedKvCache cache) {
        if (cache == null) {
            throw new IllegalArgumentException("cache: null (expected: a PagedKvCache)");
        }
        return new PagedAttention(cache.layout(), FloatOps.best(cache.layout().shape().headDim()), cache);
    }

    /** A kernel for {@code layout} on plain scalar loops only. */
    public static PagedAttention scalar(CacheLayout layout) {
        return new PagedAttention(layout, FloatOps.SCALAR);
    }

    /** A kernel on the Vector API loops whatever the head dim (when the module is present): for tests. */
    static PagedAttention vectorized(CacheLayout layout) {
        return new PagedAttention(layout, FloatOps.vectorIfPresent());
    }

    /** The layout this kernel reads. */
    public CacheLayout layout() {
        return layout;
    }

    /** Which loops this kernel runs: {@code scalar} or {@code vector(N lanes)}. */
    public String loops() {
        return ops.toString();
    }

    /**
     * Attends one query token (all query heads) over the first {@code tokens} tokens of a sequence.
     *
     * @param table the sequence's blocks
     * @param tokens context length, {@code >= 0}; the table must cover {@code ceil(tokens / blockSize)} blocks
     * @param layer the layer whose keys and values are read
     * @param q {@code queryHeads * headDim} query values from {@code qOff}
     * @param out receives {@code queryHeads * headDim} values from {@code outOff}
     * @param weights null, or receives the normalised weights: {@code weights[qh * tokens + t]}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void decode(BlockTableView table, int tokens, int layer, float[] q, int qOff, float[] out, int outOff,
            float[] weights) {
        checkLayer(layer);
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        checkRange("q", q, qOff, queryHeads * headDim);
        checkRange("out", out, outOff, queryHeads * headDim);
        if (weights != null && weights.length < (long) queryHeads * tokens) {
            throw new IllegalArgumentException("weights: " + weights.length + " floats (expected: >= queryHeads x tokens = "
                    + (long) queryHeads * tokens + ")");
        }
        if (tokens == 0) {
            Arrays.fill(out, outOff, outOff + queryHeads * headDim, 0f);
            return;
        }
        attend(table, layer, tokens - 1, 1, q, qOff, out, outOff, weights, tokens);
    }

    /**
     * Attends {@code count} consecutive query tokens at positions {@code start .. start+count-1} with
     * a causal mask: the query at position {@code p} sees tokens {@code 0..p}. The cache must already
     * hold the keys and values of all {@code start + count} tokens.
     *
     * @param q token-major queries: query {@code i}, head {@code h} at {@code qOff + (i * queryHeads + h) * headDim}
     * @param out same layout as {@code q}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void prefill(BlockTableView table, int start, int count, int layer, float[] q, int qOff, float[] out,
            int outOff) {
        checkLayer(layer);
        if (start < 0 || count < 0 || (long) start + count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("start: " + start + ", count: " + count
                    + " (expected: >= 0, start + count <= " + Integer.MAX_VALUE + ")");
        }
        int width = queryHeads * headDim;
        checkRange("q", q, qOff, (long) count * width);
        checkRange("out", out, outOff, (long) count * width);
        for (int i0 = 0; i0 < count; i0 += QUERY_TILE) {
            int n = Math.min(QUERY_TILE, count - i0);
            attend(table, layer, start + i0, n, q, qOff + i0 * width, out, outOff + i0 * width, null, 0);
        }
    }

    /**
     * The core: queries at positions {@code first .. first+nq-1} ({@code nq <= QUERY_TILE}), the query
     * at position p attends tokens {@code 0..p}. Rows of the scratch are {@code (query, group member)}.
     */
    private void attend(BlockTableView table, int layer, int first, int nq, float[] q, int qOff, float[] out,
            int outOff, float[] weights, int weightTokens) {
        int last = first + nq - 1;
        int blocks = last / blockSize + 1;
        int rows = nq * group;
        int width = queryHeads * headDim;
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
            Arrays.fill(sum, 0, rows, 0f);
            Arrays.fill(acc, 0, rows * headDim, 0f);
            long keyRun = layout.unsafeOffset(layer, CacheLayout.K, kvh, 0);
            long valueRun = layout.unsafeOffset(layer, CacheLayout.V, kvh, 0);
            KvCodec keyCodec = codecs[(layer * 2 + CacheLayout.K) * kvHeads + kvh];
            KvCodec valueCodec = codecs[(layer * 2 + CacheLayout.V) * kvHeads + kvh];
            for (int b = 0; b < blocks; b++) {
                MemorySegment block = table.block(b);
                int base = b * blockSize;
                int n = Math.min(blockSize, last + 1 - base);
                for (int slot = 0; slot < n; slot++) {
                    keyCodec.decode(block, keyRun + (long) slot * headBytes, headDim, key, 0);
                    int t = base + slot;
                    for (int i = 0; i < nq; i++) {
                        boolean visible = t <= first + i;
                        int qTok = qOff + i * width;
                        for (int g = 0; g < group; g++) {
                            int row = i * group + g;
                            int qh = kvh * group + g;
                            float s = visible
                                    ? ops.dot(q, qTok + qh * headDim, key, 0, headDim) * scale
                                    : Float.NEGATIVE_INFINITY;
                            scores[row * blockSize + slot] = s;
                            if (weights != null) {
                                weights[qh * weightTokens + t] = s;
                            }
                        }
                    }
                }
                for (int row = 0; row < rows; row++) {
                    int sBase = row * blockSize;
                    float blockMax = Float.NEGATIVE_INFINITY;
                    for (int slot = 0; slot < n; slot++) {
                        blockMax = Math.max(blockMax, scores[sBase + slot]);
                    }
                    if (blockMax == Float.NEGATIVE_INFINITY) {
                        for (int slot = 0; slot < n; slot++) {
                            scores[sBase + slot] = 0f; // all masked: this block adds nothing to the row
                        }
                        continue;
                    }
                    float mNew = Math.max(max[row], blockMax);
                    if (mNew > max[row]) {
                        float correction = (float) Math.exp(max[row] - mNew);
                        sum[row] *= correction;
                        ops.scale(correction, acc, row * headDim, headDim);
                        max[row] = mNew;
                    }
                    float l = sum[row];
                    for (int slot = 0; slot < n; slot++) {
                        float p = (float) Math.exp(scores[sBase + slot] - mNew);
                        scores[sBase + slot] = p;
                        l += p;
                    }
                    sum[row] = l;
                }
                for (int slot = 0; slot < n; slot++) {
                    valueCodec.decode(block, valueRun + (long) slot * headBytes, headDim, value, 0);
                    for (int row = 0; row < rows; row++) {
                        float p = scores[row * blockSize + slot];
                        if (p != 0f) {
                            ops.axpy(p, value, 0, acc, row * headDim, headDim);
                        }
                    }
                }
            }
            for (int i = 0; i < nq; i++) {
                for (int g = 0; g < group; g++) {
                    int row = i * group + g;
                    int qh = kvh * group + g;
                    float inv = 1f / sum[row];
                    int o = outOff + i * width + qh * headDim;
                    int a = row * headDim;
                    for (int d = 0; d < headDim; d++) {
                        out[o + d] = acc[a + d] * inv;
                    }
                    if (weights != null) {
                        float m = max[row];
                        int w = qh * weightTokens;
                        for (int t = 0; t < weightTokens; t++) {
                            weights[w + t] = (float) Math.exp(weights[w + t] - m) * inv;
                        }
                    }
                }
            }
        }
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + layers + ")");
        }
    }

    private static void checkRange(String what, float[] a, int off, long length) {
        if (a == null) {
            throw new IllegalArgumentException(what + ": null (expected: an array)");
        }
        if (off < 0 || off + length > a.length) {
            throw new IndexOutOfBoundsException(what + ": offset " + off + " + length " + length
                    + " (expected: within the array of " + a.length + ")");
        }
    }
}
