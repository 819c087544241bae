package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.CacheStats;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.model.ModelShape;
import io.pagedkv.tier.BlockTransferQueue;
import io.pagedkv.tier.BlockValueFormat;
import io.pagedkv.tier.HostMemoryStore;
import io.pagedkv.tier.LayoutFingerprint;
import io.pagedkv.tier.PrefixTier;
import io.pagedkv.tier.PrefixTierStats;
import io.pagedkv.tier.TierRestore;
import io.pagedkv.workload.TraceRequest;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * pagedkv's way, on the real {@link PagedKvCache}: memory is a pool of fixed-size blocks, a request
 * is a {@link Sequence} holding {@code ceil(tokens / blockSize)} blocks and takes one more only when
 * its last block is full.
 *
 * <p>The pool holds {@code floor(budget / bytesPerBlock)} blocks of the <em>full-scale</em> layout,
 * so admission, growth, preemption and every byte figure are exactly those of the real model. The
 * blocks' storage uses a <em>scaled</em> layout of the same dtype and block size (1 layer, 1 KV head,
 * head dim 32 or the model's if smaller; see {@link #scale()}), so a 24 GiB budget fits this
 * machine; every token's synthetic K and V are really encoded and written into its block.
 * Admission needs blocks for the prefill plus the first generated token. Allocates nothing per token. Confined to the scheduler thread.
 *
 * <p>With an eviction policy every request gets its own policy instance with a token budget, in the
 * library's step order: before each token is placed the policy picks the tokens to drop (their slots
 * go on the request's free list), then the token is written into a freed slot before the sequence
 * grows, so a request never holds more than {@code budget} slots. H2O reads synthetic attention (see
 * {@link #syntheticAttention}).
 *
 * <p>Without a policy, requests that carry token ids (the agent trace) use the cache's prefix
 * caching: a request opens its sequence with its prompt's ids and reuses the longest chain of cached
 * full blocks, prefills only the rest, and offers its full blocks to the cache after the prefill and
 * whenever decoding fills a block, so the next turn of the session finds its history cached. Blocks
 * no request holds stay cached (and count as free) until an allocation reclaims them. Reserved
 * bytes count blocks held by requests, not cached ones.
 *
 * <p>With a host tier ({@code hostTierBytes > 0}, full-scale bytes, stored at the same scale as the
 * pool in a {@link HostMemoryStore}) the cache sits on a {@link PrefixTier}: a cached block reclaimed
 * from the pool is offloaded to host memory, and a request whose prompt misses the pool after some
 * block looks the following blocks up there and restores them before it is admitted (a bounded wait:
 * host memory answers in microseconds), so they count as prefix hits. The transfer queue is drained
 * before each lookup, which keeps a run deterministic.
 */
public final class PagedStrategy implements KvAllocationStrategy {

    /** Head dim of the scaled storage shape (a whole Q8_0/Q4_0 group). */
    public static final int SCALED_HEAD_DIM = 32;

    private final CacheLayout fullLayout;
    private final CacheLayout storageLayout;
    private final PagedKvCache cache;
    private final long capacityBytes;
    private final int totalBlocks;
    private final float[] keys;
    private final float[] values;
    private final EvictionChoice policy;
    private final int tokenBudget;
    private final HostMemoryStore host;
    private final BlockTransferQueue queue;
    private final PrefixTier tier;
    private final long hostTierBlocks;
    private float[] scores = new float[64];
    private long tokensWritten;
    private long tokensEvicted;

    /** A pool of as many {@code fullLayout} blocks as fit in {@code budgetBytes}, stored at reduced scale. */
    public PagedStrategy(CacheLayout fullLayout, long budgetBytes) {
        this(fullLayout, budgetBytes, EvictionChoice.NONE, 0);
    }

    /**
     * As {@link #PagedStrategy(CacheLayout, long)}, with {@code policy} keeping at most {@code
     * tokenBudget} tokens per request (ignored for {@link EvictionChoice#NONE}).
     */
    public PagedStrategy(CacheLayout fullLayout, long budgetBytes, EvictionChoice policy, int tokenBudget) {
        this(fullLayout, budgetBytes, policy, tokenBudget, 0);
    }

    /**
     * As {@link #PagedStrategy(CacheLayout, long, EvictionChoice, int)}, over a host-memory tier of
     * {@code hostTierBytes} full-scale bytes (0: none; only without a policy).
     */
    public PagedStrategy(CacheLayout fullLayout, long budgetBytes, EvictionChoice policy, int tokenBudget,
            long hostTierBytes) {
        if (hostTierBytes < 0 || (hostTierBytes > 0 && policy != EvictionChoice.NONE)) {
            throw new IllegalArgumentException("hostTierBytes: " + hostTierBytes + " with policy " + policy.label()
                    + " (expected: >= 0, and 0 under an eviction policy: evicted tokens are not prefix blocks)");
        }
        if (policy != EvictionChoice.NONE && tokenBudget < EvictionChoice.MIN_BUDGET) {
            throw new IllegalArgumentException("tokenBudget: " + tokenBudget + " (expected: >= " + EvictionChoice.MIN_BUDGET + ")");
        }
        this.policy = policy;
        this.tokenBudget = tokenBudget;
        long blocks = budgetBytes / fullLayout.bytesPerBlock();
        if (blocks < 1 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("budgetBytes: " + budgetBytes + " holds " + blocks + " blocks of "
                    + fullLayout.bytesPerBlock() + " bytes (expected: 1 .. " + Integer.MAX_VALUE + " blocks)");
        }
        this.fullLayout = fullLayout;
        this.storageLayout = new CacheLayout(ModelShape.of(fullLayout.shape().name() + "-scaled", 1, 1, 1,
                storageHeadDim(fullLayout)), fullLayout.dtype(), fullLayout.blockSize());
        this.capacityBytes = budgetBytes;
        this.totalBlocks = (int) blocks;
        this.cache = new PagedKvCache(storageLayout, totalBlocks);
        this.keys = new float[storageLayout.shape().headDim()];
        this.values = new float[storageLayout.shape().headDim()];
        this.hostTierBlocks = hostTierBytes / fullLayout.bytesPerBlock();
        if (hostTierBytes > 0 && hostTierBlocks < 1) {
            cache.close();
            throw new IllegalArgumentException("hostTierBytes: " + hostTierBytes + " (expected: at least one block of "
                    + fullLayout.bytesPerBlock() + " bytes)");
        }
        if (hostTierBlocks > 0) {
            long slot = (BlockValueFormat.valueBytes(storageLayout.blockSize(), storageLayout.bytesPerBlock()) + 7) & ~7L;
            this.host = HostMemoryStore.forLayout(storageLayout, hostTierBlocks * slot);
            this.queue = BlockTransferQueue.forLayout(host, storageLayout, 4096, 4096, 1);
            this.tier = PrefixTier.attach(cache, queue, LayoutFingerprint.of(storageLayout), 0, Integer.MAX_VALUE);
        } else {
            this.host = null;
            this.queue = null;
            this.tier = null;
        }
    }

    /** Blocks of the full-scale layout the host tier holds (0: no tier). */
    public long hostTierBlocks() {
        return hostTierBlocks;
    }

    /** The host tier's counters, or null without one. */
    public PrefixTierStats tierStats() {
        return tier == null ? null : tier.stats();
    }

    /** Per-request state under an eviction policy. */
    private static final class Evicting {
        final Sequence seq;
        final EvictionPolicy policy;
        final int[] freeSlots;
        final int[] victims;
        int freeCount;

        Evicting(Sequence seq, EvictionPolicy policy, int budget) {
            this.seq = seq;
            this.policy = policy;
            this.freeSlots = new int[budget + 2];
            this.victims = new int[budget + 2];
        }
    }

    /** {@value #SCALED_HEAD_DIM}, or the model's own head dim when smaller (and storable), so the scale is >= 1. */
    private static int storageHeadDim(CacheLayout full) {
        int dim = full.shape().headDim();
        return dim < SCALED_HEAD_DIM && full.dtype().supports(dim) ? dim : SCALED_HEAD_DIM;
    }

    /** The layout whose block size and bytes the figures use. */
    public CacheLayout fullLayout() {
        return fullLayout;
    }

    /** The reduced layout the blocks are physically stored in. */
    public CacheLayout storageLayout() {
        return storageLayout;
    }

    /** Full-scale bytes per physically stored byte (1024 for llama-3.1-8b). */
    public double scale() {
        return (double) fullLayout.bytesPerBlock() / storageLayout.bytesPerBlock();
    }

    /** Blocks in the pool. */
    public long totalBlocks() {
        return totalBlocks;
    }

    /** Tokens whose K and V were encoded and written into the pool. */
    public long tokensWritten() {
        return tokensWritten;
    }

    /** The cache's occupancy now. */
    public CacheStats stats() {
        return cache.stats();
    }

    /** The sequence of an admitted request (for tests that read back what was written). */
    public Sequence sequenceOf(SimRequest request) {
        if (request.allocation instanceof Sequence s) {
            return s;
        }
        if (request.allocation instanceof Evicting e) {
            return e.seq;
        }
        throw new IllegalStateException("request " + request.trace().id() + " (expected: admitted)");
    }

    @Override
    public int liveTokens(SimRequest request) {
        return request.allocation instanceof Evicting e ? e.policy.liveTokens() : request.cachedTokens();
    }

    @Override
    public long liveTokens(java.util.List<SimRequest> running) {
        if (!prefixCaching()) {
            return KvAllocationStrategy.super.liveTokens(running);
        }
        // Shared prefix blocks are full and count once: filled slots of the blocks requests hold.
        CacheStats st = cache.stats();
        return (long) st.usedBlocks() * fullLayout.blockSize() - st.emptySlots();
    }

    @Override
    public long tokensEvicted() {
        return tokensEvicted;
    }

    @Override
    public String name() {
        return tier == null ? "paged" : "paged+host";
    }

    @Override
    public long bytesPerToken() {
        return fullLayout.bytesPerToken();
    }

    @Override
    public long capacityBytes() {
        return capacityBytes;
    }

    @Override
    public long reservedBytes() {
        return (long) cache.stats().usedBlocks() * fullLayout.bytesPerBlock();
    }

    @Override
    public long cachedIdleBytes() {
        return (long) cache.stats().cachedBlocks() * fullLayout.bytesPerBlock();
    }

    /** Whether requests with token ids reuse cached prefixes (on unless an eviction policy runs). */
    public boolean prefixCaching() {
        return policy == EvictionChoice.NONE;
    }

    private int availableBlocks() {
        return cache.availableBlocks();
    }

    @Override
    public long bytesToAdmit(SimRequest request) {
        return fullLayout.blocksFor(slotsToAdmit(request)) * fullLayout.bytesPerBlock();
    }

    /** Slots the prefill and the first generated token can occupy at most. */
    private long slotsToAdmit(SimRequest request) {
        long tokens = request.tokensToPrefill() + 1L;
        return policy == EvictionChoice.NONE ? tokens : Math.min(tokens, tokenBudget);
    }

    @Override
    public boolean refusedByFragmentation(SimRequest request) {
        return false; // any free block serves any request
    }

    @Override
    public int admit(SimRequest request) {
        int prefill = request.tokensToPrefill();
        TraceRequest t = request.trace();
        if (prefixCaching() && t.hasTokenIds()) {
            return admitWithPrefix(request, prefill, t);
        }
        if (cache.blocksNeeded(slotsToAdmit(request)) > availableBlocks()) {
            return NO_ROOM;
        }
        Sequence seq = cache.openSequence();
        if (policy != EvictionChoice.NONE) {
            Evicting e = new Evicting(seq, policy.create(tokenBudget), tokenBudget);
            for (int p = 0; p < prefill; p++) {
                if (!addToken(e, request.trace().id(), p)) {
                    throw new IllegalStateException("prefill of request " + request.trace().id() + " ran out of blocks at token "
                            + p + " (expected: the admission check to cover " + slotsToAdmit(request) + " slots)");
                }
            }
            request.allocation = e;
            return 0;
        }
        seq.append(prefill);
        int id = request.trace().id();
        for (int p = 0; p < prefill; p++) {
            writeToken(seq, id, p);
        }
        request.allocation = seq;
        return 0;
    }

    private int admitWithPrefix(SimRequest request, int prefill, TraceRequest t) {
        int[] prompt = Arrays.copyOf(t.transcript(), prefill);
        if (tier != null) {
            restoreFromHost(prompt);
        }
        Sequence seq = cache.openSequence(prompt);
        int reused = seq.reusedTokens();
        if (seq.blocksToAppend(prefill - reused + 1) > availableBlocks()) {
            seq.close(); // the matched blocks go back to the cache
            return NO_ROOM;
        }
        seq.appendTokens(prompt, reused, prefill - reused);
        for (int p = reused; p < prefill; p++) {
            writeToken(seq, t.id(), p);
        }
        seq.commitPrefix();
        request.allocation = seq;
        return reused;
    }

    /** Restores the blocks after the prompt's pooled prefix from the host tier (bounded wait). */
    private void restoreFromHost(int[] prompt) {
        try {
            if (!queue.awaitIdle(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("host tier: offloads still pending after 10 s: " + queue.stats());
            }
            TierRestore r = tier.lookup(prompt, prompt.length, io.pagedkv.cache.PrefixKeys.NONE);
            if (r != null) {
                r.await(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restoring from the host tier", e);
        }
    }

    @Override
    public boolean append(SimRequest request) {
        if (request.allocation instanceof Evicting e) {
            return addToken(e, request.trace().id(), request.cachedTokens());
        }
        Sequence seq = (Sequence) request.allocation;
        TraceRequest t = request.trace();
        if (prefixCaching() && t.hasTokenIds()) {
            int position = seq.length();
            if (!seq.tryAppendTokens(t.transcript(), position, 1)) {
                return false;
            }
            writeToken(seq, t.id(), position);
            if ((position + 1) % fullLayout.blockSize() == 0) {
                seq.commitPrefix();
            }
            return true;
        }
        if (!seq.tryAppend(1)) {
            return false;
        }
        writeToken(seq, request.trace().id(), seq.length() - 1);
        return true;
    }

    @Override
    public void release(SimRequest request) {
        sequenceOf(request).close();
    }

    @Override
    public void checkDrained() {
        CacheStats s = cache.stats();
        if (s.freeBlocks() + s.cachedBlocks() != totalBlocks || s.openSequences() != 0 || s.usedBlocks() != 0) {
            throw new IllegalStateException("paged: " + s.freeBlocks() + " free + " + s.cachedBlocks() + " cached of "
                    + totalBlocks + " blocks, " + s.usedBlocks() + " used, " + s.openSequences()
                    + " sequences open (expected: every block free or cached, none open)");
        }
    }

    @Override
    public void close() {
        if (tier != null) {
            tier.close();
            queue.close();
            host.close();
        }
        cache.close();
    }

    /** The synthetic key component {@code i} of token {@code position} of request {@code id}. */
    public static float syntheticKey(int id, int position, int i) {
        return ((id * 131 + position * 7 + i) % 199) / 100f - 1f;
    }

    /**
     * The synthetic attention weight of the token at {@code position}: about one token in eight is a
     * heavy hitter (weight 1), the others get 0.05, a fixed pattern so H2O has something to find.
     */
    public static float syntheticAttention(int position) {
        int h = position * 0x9E3779B1;
        return ((h >>> 29) == 0) ? 1f : 0.05f;
    }

    /** Lets the policy make room (evict first), then writes token {@code position} into a freed slot or a new one. */
    private boolean addToken(Evicting e, int id, int position) {
        int n = e.policy.evict(1, e.victims);
        for (int i = 0; i < n; i++) {
            e.freeSlots[e.freeCount++] = e.victims[i];
        }
        tokensEvicted += n;
        int slot;
        if (e.freeCount > 0) {
            slot = e.freeSlots[--e.freeCount];
        } else {
            if (!e.seq.tryAppend(1)) {
                return false;
            }
            slot = e.seq.length() - 1;
        }
        writeToken(e.seq, id, slot);
        e.policy.onAppend(slot, position);
        if (e.policy.usesAttention()) {
            int slots = e.seq.length();
            if (scores.length < slots) {
                scores = new float[Math.max(slots, 2 * scores.length)];
            }
            for (int s = 0; s < slots; s++) {
                int p = e.policy.positionOf(s);
                scores[s] = p < 0 ? 0f : syntheticAttention(p);
            }
            e.policy.onAttention(0, 0, scores, 0, slots);
        }
        return true;
    }

    private void writeToken(Sequence seq, int id, int position) {
        for (int i = 0; i < keys.length; i++) {
            keys[i] = syntheticKey(id, position, i);
            values[i] = -keys[i];
        }
        seq.write(0, position, keys, values);
        tokensWritten++;
    }
}
