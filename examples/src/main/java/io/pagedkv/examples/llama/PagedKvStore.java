package io.pagedkv.examples.llama;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.BlockOrder;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;

/**
 * Keys and values in pagedkv: one {@link Sequence} of a {@link PagedKvCache} whose pool holds the
 * whole context, written through the layout's codec (any {@link KvDType}) and attended with
 * {@link PagedAttention} walking the sequence's block table. Blocks are taken from the pool only as
 * the sequence grows. Not thread-safe: one decoding thread owns a store.
 */
public final class PagedKvStore implements KvStore {

    private final PagedKvCache cache;
    private final Sequence sequence;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final int capacity;

    /**
     * A store for up to {@code capacity} tokens of a model shaped like {@code config}.
     *
     * @throws IllegalArgumentException if the head size does not hold whole groups of {@code dtype}
     */
    public PagedKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity) {
        this(config, dtype, blockSize, capacity, BlockOrder.HEAD_RUNS);
    }

    /**
     * A store whose blocks are in {@code order} ({@link BlockOrder#TOKEN_RUNS}: one token's heads
     * contiguous), read by the same attention kernel.
     *
     * @throws IllegalArgumentException if the head size does not hold whole groups of {@code dtype}, or
     *     {@code order} is null
     */
    public PagedKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, BlockOrder order) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        CacheLayout layout = new CacheLayout(config.shape("llama2.c"), dtype, blockSize, order);
        this.capacity = capacity;
        this.cache = new PagedKvCache(layout, Math.toIntExact(layout.blocksFor(capacity)));
        this.sequence = cache.openSequence();
        this.attention = PagedAttention.create(cache);
        this.table = BlockTableView.of(sequence);
    }

    /** The cache this store writes into. */
    public PagedKvCache cache() {
        return cache;
    }

    @Override
    public int length() {
        return sequence.length();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public void append() {
        if (sequence.length() >= capacity) {
            throw new IllegalStateException("length: " + sequence.length() + " (expected: < capacity " + capacity + ")");
        }
        sequence.append(1);
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        sequence.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        attention.decode(table, sequence.length(), layer, q, 0, out, 0, null);
    }

    /** Attends like {@link #attend} and also writes the normalised weights, {@code weights[head * length + t]}. */
    public void attend(int layer, float[] q, float[] out, float[] weights) {
        attention.decode(table, sequence.length(), layer, q, 0, out, 0, weights);
    }

    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        attention.prefill(table, start, count, layer, q, 0, out, 0);
    }

    @Override
    public String statistics() {
        CacheStats s = cache.stats();
        CacheLayout l = cache.layout();
        return String.format(java.util.Locale.ROOT,
                "paged %s cache (%s loops): %d tokens in %d blocks of %d tokens (%d of %d blocks used), %d bytes used"
                        + " (%d B/token), internal fragmentation %.1f%%, no evictions (no --policy)",
                l.dtype(), attention.loops(), s.liveTokens(), sequence.blockCount(), l.blockSize(), s.usedBlocks(),
                s.totalBlocks(), s.usedBlocks() * l.bytesPerBlock(), l.bytesPerToken(), 100 * s.internalFragmentation());
    }

    @Override
    public void close() {
        sequence.close();
        cache.close();
    }
}
