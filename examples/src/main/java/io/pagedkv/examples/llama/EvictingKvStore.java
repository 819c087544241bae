package io.pagedkv.examples.llama;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.SequenceEvictor;
import java.util.Locale;

/**
 * Keys and values in pagedkv with an eviction policy really dropping tokens: a {@link
 * SequenceEvictor}, attended with {@link PagedAttention} over its slots. Keys stay rotated at their
 * original positions ({@link #length()} counts every token ever appended, so the decoder rotates the
 * next token at its stream position).
 *
 * <p>Step order, as the library does it: {@link #append()} lets the policy evict first (the victims'
 * slots become holes), then places the new token in a victim's slot; {@link #write} stores its K/V by
 * position and shows its keys and values to the policy when it uses them; after the step the
 * attention weights of every layer and query head go to the policy when it {@link
 * EvictionPolicy#usesAttention() uses them}. So the cache never holds more than the budget, and the
 * pool is sized for exactly {@link #blocksNeeded} blocks. If an eviction batch leaves holes the
 * new token does not fill (a policy with a quantum), the store compacts them away before attention
 * (this kernel has no hole mask).
 *
 * <p>A store owns its cache, or runs over a sequence of a shared cache (an inference server's pool).
 * A prompt chunk must fit in the budget (nothing is evicted while its tokens are appended).
 * Allocates nothing per token. Not thread-safe: one decoding thread owns a store.
 */
public final class EvictingKvStore implements KvStore {

    private final PagedKvCache cache;
    private final boolean ownsCache;
    private final SequenceEvictor ev;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final LlamaConfig c;
    private final int capacity;
    private final int budget;
    private final float[] weights;
    private int length;
    private int peakTokens;
    private int peakBlocks;

    /**
     * A store with its own cache for a stream of up to {@code capacity} tokens whose cache {@code policy}
     * keeps to its budget.
     *
     * @throws IllegalArgumentException if the head size does not hold whole groups of {@code dtype},
     *     or {@code capacity <= 0}
     */
    public EvictingKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy) {
        this(ownCache(config, dtype, blockSize, capacity, policy), null, config, capacity, policy, true);
    }

    /**
     * A store over {@code sequence}, an open and empty sequence of a shared {@code cache} (an
     * inference server's pool). The store never holds more than {@link #blocksNeeded(CacheLayout,
     * EvictionPolicy, int)} blocks of it; {@link #close()} closes the sequence, not the cache.
     *
     * @throws IllegalArgumentException if {@code capacity <= 0} or the sequence is not open and empty
     */
    public EvictingKvStore(PagedKvCache cache, Sequence sequence, LlamaConfig config, int capacity, EvictionPolicy policy) {
        this(cache, sequence, config, capacity, policy, false);
    }

    /**
     * Blocks a store of {@code policy} over a stream of {@code capacity} tokens may hold at most in a
     * cache laid out by {@code layout}: evict-then-place never holds more than the budget, so exactly
     * the blocks of the budget (at its largest context, for a ratio budget).
     */
    public static int blocksNeeded(CacheLayout layout, EvictionPolicy policy, int capacity) {
        return Math.toIntExact(layout.blocksFor(Math.min(capacity, policy.budget().tokensAt(capacity))));
    }

    private static PagedKvCache ownCache(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy) {
        CacheLayout layout = new CacheLayout(config.shape("llama2.c"), dtype, blockSize);
        return new PagedKvCache(layout, Math.max(1, blocksNeeded(layout, policy, capacity)));
    }

    private EvictingKvStore(PagedKvCache cache, Sequence sequence, LlamaConfig config, int capacity, EvictionPolicy policy,
            boolean ownsCache) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        if (sequence != null && (sequence.isClosed() || sequence.length() != 0)) {
            throw new IllegalArgumentException("sequence: " + sequence + " (expected: open and empty)");
        }
        this.budget = policy.budget().tokensAt(capacity);
        this.c = config;
        this.capacity = capacity;
        this.cache = cache;
        this.ownsCache = ownsCache;
        this.ev = new SequenceEvictor(sequence != null ? sequence : cache.openSequence(), policy);
        this.attention = PagedAttention.create(cache);
        this.weights = new float[config.heads() * (budget + 1)];
        PagedKvCache pc = cache;
        SequenceEvictor e = ev;
        this.table = BlockTableView.of(e::slots, i -> pc.block(e.blockId(i)));
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Tokens in the cache now (appended and not evicted). */
    public int liveTokens() {
        return ev.liveTokens();
    }

    /** Tokens evicted so far. */
    public long evictedTokens() {
        return ev.tokensEvicted();
    }

    /** Blocks returned to the pool by eviction so far. */
    public long blocksFreed() {
        return ev.blocksFreed();
    }

    /** Most tokens the cache held at once (live slots, right after an append). */
    public int peakTokens() {
        return peakTokens;
    }

    /** Most blocks the sequence held at once. */
    public int peakBlocks() {
        return peakBlocks;
    }

    @Override
    public void append() {
        if (length >= capacity) {
            throw new IllegalStateException("length: " + length + " (expected: < capacity " + capacity + ")");
        }
        int pos = ev.appendWithoutId();
        if (pos != length) {
            throw new IllegalStateException("position: " + pos + " (expected: " + length + ")");
        }
        if (ev.holes() > 0) {
            ev.compact();
        }
        length++;
        peakTokens = Math.max(peakTokens, ev.liveTokens());
        peakBlocks = Math.max(peakBlocks, ev.blockCount());
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        ev.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        int slots = ev.slots();
        if (ev.usesQueries()) {
            for (int h = 0; h < c.heads(); h++) {
                ev.query(layer, h, q, h * c.headSize());
            }
        }
        if (!ev.usesAttention()) {
            attention.decode(table, slots, layer, q, 0, out, 0, null);
            return;
        }
        attention.decode(table, slots, layer, q, 0, out, 0, weights);
        for (int h = 0; h < c.heads(); h++) {
            ev.attention(layer, h, weights, h * slots);
        }
    }

    /**
     * Attends a prompt chunk; valid only while nothing has been evicted (slots equal positions).
     *
     * @throws IllegalStateException if tokens were already evicted
     */
    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        if (ev.tokensEvicted() > 0 || ev.slots() != length) {
            throw new IllegalStateException("evicted: " + ev.tokensEvicted() + " (expected: 0 before a prompt chunk)");
        }
        attention.prefill(table, start, count, layer, q, 0, out, 0);
    }

    @Override
    public String statistics() {
        CacheLayout l = cache.layout();
        return String.format(Locale.ROOT,
                "paged %s cache (%s loops) with %s eviction, budget %d tokens, keys at original positions: %d tokens"
                        + " seen, %d live in %d blocks of %d tokens, peak %d tokens in %d blocks (%d bytes);"
                        + " evicted %d tokens, freed %d blocks",
                l.dtype(), attention.loops(), ev.policyName(), budget, length, ev.liveTokens(),
                ev.blockCount(), l.blockSize(), peakTokens, peakBlocks, peakBlocks * l.bytesPerBlock(),
                ev.tokensEvicted(), ev.blocksFreed());
    }

    @Override
    public void close() {
        ev.close();
        if (ownsCache) {
            cache.close();
        }
    }
}
