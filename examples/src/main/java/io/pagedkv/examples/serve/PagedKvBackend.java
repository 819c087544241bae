package io.pagedkv.examples.serve;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixKeys;
import io.pagedkv.engine.StepPlan;
import io.pagedkv.engine.StepPlanner;
import io.pagedkv.engine.StepSequence;
import io.pagedkv.examples.llama.KvStore;
import io.pagedkv.micrometer.PagedKvCacheMetrics;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@link KvBackend} on the step API ({@link StepPlanner}): admission is the planner's side-effect-free
 * probe plus open (a request that does not fit leaves the cache exactly as it was: no LRU move, no
 * prefix counter); a reservation schedules the request's chunk in the step being built;
 * {@link #planStep()} hands the workers the plan, through which each request's
 * {@link PlannedKvStore} writes K/V (bulk, per layer, through the slot mapping) and attends (the
 * plan's block table); {@link #completeStep()} offers the written full blocks to the prefix cache;
 * preemption keeps the written prefix cached; release closes.
 *
 * <p>All methods but {@link #usage()}, {@link #describe()} and {@link #close()} run on the engine's
 * scheduler thread, which becomes the planner's owner at its first call.
 */
final class PagedKvBackend implements KvBackend {

    private final PagedKvCache cache;
    private final StepPlanner planner;
    private final int blockSize;
    private final int context;
    private final LongAdder queryTokens = new LongAdder();
    private final LongAdder hitTokens = new LongAdder();
    /** The plan in flight, or null between steps (scheduler thread). */
    private StepPlan plan;

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
        this.planner = new StepPlanner(cache, watermark);
        this.blockSize = layout.blockSize();
        this.context = context;
    }

    @Override
    public KvSequence admit(int[] tokens, int length, boolean othersRunning) {
        StepSequence seq = planner.admit(tokens, length, PrefixKeys.NONE);
        if (seq == null) {
            return null;
        }
        queryTokens.add(length);
        hitTokens.add(seq.cachedTokens());
        // a writer and a kernel per request: each keeps scratch, and the store runs on one worker at a time
        return new Planned(seq, new PlannedKvStore(seq, planner.newWriter(), PagedAttention.create(cache), context));
    }

    @Override
    public boolean reserve(KvSequence s, int[] tokens, int from, int n) {
        return planner.schedule(((Planned) s).seq, tokens, from, n);
    }

    @Override
    public void planStep() {
        plan = planner.plan();
    }

    @Override
    public void completeStep() {
        if (plan != null) {
            planner.complete(plan);
            plan = null;
        }
    }

    @Override
    public void release(KvSequence s) {
        planner.release(((Planned) s).seq);
    }

    @Override
    public void preempt(KvSequence s) {
        planner.preempt(((Planned) s).seq);
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
                        + "watermark %d blocks, prefix caching %s, step API", l.dtype(), cache.pool().blockCount(),
                blockSize, l.bytesPerBlock(), cache.pool().blockCount() * (double) l.bytesPerBlock() / (1 << 20),
                planner.watermark(), cache.prefixStats().enabled() ? "on" : "off");
    }

    /** The cache (tests inspect it). */
    PagedKvCache cache() {
        return cache;
    }

    /** The planner (tests inspect it). */
    StepPlanner planner() {
        return planner;
    }

    @Override
    public void close() {
        cache.close();
    }

    /** An admitted sequence and its decoder view. */
    private record Planned(StepSequence seq, KvStore store) implements KvSequence {
        @Override
        public int cachedTokens() {
            return seq.cachedTokens();
        }
    }
}
