package io.pagedkv.examples.serve;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.examples.llama.EvictingKvStore;
import io.pagedkv.examples.llama.GenerateCommand.PolicyKind;
import io.pagedkv.examples.llama.KvStore;
import io.pagedkv.examples.llama.LlamaConfig;
import io.pagedkv.micrometer.PagedKvCacheMetrics;
import java.util.Locale;

/**
 * {@link KvBackend} of the paged cache with an eviction policy ({@code --policy P --kv-budget N}):
 * every request gets its own policy instance and an {@link EvictingKvStore} over a sequence of the
 * shared pool, exactly as {@code pagedkv generate --policy P --budget N} decodes. Before each new
 * token the policy drops its victims and the token takes a freed slot, so a request never holds
 * more than {@link EvictingKvStore#blocksNeeded} blocks; admission reserves that maximum for every
 * running request, so a reservation never fails and nothing is ever preempted (a preemption would
 * recompute more tokens than the budget holds). No prefix caching: a policy rewrites slots in
 * place, which an indexed shared block must not see. Prompts must fit in the budget (they are
 * prefilled before anything is evicted); the parser refuses longer ones.
 */
final class EvictingKvBackend implements KvBackend {

    private final PagedKvCache cache;
    private final LlamaConfig config;
    private final PolicyKind policy;
    private final int budget;
    private final int perSequence;
    private int open;

    /**
     * A pool of {@code blocks} blocks for requests evicted by {@code policy} down to {@code budget} tokens.
     *
     * @throws IllegalArgumentException if the policy cannot be built for the budget, or the pool
     *     cannot hold one request's maximum
     */
    EvictingKvBackend(CacheLayout layout, int blocks, LlamaConfig config, PolicyKind policy, int budget) {
        EvictionPolicy probe = policy.build(budget);
        this.perSequence = EvictingKvStore.blocksNeeded(layout, probe, config.seqLen());
        if (blocks < perSequence) {
            throw new IllegalArgumentException("kv blocks: " + blocks + " (expected: >= " + perSequence
                    + ", what one request evicted to " + budget + " tokens may hold)");
        }
        this.cache = new PagedKvCache(layout, blocks);
        cache.setPrefixCaching(false);
        this.config = config;
        this.policy = policy;
        this.budget = budget;
    }

    @Override
    public KvSequence admit(int[] tokens, int length, boolean othersRunning) {
        if ((long) (open + 1) * perSequence > cache.pool().blockCount()) {
            return null;
        }
        if (length > budget) {
            throw new IllegalStateException("tokens: " + length + " (expected: <= budget " + budget
                    + "; the parser limits prompts and nothing is preempted)");
        }
        EvictingKvStore store = new EvictingKvStore(cache, cache.openSequence(), config, config.seqLen(),
                policy.build(budget));
        open++;
        return new Evicting(store);
    }

    @Override
    public boolean reserve(KvSequence seq, int[] tokens, int from, int n) {
        return true; // admission reserved the request's lifetime maximum; the store places tokens itself
    }


    @Override
    public void release(KvSequence seq) {
        ((Evicting) seq).store.close();
        open--;
    }

    @Override
    public KvUsage usage() {
        CacheStats s = cache.stats();
        return new KvUsage(s.totalBlocks(), s.freeBlocks(), s.usedBlocks(), s.cachedBlocks(), cache.layout().blockSize(),
                cache.layout().bytesPerBlock(), s.openSequences(), 0, 0);
    }

    @Override
    public void bindMetrics(MeterRegistry registry) {
        new PagedKvCacheMetrics(cache, Tags.of("kv", "paged")).bindTo(registry);
    }

    @Override
    public String describe() {
        CacheLayout l = cache.layout();
        return String.format(Locale.ROOT, "paged %s cache with %s eviction to %d tokens per request: %d blocks of %d tokens"
                        + " (%.2f MiB), %d blocks reserved per running request, no prefix caching, no preemption",
                l.dtype(), policy, budget, cache.pool().blockCount(), l.blockSize(),
                cache.pool().blockCount() * (double) l.bytesPerBlock() / (1 << 20), perSequence);
    }

    @Override
    public void close() {
        cache.close();
    }

    /** The most tokens a prompt may have: it is prefilled before anything is evicted. */
    int maxPromptTokens() {
        return budget;
    }

    /** An admitted request's evicting store. */
    private record Evicting(EvictingKvStore store) implements KvSequence {
        @Override
        public int cachedTokens() {
            return 0;
        }
    }
}
