package io.pagedkv.examples.serve;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pagedkv.examples.llama.KvStore;
import io.pagedkv.micrometer.PagedKvCacheMetrics;
import io.pagedkv.model.ModelShape;
import java.util.Locale;

/**
 * The baseline {@link KvBackend}: max-length reservation, as servers did before paging. Every
 * admitted request reserves one region of the model's whole context up front, whatever its real
 * length, and keeps it until it finishes; no prefix caching, and a reservation never fails later
 * (so no preemption). The regions are blocks of a {@link PagedKvCache} whose block size is the
 * context, so the K/V format and the attention kernel are exactly the paged server's: the two
 * differ only in how memory is reserved.
 */
final class ContiguousKvBackend implements KvBackend {

    private final PagedKvCache cache;
    private final int context;

    /**
     * {@code regions} regions of {@code context} tokens each.
     *
     * @throws IllegalArgumentException if {@code regions < 1}
     */
    ContiguousKvBackend(ModelShape shape, KvDType dtype, int context, int regions) {
        if (regions < 1) {
            throw new IllegalArgumentException("contiguous regions: " + regions + " (expected: >= 1 region of the whole"
                    + " context, " + context + " tokens)");
        }
        this.cache = new PagedKvCache(new CacheLayout(shape, dtype, context), regions);
        cache.setPrefixCaching(false);
        this.context = context;
    }

    @Override
    public KvSequence admit(int[] tokens, int length, boolean othersRunning) {
        if (cache.availableBlocks() < 1) {
            return null;
        }
        Sequence seq = cache.openSequence();
        seq.append(context); // one whole region: the max-length reservation
        return new Region(seq, new SequenceKvStore(cache, seq, 0, context));
    }

    @Override
    public boolean reserve(KvSequence s, int[] tokens, int from, int n) {
        Region r = (Region) s;
        if (r.store.length() + n > context) {
            throw new IllegalStateException("tokens: " + (r.store.length() + n) + " (expected: <= context " + context + ")");
        }
        return true;
    }


    @Override
    public void release(KvSequence s) {
        ((Region) s).seq.close();
    }

    @Override
    public KvUsage usage() {
        CacheStats s = cache.stats();
        return new KvUsage(s.totalBlocks(), s.freeBlocks(), s.usedBlocks(), s.cachedBlocks(), context,
                cache.layout().bytesPerBlock(), s.openSequences(), 0, 0);
    }

    @Override
    public void bindMetrics(MeterRegistry registry) {
        new PagedKvCacheMetrics(cache, Tags.of("kv", "contiguous")).bindTo(registry);
    }

    @Override
    public String describe() {
        CacheLayout l = cache.layout();
        return String.format(Locale.ROOT, "contiguous %s cache (max-length reservation): %d regions of %d tokens"
                        + " (%d bytes each, %.2f MiB), no prefix caching", l.dtype(), cache.pool().blockCount(), context,
                l.bytesPerBlock(), cache.pool().blockCount() * (double) l.bytesPerBlock() / (1 << 20));
    }

    @Override
    public void close() {
        cache.close();
    }

    /** An admitted request's region and its decoder view. */
    private record Region(Sequence seq, SequenceKvStore store) implements KvSequence {
        @Override
        public int cachedTokens() {
            return 0;
        }
    }
}
