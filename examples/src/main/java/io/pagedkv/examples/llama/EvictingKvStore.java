package io.pagedkv.examples.llama;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.AttentionReducer;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.SequenceEvictor;
import java.util.Locale;

/**
 * Keys and values in pagedkv with an eviction policy really dropping tokens: an {@link
 * EvictingSequence} driven by a {@link SequenceEvictor}, attended with {@link PagedAttention} over
 * its slots. Keys stay rotated at their original positions ({@link #length()} counts every token
 * ever appended, so the decoder rotates the next token at its stream position). The policy sees
 * each new token (and its keys if it {@link EvictionPolicy#usesKeys() uses them}); after a decode
 * step the attention weights of all layers and query heads, reduced by SUM per slot, go to the
 * policy when it {@link EvictionPolicy#usesAttention() uses them}. Eviction runs at the start of
 * the next {@link #append()}: victims become holes, more than one hole is compacted away, and the
 * new token takes the remaining hole, so attention never sees a hole.
 *
 * <p>Invariant: the sequence never holds more than {@code budget + quantum} slots, so the pool of
 * {@code blocksFor(budget + quantum) + 1} blocks never runs out. A prompt chunk must fit in the
 * budget (nothing is evicted while its tokens are appended). Allocates nothing per token. Not
 * thread-safe: one decoding thread owns a store.
 */
public final class EvictingKvStore implements KvStore {

    private final PagedKvCache cache;
    private final EvictingSequence seq;
    private final SequenceEvictor evictor;
    private final EvictionPolicy policy;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final AttentionReducer reducer;
    private final LlamaConfig c;
    private final int capacity;
    private final int[] slotOf;
    private final float[] weights;
    private int length;
    private long evicted;
    private long blocksFreed;
    private int peakTokens;
    private int peakBlocks;

    /**
     * A store for a stream of up to {@code capacity} tokens whose cache {@code policy} keeps to its budget.
     *
     * @throws IllegalArgumentException if the head size does not hold whole groups of {@code dtype},
     *     or {@code capacity <= 0}
     */
    public EvictingKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        CacheLayout layout = new CacheLayout(config.shape("llama2.c"), dtype, blockSize);
        int maxSlots = policy.budget() + policy.quantum();
        this.c = config;
        this.capacity = capacity;
        this.policy = policy;
        this.cache = new PagedKvCache(layout, Math.toIntExact(layout.blocksFor(maxSlots) + 1));
        this.seq = new EvictingSequence(cache.openSequence());
        this.evictor = new SequenceEvictor(seq, policy);
        this.attention = PagedAttention.create(cache);
        this.reducer = new AttentionReducer(config.shape("generate"), AttentionReducer.Granularity.SEQUENCE,
                AttentionReducer.Reduction.SUM, maxSlots + 1);
        this.slotOf = new int[capacity];
        this.weights = new float[config.heads() * (maxSlots + 1)];
        this.table = BlockTableView.of(seq.sequence());
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
        return seq.liveTokens();
    }

    /** Tokens evicted so far. */
    public long evictedTokens() {
        return evicted;
    }

    /** Blocks returned to the pool by eviction so far. */
    public long blocksFreed() {
        return blocksFreed;
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
        int before = seq.sequence().blockCount();
        evicted += evictor.evict();
        if (seq.holes() > 1) {
            evictor.compact();
        }
        blocksFreed += Math.max(0, before - seq.sequence().blockCount());
        slotOf[length] = evictor.append(length);
        length++;
        peakTokens = Math.max(peakTokens, seq.liveTokens());
        peakBlocks = Math.max(peakBlocks, seq.sequence().blockCount());
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        int slot = slotOf[position];
        seq.sequence().write(layer, slot, keys, values);
        if (policy.usesKeys()) {
            int hs = c.headSize();
            for (int h = 0; h < c.kvHeads(); h++) {
                policy.onKey(slot, keys, h * hs, hs);
            }
        }
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        int slots = seq.slots();
        if (!policy.usesAttention()) {
            attention.decode(table, slots, layer, q, 0, out, 0, null);
            return;
        }
        attention.decode(table, slots, layer, q, 0, out, 0, weights);
        if (layer == 0) {
            reducer.begin(slots);
        }
        for (int h = 0; h < c.heads(); h++) {
            reducer.add(layer, h, weights, h * slots);
        }
        if (layer == c.layers() - 1) {
            reducer.finish();
            policy.onAttention(reducer.row(0), slots);
        }
    }

    /**
     * Attends a prompt chunk; valid only while nothing has been evicted (slots equal positions).
     *
     * @throws IllegalStateException if tokens were already evicted
     */
    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        if (evicted > 0 || seq.slots() != length) {
            throw new IllegalStateException("evicted: " + evicted + " (expected: 0 before a prompt chunk)");
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
                l.dtype(), attention.loops(), policy.name(), policy.budget(), length, seq.liveTokens(),
                seq.sequence().blockCount(), l.blockSize(), peakTokens, peakBlocks, peakBlocks * l.bytesPerBlock(),
                evicted, blocksFreed);
    }

    @Override
    public void close() {
        seq.close();
        cache.close();
    }
}
