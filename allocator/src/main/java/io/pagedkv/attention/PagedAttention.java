package io.pagedkv.attention;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.KvScales;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvCodec;
import io.pagedkv.dtype.KvCodecs;
import io.pagedkv.dtype.KvDType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * CPU attention over a paged KV cache: walks a sequence's block table, one layer at a time.
 *
 * <h2>Algorithm</h2>
 * The kernel walks the blocks in table order and, in each block, every KV head's run of keys and of
 * values: contiguous in a {@link io.pagedkv.cache.BlockOrder#HEAD_RUNS} layout, one head vector every
 * {@link CacheLayout#slotStrideBytes()} in a {@link io.pagedkv.cache.BlockOrder#TOKEN_RUNS} one (the same
 * loops, stepping by the layout's slot stride). Each run is folded, a tile of slots at a
 * time, into a running (online) softmax per query row: a running maximum {@code m}, a running sum
 * {@code l} and an unnormalised output {@code acc}, rescaled by {@code exp(mOld - mNew)} when a tile
 * raises the maximum. Query head {@code qh} reads KV head {@code qh / (queryHeads / kvHeads)}
 * (grouped-query attention); scores are scaled by {@code 1/sqrt(headDim)}. At the end {@code out =
 * acc / l}. Memory does not grow with the context: scratch is sized by the layout only. The inner
 * loops are an {@code AttentionEngine} shared with {@link SegmentAttention}, the same kernel over one
 * contiguous segment per head, so the two differ only by the block table: the Vector API engine
 * (scores of a whole tile at once, for every head dim, see the package docs) when {@code
 * jdk.incubator.vector} is present, else the scalar reference ({@link #scalar}).
 *
 * <h2>Slots, positions and holes</h2>
 * Without a positions array slot {@code s} holds the token at position {@code s}. With one
 * ({@link #decode(BlockTableView, int, int[], int, float[], int, float[], int, float[])}, {@link
 * #prefill(BlockTableView, int, int[], int, int, int, float[], int, float[], int)}), slot {@code s}
 * holds position {@code positions[s]}, or {@link #HOLE} for a slot whose token was evicted (an
 * {@link io.pagedkv.cache.EvictingSequence}'s {@code positionOf}): a hole gets weight exactly 0, and
 * the causal mask of prefill compares positions, not slot indices. A query that sees no token gets
 * zeros.
 *
 * <p>{@link #decode} can also hand back the normalised attention weights of every query head (what a
 * heavy-hitter eviction policy consumes): raw scores are kept in the caller's array during the pass
 * and normalised with the final {@code m} and {@code l}.
 *
 * <h2>Invariants</h2>
 * The output of every query head is a convex combination of the value vectors it attends to; the
 * returned weights of every head sum to 1 (up to rounding) and are 0 on holes; with an F32 cache the
 * result equals {@link ContiguousAttention} up to float rounding. Attention over 0 tokens writes
 * zeros. A call never reads a slot at or past the table's {@link BlockTableView#length()}; asked to,
 * it throws before reading anything.
 *
 * <h2>FP8 scales</h2>
 * A layout does not know the per-head scales of a cache ({@link KvScales}), so {@link
 * #create(CacheLayout)} refuses FP8 layouts: use {@link #create(PagedKvCache)} (the cache's own
 * codecs) or {@link #create(CacheLayout, KvScales)}.
 *
 * <h2>Threading</h2>
 * Not thread-safe: an instance owns its scratch. Use one per thread; instances are cheap.
 * Nothing is allocated per call.
 *
 * <h2>Example</h2>
 * <pre>{@code
 * PagedAttention attention = PagedAttention.create(cache);
 * BlockTableView table = BlockTableView.of(seq);
 * attention.decode(table, seq.length(), layer, q, 0, out, 0, null);
 * }</pre>
 */
public final class PagedAttention {

    /** Queries attended together by {@link #prefill}: each key is decoded once per tile of queries. */
    public static final int QUERY_TILE = 8;
    /** The position of a slot that holds no token (evicted): it gets weight 0. Equals {@code EvictingSequence.HOLE}. */
    public static final int HOLE = -1;

    private final CacheLayout layout;
    private final KvCodec[] codecs; // (layer * 2 + kv) * kvHeads + head
    private final AttentionEngine engine;
    private final int queryHeads;
    private final int kvHeads;
    private final int headDim;
    private final int headBytes;
    /** Bytes from a head's vector of one slot to the next slot's: the layout's {@link CacheLayout#slotStrideBytes()}. */
    private final long slotStride;
    private final int blockSize;
    private final int layers;
    private final int tile;
    /** Bytes between two early touches of a block ahead: a cache line (a wider stride measured slower). */
    private static final long LINE = 64;
    /** How far ahead the early touches read, in bytes of K/V: 2 to 8 blocks of F32 measured alike. */
    private static final long AHEAD_BYTES = 64 * 1024;
    /**
     * The early touches run only when the call's walk reads at least this many bytes of K/V (the layer's
     * part of every block it walks). They pay when the K/V comes from memory and cost when it sits in cache
     * (1k tokens, 1 MiB: 36 us without, 42 us with; 8k tokens F32, 8 MiB in L3: 1.40x the contiguous kernel
     * with, 1.15x without). From memory: 32k tokens F32, 32 MiB, 3.60 ms without, 2.57 ms with; 32k F16,
     * 16 MiB, 1.22-1.32x the contiguous kernel with, 1.44x without (paired single forks, 2026-12-02). A
     * count of 4 KiB pages instead of bytes, tried in between, also touched Q8_0 at 32k tokens (8.9 MiB, in
     * L3): with its blocks back to back that cost 1.21-1.24x the contiguous kernel against 0.96-1.04x
     * untouched, and with them scattered it gained nothing (1.25x against 1.24-1.29x; paired single forks,
     * 2026-12-02), so the threshold counts bytes again.
     */
    private static final long TOUCH_MIN_BYTES = touchMinBytes();
    /**
     * System property overriding {@link #TOUCH_MIN_BYTES_DEFAULT} (bytes, {@code >= 0}; read once, when the
     * class loads): for measuring the threshold on another machine, e.g. {@code
     * -Dpagedkv.attention.touchMinBytes=8388608}.
     */
    public static final String TOUCH_MIN_BYTES_PROP_NAME = "pagedkv.attention.touchMinBytes";
    /** The default threshold of the early touches: 16 MiB of K/V read by one call's walk. */
    public static final long TOUCH_MIN_BYTES_DEFAULT = 16L << 20;
    /** Blocks between the one computed and the one touched: {@code AHEAD_BYTES} of this layer's K/V, at least 1. */
    private final int ahead;
    /** Sum of the early-touched longs (kept in a field so the loads are not dead code). */
    private long touched;

    /** {@value #TOUCH_MIN_BYTES_PROP_NAME}, or the default. */
    private static long touchMinBytes() {
        String v = System.getProperty(TOUCH_MIN_BYTES_PROP_NAME);
        if (v == null) {
            return TOUCH_MIN_BYTES_DEFAULT;
        }
        long bytes;
        try {
            bytes = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            bytes = -1;
        }
        if (bytes < 0) {
            throw new IllegalArgumentException(TOUCH_MIN_BYTES_PROP_NAME + ": '" + v + "' (expected: a number of bytes >= 0)");
        }
        return bytes;
    }

    private PagedAttention(CacheLayout layout, KvCodec[] codecs, AttentionEngine engine) {
        this.layout = layout;
        this.codecs = codecs;
        this.engine = engine;
        this.queryHeads = layout.shape().queryHeads();
        this.kvHeads = layout.shape().kvHeads();
        this.headDim = layout.shape().headDim();
        this.headBytes = layout.headBytes();
        this.blockSize = layout.blockSize();
        this.layers = layout.shape().layers();
        this.tile = engine.tileSlots();
        this.slotStride = layout.slotStrideBytes();
        this.ahead = (int) Math.max(1, AHEAD_BYTES / (2L * layout.partBytes()));
    }

    /**
     * A kernel for {@code layout} on the fastest loops available (Vector API when present).
     *
     * @throws IllegalArgumentException if {@code layout} is null, or its dtype is FP8: a layout cannot
     *     carry the per-head scales a cache may use, so use {@link #create(PagedKvCache)} or {@link
     *     #create(CacheLayout, KvScales)}
     */
    public static PagedAttention create(CacheLayout layout) {
        return new PagedAttention(requireUnscaled(layout), plainCodecs(layout), best(layout));
    }

    /**
     * A kernel for {@code layout} whose (layer, K|V, head) is decoded with {@code scales}' scale, as a
     * {@code new PagedKvCache(layout, blocks, scales)} stores it.
     *
     * @throws IllegalArgumentException if an argument is null, the scales' shape differs from the
     *     layout's, or a scale is not 1 for a dtype other than FP8
     */
    public static PagedAttention create(CacheLayout layout, KvScales scales) {
        return new PagedAttention(layout, scaledCodecs(layout, scales), best(requireLayout(layout)));
    }

    /**
     * A kernel for {@code cache}'s layout that decodes each (layer, K|V, head) with the cache's codec
     * for it, so per-head FP8 scales ({@link KvScales}) are honoured.
     *
     * @throws IllegalArgumentException if {@code cache} is null
     */
    public static PagedAttention create(PagedKvCache cache) {
        CacheLayout layout = requireCache(cache).layout();
        return new PagedAttention(layout, cacheCodecs(cache), best(layout));
    }

    /** The scalar reference kernel for {@code layout}; same checks as {@link #create(CacheLayout)}. */
    public static PagedAttention scalar(CacheLayout layout) {
        return new PagedAttention(requireUnscaled(layout), plainCodecs(layout), scalarEngine(layout));
    }

    /** The scalar reference kernel for {@code cache}; same checks as {@link #create(PagedKvCache)}. */
    public static PagedAttention scalar(PagedKvCache cache) {
        CacheLayout layout = requireCache(cache).layout();
        return new PagedAttention(layout, cacheCodecs(cache), scalarEngine(layout));
    }

    /** The scalar reference with explicit scales (tests). */
    static PagedAttention scalar(CacheLayout layout, KvScales scales) {
        return new PagedAttention(layout, scaledCodecs(layout, scales), scalarEngine(layout));
    }

    /** The Vector API kernel whenever the module is present, whatever the property says (tests). */
    static PagedAttention vectorized(CacheLayout layout) {
        return new PagedAttention(requireUnscaled(layout), plainCodecs(layout), vectorEngine(layout));
    }

    /** The Vector API kernel with explicit scales (tests). */
    static PagedAttention vectorized(CacheLayout layout, KvScales scales) {
        return new PagedAttention(layout, scaledCodecs(layout, scales), vectorEngine(layout));
    }

    /** The engines step over one head's slots by the layout's slot stride, whatever its block order. */
    private static AttentionEngine best(CacheLayout layout) {
        return Engines.best(layout.shape(), layout.dtype(), layout.slotStrideBytes());
    }

    private static AttentionEngine scalarEngine(CacheLayout layout) {
        return new ScalarAttentionEngine(layout.shape(), layout.slotStrideBytes());
    }

    private static AttentionEngine vectorEngine(CacheLayout layout) {
        return Engines.vectorIfPresent(layout.shape(), layout.dtype(), layout.slotStrideBytes());
    }

    private static CacheLayout requireLayout(CacheLayout layout) {
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: a CacheLayout)");
        }
        return layout;
    }

    private static PagedKvCache requireCache(PagedKvCache cache) {
        if (cache == null) {
            throw new IllegalArgumentException("cache: null (expected: a PagedKvCache)");
        }
        return cache;
    }

    private static CacheLayout requireUnscaled(CacheLayout layout) {
        KvDType dtype = requireLayout(layout).dtype();
        if (dtype == KvDType.FP8_E4M3 || dtype == KvDType.FP8_E5M2) {
            throw new IllegalArgumentException("layout dtype: " + dtype.label() + " (expected: not FP8; an FP8 cache may"
                    + " hold per-head scales a layout cannot know: use PagedAttention.create(cache) or create(layout, scales))");
        }
        return layout;
    }

    private static KvCodec[] plainCodecs(CacheLayout layout) {
        KvCodec[] codecs = new KvCodec[layout.shape().layers() * 2 * layout.shape().kvHeads()];
        Arrays.fill(codecs, KvCodecs.of(layout.dtype()));
        return codecs;
    }

    private static KvCodec[] scaledCodecs(CacheLayout layout, KvScales scales) {
        requireLayout(layout);
        if (scales == null) {
            throw new IllegalArgumentException("scales: null (expected: KvScales of " + layout.shape().layers()
                    + " layers x " + layout.shape().kvHeads() + " kv heads)");
        }
        int nl = layout.shape().layers();
        int nh = layout.shape().kvHeads();
        if (scales.layers() != nl || scales.kvHeads() != nh) {
            throw new IllegalArgumentException("scales: " + scales.layers() + " layers x " + scales.kvHeads()
                    + " kv heads (expected: " + nl + " x " + nh + " as the layout)");
        }
        KvCodec[] codecs = new KvCodec[nl * 2 * nh];
        for (int l = 0; l < nl; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < nh; h++) {
                    codecs[(l * 2 + kv) * nh + h] = KvCodecs.of(layout.dtype(), scales.scale(l, kv, h));
                }
            }
        }
        return codecs;
    }

    private static KvCodec[] cacheCodecs(PagedKvCache cache) {
        CacheLayout layout = cache.layout();
        int nl = layout.shape().layers();
        int nh = layout.shape().kvHeads();
        KvCodec[] codecs = new KvCodec[nl * 2 * nh];
        for (int l = 0; l < nl; l++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int h = 0; h < nh; h++) {
                    codecs[(l * 2 + kv) * nh + h] = cache.codec(l, kv, h);
                }
            }
        }
        return codecs;
    }

    /** The layout this kernel reads. */
    public CacheLayout layout() {
        return layout;
    }

    /** Which loops this kernel runs: {@code scalar} or {@code vector(N lanes)}. */
    public String loops() {
        return engine.loops();
    }

    /**
     * Attends one query token (all query heads) over the first {@code tokens} slots of a sequence,
     * slot {@code s} holding position {@code s} (no holes).
     *
     * @param table the sequence's blocks; {@code tokens <= table.length()}
     * @param tokens context length, {@code >= 0}
     * @param layer the layer whose keys and values are read
     * @param q {@code queryHeads * headDim} query values from {@code qOff}
     * @param out receives {@code queryHeads * headDim} values from {@code outOff}
     * @param weights null, or receives the normalised weights: {@code weights[qh * tokens + t]}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void decode(BlockTableView table, int tokens, int layer, float[] q, int qOff, float[] out, int outOff,
            float[] weights) {
        decode(table, tokens, null, layer, q, qOff, out, outOff, weights);
    }

    /**
     * Attends one query token (all query heads) over slots {@code 0 .. slots-1}, slot {@code s}
     * holding position {@code positions[s]} or {@link #HOLE}: every slot that is not a hole is
     * attended (the query is the newest token), a hole gets weight 0. With {@code positions == null}
     * this is {@link #decode(BlockTableView, int, int, float[], int, float[], int, float[])}.
     *
     * @param slots slots to read, {@code 0 <= slots <= table.length()}
     * @param positions null, or at least {@code slots} entries, each {@code >= 0} or {@link #HOLE}
     * @param weights null, or receives the normalised weights {@code weights[qh * slots + s]} (0 on holes)
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void decode(BlockTableView table, int slots, int[] positions, int layer, float[] q, int qOff, float[] out,
            int outOff, float[] weights) {
        checkLayer(layer);
        checkSlots(table, slots, positions);
        checkRange("q", q, qOff, (long) queryHeads * headDim);
        checkRange("out", out, outOff, (long) queryHeads * headDim);
        if (weights != null && weights.length < (long) queryHeads * slots) {
            throw new IllegalArgumentException("weights: " + weights.length + " floats (expected: >= queryHeads x tokens = "
                    + (long) queryHeads * slots + ")");
        }
        if (slots == 0) {
            Arrays.fill(out, outOff, outOff + queryHeads * headDim, 0f);
            return;
        }
        int queryPosition = positions == null ? slots - 1 : Integer.MAX_VALUE;
        engine.begin(q, qOff, 1, queryPosition, weights, slots);
        walk(table, slots, positions, layer);
        engine.finish(out, outOff);
    }

    /**
     * Attends one query of a prefill chunk, the token at {@code queryPosition}, over slots {@code 0 ..
     * slots-1} with the chunk's causal mask by position (it sees exactly the slots whose position is
     * {@code >= 0} and {@code <= queryPosition}, as {@link #prefill(BlockTableView, int, int[], int,
     * int, int, float[], int, float[], int) prefill} does), and hands back its normalised weights: what
     * an observation-window policy (SnapKV) needs from the last queries of a prompt. The output equals
     * that query's prefill output up to float rounding; the weights are 0 on holes and on later positions.
     *
     * @param positions at least {@code slots} entries, each {@code >= 0} or {@link #HOLE}
     * @param queryPosition the query's position, {@code >= 0}
     * @param weights null, or receives {@code weights[qh * slots + s]}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void decodeAt(BlockTableView table, int slots, int[] positions, int queryPosition, int layer, float[] q,
            int qOff, float[] out, int outOff, float[] weights) {
        checkLayer(layer);
        if (positions == null || queryPosition < 0 || queryPosition == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("positions, queryPosition: " + (positions == null ? "null" : "given") + ", "
                    + queryPosition + " (expected: positions, and 0 <= queryPosition < " + Integer.MAX_VALUE + ")");
        }
        checkSlots(table, slots, positions);
        checkRange("q", q, qOff, (long) queryHeads * headDim);
        checkRange("out", out, outOff, (long) queryHeads * headDim);
        if (weights != null && weights.length < (long) queryHeads * slots) {
            throw new IllegalArgumentException("weights: " + weights.length + " floats (expected: >= queryHeads x tokens = "
                    + (long) queryHeads * slots + ")");
        }
        if (slots == 0) {
            Arrays.fill(out, outOff, outOff + queryHeads * headDim, 0f);
            return;
        }
        engine.begin(q, qOff, 1, queryPosition, weights, slots);
        walk(table, slots, positions, layer);
        engine.finish(out, outOff);
    }

    /**
     * Attends {@code count} consecutive query tokens at positions {@code start .. start+count-1} with
     * a causal mask: the query at position {@code p} sees slots {@code 0..p} (slot = position). The
     * cache must already hold the keys and values of all {@code start + count} tokens.
     *
     * @param table {@code start + count <= table.length()}
     * @param q token-major queries: query {@code i}, head {@code h} at {@code qOff + (i * queryHeads + h) * headDim}
     * @param out same layout as {@code q}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void prefill(BlockTableView table, int start, int count, int layer, float[] q, int qOff, float[] out,
            int outOff) {
        if (start < 0 || count < 0 || (long) start + count >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("start: " + start + ", count: " + count
                    + " (expected: >= 0, start + count < " + Integer.MAX_VALUE + ")");
        }
        prefill(table, start + count, null, start, count, layer, q, qOff, out, outOff);
    }

    /**
     * Chunked prefill by position: attends {@code count} query tokens at positions {@code firstPosition
     * .. firstPosition+count-1} over slots {@code 0 .. slots-1}, where slot {@code s} holds position
     * {@code positions[s]} or {@link #HOLE}. The query at position {@code p} sees exactly the slots
     * whose position is {@code >= 0} and {@code <= p}, wherever they lie, so prefill stays causal once
     * eviction has made slots differ from positions. The chunk's own keys and values must already be
     * written (in any slots, holes reused or not).
     *
     * @param slots slots to read, {@code 0 <= slots <= table.length()}
     * @param positions null (slot s holds position s), or at least {@code slots} entries, each {@code >= 0} or {@link #HOLE}
     * @param firstPosition position of the first query, {@code >= 0}; {@code firstPosition + count < Integer.MAX_VALUE}
     * @param q token-major queries: query {@code i}, head {@code h} at {@code qOff + (i * queryHeads + h) * headDim}
     * @param out same layout as {@code q}
     * @throws IllegalArgumentException or IndexOutOfBoundsException naming the bad value and its limit
     */
    public void prefill(BlockTableView table, int slots, int[] positions, int firstPosition, int count, int layer,
            float[] q, int qOff, float[] out, int outOff) {
        checkLayer(layer);
        if (firstPosition < 0 || count < 0 || (long) firstPosition + count >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("firstPosition: " + firstPosition + ", count: " + count
                    + " (expected: >= 0, firstPosition + count < " + Integer.MAX_VALUE + ")");
        }
        checkSlots(table, slots, positions);
        int width = queryHeads * headDim;
        checkRange("q", q, qOff, (long) count * width);
        checkRange("out", out, outOff, (long) count * width);
        for (int i0 = 0; i0 < count; i0 += QUERY_TILE) {
            int n = Math.min(QUERY_TILE, count - i0);
            int first = firstPosition + i0;
            int reach = positions == null ? Math.min(slots, first + n) : slots; // slot = position: nothing past the last query
            engine.begin(q, qOff + i0 * width, n, first, null, 0);
            walk(table, reach, positions, layer);
            engine.finish(out, outOff + i0 * width);
        }
    }

    /** Whether a walk over {@code slots} slots touches blocks ahead (package-private: tests check the threshold). */
    boolean touchesAhead(int slots) {
        long blocks = (slots + blockSize - 1) / blockSize;
        return blocks * 2L * layout.partBytes() >= TOUCH_MIN_BYTES;
    }

    /**
     * Feeds slots {@code 0 .. slots-1} to the engine, block by block, every KV head of each block. When the
     * walk reads at least {@link #TOUCH_MIN_BYTES} of K/V, before a block is computed one long of every
     * cache line of the layer's part of the block {@link #ahead} blocks further is read: Java has no prefetch instruction, but these independent early loads overlap
     * with the current block's work, so that block is in cache when its turn comes. Without them the paged
     * kernel took 1.6x the contiguous one from memory (32k tokens, F32) even with its blocks back to back:
     * the contiguous kernel streams a head's keys and values as two long runs the hardware prefetcher
     * follows far ahead, the paged one restarts at every block (measured: 3.57 ms without, 2.47-2.66 ms
     * touching 1 to 8 blocks ahead, 4.5 ms touching every other line only).
     */
    private void walk(BlockTableView table, int slots, int[] positions, int layer) {
        int blocks = (slots + blockSize - 1) / blockSize;
        long bytesPerBlock = layout.bytesPerBlock();
        boolean touch = touchesAhead(slots);
        long layerStart = layout.unsafeOffset(layer, CacheLayout.K, 0, 0);
        long layerEnd = layerStart + 2L * layout.partBytes();
        for (int b = 0; b < blocks; b++) {
            MemorySegment block = checkedBlock(table, b, bytesPerBlock);
            if (touch && b + ahead < blocks) {
                MemorySegment later = checkedBlock(table, b + ahead, bytesPerBlock);
                long t = 0;
                for (long off = layerStart; off < layerEnd; off += LINE) {
                    t += later.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
                }
                touched += t;
            }
            int base = b * blockSize;
            int inBlock = Math.min(blockSize, slots - base);
            // In memory order: every head's keys of the tile, then every head's values (a layer's part of a
            // block is K of head 0..n-1, then V of head 0..n-1): the prefetcher sees one forward stream. In
            // TOKEN_RUNS a tile's keys of all heads are one run, each head read slotStride apart.
            for (int t0 = 0; t0 < inBlock; t0 += tile) {
                long off = t0 * slotStride;
                int n = Math.min(tile, inBlock - t0);
                for (int kvh = 0; kvh < kvHeads; kvh++) {
                    engine.keys(kvh, codecs[(layer * 2 + CacheLayout.K) * kvHeads + kvh], block,
                            layout.unsafeOffset(layer, CacheLayout.K, kvh, 0) + off, base + t0, n, positions);
                }
                for (int kvh = 0; kvh < kvHeads; kvh++) {
                    engine.values(kvh, codecs[(layer * 2 + CacheLayout.V) * kvHeads + kvh], block,
                            layout.unsafeOffset(layer, CacheLayout.V, kvh, 0) + off, n);
                }
            }
        }
    }

    private static MemorySegment checkedBlock(BlockTableView table, int b, long bytesPerBlock) {
        MemorySegment block = table.block(b);
        if (block == null || block.byteSize() < bytesPerBlock) {
            throw new IllegalStateException("block " + b + " of the table: " + (block == null ? "null" : block.byteSize()
                    + " bytes") + " (expected: a block of " + bytesPerBlock + " bytes)");
        }
        return block;
    }

    private void checkSlots(BlockTableView table, int slots, int[] positions) {
        if (table == null) {
            throw new IllegalArgumentException("table: null (expected: a BlockTableView)");
        }
        if (slots < 0) {
            throw new IllegalArgumentException("tokens: " + slots + " (expected: >= 0)");
        }
        int length = table.length();
        if (slots > length) {
            throw new IllegalArgumentException("tokens: " + slots + " (expected: <= the block table's length " + length + ")");
        }
        if (positions != null) {
            if (positions.length < slots) {
                throw new IllegalArgumentException("positions: " + positions.length + " entries (expected: >= slots "
                        + slots + ")");
            }
            for (int s = 0; s < slots; s++) {
                if (positions[s] < HOLE) {
                    throw new IllegalArgumentException("positions[" + s + "]: " + positions[s]
                            + " (expected: >= 0, or HOLE = " + HOLE + ")");
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
