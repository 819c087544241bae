package io.pagedkv.examples.serve;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pagedkv.examples.llama.KvStore;
import io.pagedkv.micrometer.PagedKvCacheMetrics;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@link KvBackend} on today's public API of {@link PagedKvCache}: admission opens the sequence
 * with {@link PagedKvCache#openSequence(int[])} (longest cached prefix, shared) and keeps it only if
 * the rest of the prompt and one generated token fit ({@link Sequence#blocksToAppend} against
 * {@link PagedKvCache#availableBlocks()}, minus a watermark of blocks kept for running sequences);
 * a step reserves with {@link Sequence#tryAppendTokens}; a commit calls
 * {@link Sequence#commitPrefix()} when a block filled; release closes the sequence.
 *
 * <p>Known limit of today's API (fixed by the step API of issue 25): an admission that is then
 * refused has already touched the prefix cache's LRU order and query counters; the counters this
 * backend reports count admitted sequences only.
 */
final class PagedKvBackend implements KvBackend {

    private final PagedKvCache cache;
    private final int blockSize;
    private final int context;
    private final int watermark;
    private final LongAdder queryTokens = new LongAdder();
    private final LongAdder hitTokens = new LongAdder();

    /**
     * A pool of {@code blocks} blocks shaped by {@code layout} for a model of {@code context} tokens.
     *
     * @param watermark blocks admission keeps free while other sequences run
     * @throws IllegalArgumentException if the pool cannot hold one whole context (a lone request
     *     would never fit) or the watermark is negative
     */
    PagedKvBackend(CacheLayout layout, int blocks, int context, int watermark, boolean prefixCaching) {
        long perContext = layout.blocksFor(context);
        if (blocks < perContext) {
            throw new IllegalArgumentException("kv blocks: " + blocks + " (expected: >= " + perContext
                    + ", the blocks of one whole context of " + context + " tokens)");
        }
        if (watermark < 0 || watermark >= blocks) {
            throw new IllegalArgumentException("watermark: " + watermark + " blocks (expected: 0 <= watermark < " + blocks + ")");
        }
        this.cache = new PagedKvCache(layout, blocks);
        cache.setPrefixCaching(prefixCaching);
        this.blockSize = layout.blockSize();
        this.context = context;
        this.watermark = watermark;
    }

    @Override
    public KvSequence admit(int[] tokens, int length, boolean othersRunning) {
        Sequence seq = cache.openSequence(Arrays.copyOf(tokens, length));
        int cached = seq.reusedTokens();
        int need = seq.blocksToAppend(length - cached + 1);
        if (need + (othersRunning ? watermark : 0) > cache.availableBlocks()) {
            seq.close();
            return null;
        }
        queryTokens.add(length);
        hitTokens.add(cached);
        return new Paged(seq, new SequenceKvStore(cache, seq, cached, context), cached, cached / blockSize);
    }

    @Override
    public boolean reserve(KvSequence s, int[] tokens, int from, int n) {
        return ((Paged) s).seq.tryAppendTokens(tokens, from, n);
    }

    @Override
    public void commit(KvSequence s) {
        Paged p = (Paged) s;
        int full = p.store.length() / blockSize;
        if (full > p.offeredBlocks) {
            p.seq.commitPrefix();
            p.offeredBlocks = full;
        }
    }

    @Override
    public void release(KvSequence s) {
        ((Paged) s).seq.close();
    }

    @Override
    public KvUsage usage() {
        CacheStats s = cache.stats();
        return new KvUsage(s.totalBlocks(), s.freeBlocks(), s.usedBlocks(), s.cachedBlocks(), blockSize,
                cache.layout().bytesPerBlock(), s.openSequences(), queryTokens.sum(), hitTokens.sum());
    }

    @Override
    public void bindMetrics(MeterRegistry registry) {
        new PagedKvCacheMetrics(cache, Tags.of("kv", "paged")).bindTo(registry);
    }

    @Override
    public String describe() {
        CacheLayout l = cache.layout();
        return String.format(Locale.ROOT, "paged %s cache: %d blocks of %d tokens (%d bytes each, %.2f MiB), "
                        + "watermark %d blocks, prefix caching %s", l.dtype(), cache.pool().blockCount(), blockSize,
                l.bytesPerBlock(), cache.pool().blockCount() * (double) l.bytesPerBlock() / (1 << 20), watermark,
                cache.prefixStats().enabled() ? "on" : "off");
    }

    /** The cache (tests inspect it). */
    PagedKvCache cache() {
        return cache;
    }

    @Override
    public void close() {
        cache.close();
    }

    /** An admitted sequence and its decoder view. */
    private static final class Paged implements KvSequence {
        final Sequence seq;
        final SequenceKvStore store;
        final int cached;
        int offeredBlocks;

        Paged(Sequence seq, SequenceKvStore store, int cached, int offeredBlocks) {
            this.seq = seq;
            this.store = store;
            this.cached = cached;
            this.offeredBlocks = offeredBlocks;
        }

        @Override
        public int cachedTokens() {
            return cached;
        }

        @Override
        public KvStore store() {
            return store;
        }
    }
}
