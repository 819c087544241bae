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
import io.pagedkv.tier.BlockStore;
import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.LayoutFingerprint;
import io.pagedkv.tier.PrefixTier;
import io.pagedkv.tier.PrefixTierStats;
import io.pagedkv.tier.TierRestore;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
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
 * <p>With a block store below ({@code pagedkv serve --kv-store redis://...}) the cache sits on a
 * {@link PrefixTier}: the written full blocks of a finished request (write-back) and of a preempted
 * one (swap mode), and any reclaimed prefix block not stored before, are offloaded to the store, and a request whose prompt misses the pool after some block first looks the
 * following blocks up there: {@link #admit} starts the restore and answers "not now"; the engine tries
 * again on its next step, when the restore is polled (never waited on) and, once done, the request is
 * admitted with the restored blocks as prefix hits. A restore that takes longer than
 * {@link #RESTORE_GIVE_UP_NANOS} is cancelled and the request recomputes its prompt.
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

    /** How long a request waits for its prefix from the store before it recomputes it: 2 s. */
    static final long RESTORE_GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(2);
    private final BlockStore tierStore;
    private final BlockTransferQueue tierQueue;
    private final PrefixTier tier;
    private final LongAdder restoredTokens = new LongAdder();
    /** The restore under way for the head of the waiting queue (scheduler thread). */
    private TierRestore pending;
    private int[] pendingTokens;
    private int pendingLength;
    private long pendingSince;

    /**
     * A pool of {@code blocks} blocks shaped by {@code layout} for a model of {@code context} tokens.
     *
     * @param watermark blocks admission keeps free while other sequences run
     * @throws IllegalArgumentException if the pool cannot hold one whole context (a lone request
     *     would never fit) or the watermark is negative
     */
    PagedKvBackend(CacheLayout layout, int blocks, int context, int watermark, boolean prefixCaching) {
        this(layout, blocks, context, watermark, prefixCaching, null, null);
    }

    /**
     * As {@link #PagedKvBackend(CacheLayout, int, int, int, boolean)}, over {@code store} (null: no
     * tier), whose keys carry {@code fingerprint}; the backend closes the store.
     */
    PagedKvBackend(CacheLayout layout, int blocks, int context, int watermark, boolean prefixCaching, BlockStore store,
            LayoutFingerprint fingerprint) {
        if (store != null && !prefixCaching) {
            throw new IllegalArgumentException("kv store: " + store.medium() + " without prefix caching (expected: "
                    + "prefix caching on: the tier holds prefix blocks)");
        }
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
        this.tierStore = store;
        if (store != null) {
            this.tierQueue = BlockTransferQueue.forLayout(store, layout, 64, 256, 2);
            this.tier = PrefixTier.attach(cache, tierQueue, fingerprint, watermark,
                    (int) Math.max(1, layout.blocksFor(context)));
        } else {
            this.tierQueue = null;
            this.tier = null;
        }
    }

    /**
     * Polls (starting if needed) the restore of {@code tokens[0 .. length)}'s prefix from the tier.
     *
     * @return true when the request may be admitted now (no tier, nothing to restore, or restored)
     */
    private boolean restored(int[] tokens, int length) {
        if (pending != null && (pendingTokens != tokens || pendingLength != length)) {
            cancelPending(); // the head of the queue changed (cancelled request)
        }
        if (pending == null) {
            TierRestore r = tier.lookup(tokens, length, PrefixKeys.NONE);
            if (r == null) {
                return true;
            }
            pending = r;
            pendingTokens = tokens;
            pendingLength = length;
            pendingSince = System.nanoTime();
        }
        if (!pending.poll()) {
            if (System.nanoTime() - pendingSince < RESTORE_GIVE_UP_NANOS) {
                return false; // the engine tries again next step
            }
            cancelPending();
            return true;
        }
        restoredTokens.add((long) pending.indexedBlocks() * blockSize);
        pending = null;
        pendingTokens = null;
        return true;
    }

    private void cancelPending() {
        try {
            pending.cancel(); // waits only for a memory copy under way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pending = null;
        pendingTokens = null;
    }

    @Override
    public KvSequence admit(int[] tokens, int length, boolean othersRunning) {
        if (tier != null && !restored(tokens, length)) {
            return null;
        }
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
        if (tier != null) {
            planner.releaseAndOffload(((Planned) s).seq); // write-back: other servers find the prefix at once
        } else {
            planner.release(((Planned) s).seq);
        }
    }

    @Override
    public void preempt(KvSequence s) {
        if (tier != null) {
            planner.preemptAndOffload(((Planned) s).seq); // swap mode: the written blocks go to the store too
        } else {
            planner.preempt(((Planned) s).seq);
        }
    }

    /** The tier's counters, or null without a store. */
    PrefixTierStats tierStats() {
        return tier == null ? null : tier.stats();
    }

    /** Prompt tokens restored from the store and admitted as prefix hits. */
    long restoredTokens() {
        return restoredTokens.sum();
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
                planner.watermark(), cache.prefixStats().enabled() ? "on" : "off")
                + (tier == null ? "" : "; prefix tier " + tierStore + " (offload on reclaim and swap preemption,"
                        + " restore on a prefix miss)");
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
        if (tier != null) {
            if (pending != null) {
                cancelPending();
            }
            tier.close();
            tierQueue.close();
            tierStore.close();
        }
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
