package io.pagedkv.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PrefixCacheStats;
import java.util.function.ToDoubleFunction;

/**
 * Binds a {@link PagedKvCache}'s occupancy and its prefix cache's counters to a Micrometer
 * {@link MeterRegistry}, beside the cache's JFR events.
 *
 * <h2>Meters</h2>
 * Every meter carries the tags given to the constructor (for example {@code cache=llama-8b}).
 * <table>
 *   <caption>meters (Prometheus names in brackets)</caption>
 *   <tr><th>name</th><th>type</th><th>value</th></tr>
 *   <tr><td>{@code pagedkv.blocks} {@code state=free|used|cached}</td><td>gauge</td><td>blocks on the
 *       free list / referenced by a sequence / kept only by the prefix cache
 *       ({@code pagedkv_blocks})</td></tr>
 *   <tr><td>{@code pagedkv.blocks.total}</td><td>gauge</td><td>blocks in the pool</td></tr>
 *   <tr><td>{@code pagedkv.blocks.shared}</td><td>gauge</td><td>blocks with more than one reference</td></tr>
 *   <tr><td>{@code pagedkv.memory.reserved}</td><td>gauge, bytes</td><td>off-heap bytes reserved so far</td></tr>
 *   <tr><td>{@code pagedkv.sequences.open}</td><td>gauge</td><td>sequences opened and not closed</td></tr>
 *   <tr><td>{@code pagedkv.tokens.live}</td><td>gauge</td><td>tokens held by open sequences</td></tr>
 *   <tr><td>{@code pagedkv.slots.empty}</td><td>gauge</td><td>reserved but unused slots</td></tr>
 *   <tr><td>{@code pagedkv.copy.on.write}</td><td>counter</td><td>blocks copied before a write</td></tr>
 *   <tr><td>{@code pagedkv.prefix.queries}, {@code .hits}</td><td>counters</td><td>prompts looked up,
 *       lookups that reused at least one block</td></tr>
 *   <tr><td>{@code pagedkv.prefix.query.tokens}, {@code .hit.tokens}</td><td>counters</td><td>prompt
 *       tokens looked up, served from the cache</td></tr>
 *   <tr><td>{@code pagedkv.prefix.reclaimed}</td><td>counter</td><td>cached blocks reclaimed for
 *       allocations</td></tr>
 *   <tr><td>{@code pagedkv.prefix.blocks.indexed}</td><td>gauge</td><td>blocks in the prefix index</td></tr>
 * </table>
 *
 * <h2>Consistency and cost</h2>
 * Each meter reads one {@link PagedKvCache#stats()} or {@link PagedKvCache#prefixStats()} snapshot
 * when the registry asks for it, so the hot paths of the cache pay nothing; meters read during one
 * scrape may come from slightly different moments under load (each is exact when the cache is
 * quiescent). A closed cache reports its last state rather than failing a scrape: the binding reads
 * nothing after {@link PagedKvCache#isClosed()} turns true and returns the final snapshot.
 *
 * <h2>Threading</h2>
 * Thread-safe: registries may read the meters from any thread.
 *
 * <pre>{@code
 * new PagedKvCacheMetrics(cache, Tags.of("cache", "llama-8b")).bindTo(registry);
 * }</pre>
 */
public final class PagedKvCacheMetrics implements MeterBinder {

    private final PagedKvCache cache;
    private final Iterable<Tag> tags;
    private volatile CacheStats lastStats;
    private volatile PrefixCacheStats lastPrefix;
    private volatile long lastReservedBytes;

    /** A binding of {@code cache} with no extra tags. */
    public PagedKvCacheMetrics(PagedKvCache cache) {
        this(cache, Tags.empty());
    }

    /**
     * A binding of {@code cache} whose meters all carry {@code tags}.
     *
     * @throws IllegalArgumentException if {@code cache} or {@code tags} is null
     */
    public PagedKvCacheMetrics(PagedKvCache cache, Iterable<Tag> tags) {
        if (cache == null) {
            throw new IllegalArgumentException("cache: null (expected: a PagedKvCache)");
        }
        if (tags == null) {
            throw new IllegalArgumentException("tags: null (expected: Tags, possibly empty)");
        }
        this.cache = cache;
        this.tags = Tags.of(tags);
        this.lastStats = cache.stats();
        this.lastPrefix = cache.prefixStats();
        this.lastReservedBytes = cache.pool().reservedBytes();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        blocks(registry, "free", "Blocks on the free list", CacheStats::freeBlocks);
        blocks(registry, "used", "Blocks referenced by at least one open sequence", CacheStats::usedBlocks);
        blocks(registry, "cached", "Blocks kept only by the prefix cache (reclaimable)", CacheStats::cachedBlocks);
        gauge(registry, "pagedkv.blocks.total", "Blocks in the pool", BaseUnits.OBJECTS,
                m -> m.stats().totalBlocks());
        gauge(registry, "pagedkv.blocks.shared", "Blocks with more than one reference (fork or prefix reuse)",
                BaseUnits.OBJECTS, m -> m.stats().sharedBlocks());
        gauge(registry, "pagedkv.memory.reserved", "Off-heap bytes reserved by the pool so far", BaseUnits.BYTES,
                PagedKvCacheMetrics::reservedBytes);
        gauge(registry, "pagedkv.sequences.open", "Sequences opened and not closed", BaseUnits.OBJECTS,
                m -> m.stats().openSequences());
        gauge(registry, "pagedkv.tokens.live", "Tokens held by open sequences", "tokens",
                m -> m.stats().liveTokens());
        gauge(registry, "pagedkv.slots.empty", "Reserved but unused token slots", "tokens",
                m -> m.stats().emptySlots());
        counter(registry, "pagedkv.copy.on.write", "Blocks copied because a sequence wrote into a shared block",
                BaseUnits.OBJECTS, m -> m.stats().copyOnWriteCopies());
        counter(registry, "pagedkv.prefix.queries", "Prompts looked up in the prefix cache", "requests",
                m -> m.prefix().queries());
        counter(registry, "pagedkv.prefix.hits", "Prefix lookups that reused at least one block", "requests",
                m -> m.prefix().hits());
        counter(registry, "pagedkv.prefix.query.tokens", "Prompt tokens looked up in the prefix cache", "tokens",
                m -> m.prefix().queryTokens());
        counter(registry, "pagedkv.prefix.hit.tokens", "Prompt tokens served from cached blocks", "tokens",
                m -> m.prefix().hitTokens());
        counter(registry, "pagedkv.prefix.reclaimed", "Cached blocks reclaimed to satisfy allocations",
                BaseUnits.OBJECTS, m -> m.prefix().reclaimedBlocks());
        gauge(registry, "pagedkv.prefix.blocks.indexed", "Blocks in the prefix index", BaseUnits.OBJECTS,
                m -> m.prefix().indexedBlocks());
    }

    private void blocks(MeterRegistry registry, String state, String description, ToDoubleFunction<CacheStats> f) {
        Gauge.builder("pagedkv.blocks", this, m -> f.applyAsDouble(m.stats()))
                .tags(tags).tag("state", state).description(description).baseUnit(BaseUnits.OBJECTS)
                .strongReference(true).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String description, String unit,
            ToDoubleFunction<PagedKvCacheMetrics> f) {
        Gauge.builder(name, this, f).tags(tags).description(description).baseUnit(unit).strongReference(true)
                .register(registry);
    }

    private void counter(MeterRegistry registry, String name, String description, String unit,
            ToDoubleFunction<PagedKvCacheMetrics> f) {
        FunctionCounter.builder(name, this, f).tags(tags).description(description).baseUnit(unit)
                .register(registry);
    }

    private CacheStats stats() {
        if (!cache.isClosed()) {
            try {
                lastStats = cache.stats();
            } catch (IllegalStateException closedMeanwhile) {
                // the cache closed between the check and the read: keep the last snapshot
            }
        }
        return lastStats;
    }

    private PrefixCacheStats prefix() {
        if (!cache.isClosed()) {
            try {
                lastPrefix = cache.prefixStats();
            } catch (IllegalStateException closedMeanwhile) {
                // the cache closed between the check and the read: keep the last snapshot
            }
        }
        return lastPrefix;
    }

    private double reservedBytes() {
        if (!cache.isClosed()) {
            try {
                lastReservedBytes = cache.pool().reservedBytes();
            } catch (IllegalStateException closedMeanwhile) {
                // the cache closed between the check and the read: keep the last snapshot
            }
        }
        return lastReservedBytes;
    }
}
