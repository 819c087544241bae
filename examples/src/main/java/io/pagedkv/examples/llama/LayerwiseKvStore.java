package io.pagedkv.examples.llama;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.LayerwiseEvictor;
import java.util.Locale;

/**
 * Keys and values in pagedkv with one eviction policy per layer, each really freeing its layer's
 * memory: a {@link LayerwiseEvictor} over one pool whose layout holds one layer per page (every layer
 * its own block table), attended layer by layer with {@link PagedAttention} over that layer's slots and
 * positions. Per-layer H2O, TOVA, SnapKV and PyramidKV budgets run through it.
 *
 * <p>The library's step order, per layer: {@link #append(int)} lets every layer's policy evict first,
 * then places the token in every layer (all or nothing); {@link #write} stores a layer's K/V by
 * position; after a decode step each layer's attention weights go to that layer's policy only. A
 * prompt chunk ({@link #attendChunk}) shows each layer's policy the rows of the chunk's last {@code
 * observed} queries, each query attended with the chunk's causal mask by position ({@link
 * PagedAttention#decodeAt}): SnapKV's observation window at prefill. Keys stay at their original
 * positions (a per-layer cache cannot give one token one place in every layer).
 *
 * <p>The pool holds exactly the blocks of every layer's budget. Allocates nothing per token. Not
 * thread-safe: one decoding thread owns a store.
 */
public final class LayerwiseKvStore implements KvStore {

    private final PagedKvCache cache;
    private final LayerwiseEvictor ev;
    private final PagedAttention attention;
    private final BlockTableView[] tables;
    private final LlamaConfig c;
    private final int capacity;
    private final int observed;
    private final int[][] positions;
    private final int[] maskScratch;
    private final float[] weights;
    private final float[] rowOut;
    private final String name;
    private int length;
    private int peakBlocks;
    /** True while {@link #prefillAndCompress} places a prompt whole (no eviction between its chunks). */
    private boolean whole;

    /**
     * A store with its own pool for a stream of up to {@code capacity} tokens, layer {@code l} evicted
     * by {@code policies[l]} (fresh), showing the last {@code observed} queries of a prompt chunk to the
     * policies that read attention. The pool has, per layer, the blocks of its budget, or of {@code
     * wholePrompt} tokens if more (a prompt placed whole by {@link #placeWhole} before {@link
     * #compress()}; 0 when prompts stream through the budget).
     *
     * @throws IllegalArgumentException if the policies are not one per layer, {@code capacity <= 0},
     *     {@code observed < 1}, or the head size does not hold whole groups of {@code dtype}
     */
    public LayerwiseKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy[] policies,
            int observed, int wholePrompt, String name) {
        if (policies == null || policies.length != config.layers()) {
            throw new IllegalArgumentException("policies: " + (policies == null ? "null" : policies.length) + " (expected: one per"
                    + " layer, " + config.layers() + ")");
        }
        if (capacity <= 0 || observed < 1) {
            throw new IllegalArgumentException("capacity, observed: " + capacity + ", " + observed + " (expected: > 0, >= 1)");
        }
        CacheLayout layout = new CacheLayout(io.pagedkv.model.ModelShape.of("llama2.c-layer", 1, config.heads(),
                config.kvHeads(), config.headSize()), dtype, blockSize);
        int blocks = 0;
        int maxSlots = 0;
        for (EvictionPolicy p : policies) {
            int b = Math.toIntExact(layout.blocksFor(Math.min(capacity, Math.max(wholePrompt, p.budget().tokensAt(capacity)))));
            blocks += b;
            maxSlots = Math.max(maxSlots, b * blockSize);
        }
        this.cache = new PagedKvCache(layout, Math.max(1, blocks));
        this.ev = new LayerwiseEvictor(cache, policies);
        this.attention = PagedAttention.create(cache);
        this.c = config;
        this.capacity = capacity;
        this.observed = observed;
        this.name = name;
        this.positions = new int[config.layers()][maxSlots];
        this.maskScratch = new int[maxSlots];
        this.weights = new float[config.heads() * maxSlots];
        this.rowOut = new float[config.dim()];
        this.tables = new BlockTableView[config.layers()];
        LayerwiseEvictor e = ev;
        PagedKvCache pc = cache;
        for (int l = 0; l < tables.length; l++) {
            int layer = l;
            tables[l] = BlockTableView.of(() -> e.slots(layer), i -> pc.block(e.blockId(layer, i)));
        }
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Whether layer {@code layer} still keeps the token at {@code position}. */
    public boolean isKept(int layer, int position) {
        return ev.isKept(layer, position);
    }

    /** Tokens layer {@code layer} keeps now. */
    public int liveTokens(int layer) {
        return ev.liveTokens(layer);
    }

    /** Blocks all layers hold now. */
    public int blocks() {
        return ev.blocksHeld();
    }

    /** Most blocks all layers held at once, checked after every placement. */
    public int peakBlocks() {
        return peakBlocks;
    }

    /** The pool's blocks: exactly those of every layer's budget (or of a prompt placed whole). */
    public int poolBlocks() {
        return cache.pool().blockCount();
    }

    /** Tokens evicted, summed over layers. */
    public long evictedTokens() {
        return ev.tokensEvicted();
    }

    @Override
    public void append() {
        append(1);
    }

    /**
     * Places a decode token or a prompt chunk in every layer, each layer's policy evicting first.
     *
     * @throws IllegalArgumentException if {@code n} is not in {@code 1 .. maxChunk()} (nothing changed)
     * @throws IllegalStateException if the stream would pass the capacity (nothing changed)
     */
    @Override
    public void append(int n) {
        if (whole) {
            placeWhole(n);
            return;
        }
        if (n > capacity - length) {
            throw new IllegalStateException("length: " + length + " + " + n + " (expected: <= capacity " + capacity + ")");
        }
        int first = ev.appendChunkWithoutIds(n);
        if (first != length) {
            throw new IllegalStateException("position: " + first + " (expected: " + length + ")");
        }
        length += n;
        for (int l = 0; l < positions.length; l++) {
            int slots = ev.slots(l);
            int[] p = positions[l];
            for (int s = 0; s < slots; s++) {
                p[s] = ev.positionOf(l, s);
            }
        }
        peakBlocks = Math.max(peakBlocks, ev.blocksHeld());
    }

    /** What one eviction in every layer can make room for now: the smallest layer's. */
    @Override
    public int maxChunk() {
        return whole ? Math.max(1, capacity - length) : ev.maxIncoming();
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        ev.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        int slots = ev.slots(layer);
        if (!ev.usesAttention(layer)) {
            attention.decode(tables[layer], slots, positions[layer], 0, q, 0, out, 0, null);
            return;
        }
        attention.decode(tables[layer], slots, positions[layer], 0, q, 0, out, 0, weights);
        for (int h = 0; h < c.heads(); h++) {
            ev.attention(layer, h, weights, h * slots);
        }
    }

    /**
     * Attends a prompt chunk causally by position, then shows the layer's policy the rows of the
     * chunk's last {@code observed} queries (query by query, each query's heads in turn), each seeing
     * the kept tokens and the chunk up to its own position.
     */
    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        int slots = ev.slots(layer);
        attention.prefill(tables[layer], slots, positions[layer], start, count, 0, q, 0, out, 0);
        if (!ev.usesAttention(layer)) {
            return;
        }
        for (int i = Math.max(0, count - observed); i < count; i++) {
            attention.decodeAt(tables[layer], slots, positions[layer], start + i, 0, q, i * c.dim(), rowOut, 0, weights);
            for (int h = 0; h < c.heads(); h++) {
                ev.attention(layer, h, weights, h * slots);
            }
        }
    }

    /**
     * Compresses every layer to its budget after a prompt placed whole (SnapKV's prefill compression):
     * each layer evicts what its policy picks from the rows it was shown, releases emptied blocks and
     * tail-fills the rest. Returns the tokens evicted.
     */
    public int compress() {
        int n = ev.compress();
        for (int l = 0; l < positions.length; l++) {
            int slots = ev.slots(l);
            for (int s = 0; s < slots; s++) {
                positions[l][s] = ev.positionOf(l, s);
            }
        }
        return n;
    }

    /**
     * SnapKV's prefill: runs {@code tokens[off .. off + n)} through {@code decoder} (this store's) as one
     * prompt placed whole, with no eviction, each layer's policy seeing the rows of the prompt's last
     * {@code observed} queries, then compresses every layer to its budget. The pool must have room for
     * the whole prompt ({@code wholePrompt} at construction).
     *
     * @return the logits after the last prompt token (the decoder's buffer)
     */
    public float[] prefillAndCompress(LlamaDecoder decoder, int[] tokens, int off, int n) {
        if (decoder.store() != this) {
            throw new IllegalArgumentException("decoder: over " + decoder.store() + " (expected: over this store)");
        }
        float[] logits;
        whole = true;
        try {
            logits = decoder.prefill(tokens, off, n);
        } finally {
            whole = false;
        }
        compress();
        return logits;
    }

    /** Places a prompt chunk with no eviction (the prompt goes in whole before {@link #compress()}). */
    private void placeWhole(int n) {
        if (n > capacity - length) {
            throw new IllegalStateException("length: " + length + " + " + n + " (expected: <= capacity " + capacity + ")");
        }
        int first = ev.prefillWithoutIds(n);
        if (first != length) {
            throw new IllegalStateException("position: " + first + " (expected: " + length + ")");
        }
        length += n;
        for (int l = 0; l < positions.length; l++) {
            int slots = ev.slots(l);
            for (int s = 0; s < slots; s++) {
                positions[l][s] = ev.positionOf(l, s);
            }
        }
        peakBlocks = Math.max(peakBlocks, ev.blocksHeld());
    }

    @Override
    public String statistics() {
        StringBuilder kept = new StringBuilder();
        for (int l = 0; l < c.layers(); l++) {
            kept.append(l == 0 ? "" : "/").append(ev.liveTokens(l));
        }
        CacheLayout l = cache.layout();
        return String.format(Locale.ROOT, "paged %s per-layer cache (%s loops) with %s eviction: %d tokens seen, kept per"
                + " layer %s, %d blocks of %d tokens x 1 layer held (pool %d, peak %d, %d bytes); evicted %d tokens",
                l.dtype(), attention.loops(), name, length, kept, ev.blocksHeld(), l.blockSize(), poolBlocks(), peakBlocks,
                (long) peakBlocks * l.bytesPerBlock(), ev.tokensEvicted());
    }

    @Override
    public void close() {
        ev.close();
        cache.close();
    }

    static {
        if (EvictingSequence.HOLE != PagedAttention.HOLE) {
            throw new AssertionError("hole markers differ");
        }
    }
}
