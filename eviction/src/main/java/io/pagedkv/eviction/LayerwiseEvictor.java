package io.pagedkv.eviction;

import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.PoolExhaustedException;

/**
 * One sequence of a model whose layer groups evict independently: one {@link SequenceEvictor} (an
 * {@link EvictingSequence} and its own policy) per layer group, all over one shared pool, so that a
 * token dropped by one group frees that group's memory while the other groups keep it.
 *
 * <p><b>Layout.</b> The cache's {@code CacheLayout} describes <i>one</i> group: its {@code layers} are
 * the layers per group, and every group's pages have the same size (any free page serves any group,
 * vLLM's choice). With {@code layers = 1} every model layer is its own group (per-layer H2O, TOVA,
 * SnapKV, PyramidKV budgets). Model layer {@code m} lives in group {@code m / layersPerGroup()} as
 * that group's layer {@code m % layersPerGroup()}; the policies are fed only their group's keys,
 * values, queries and attention rows, with the group's layer index.
 *
 * <p><b>All or nothing across groups.</b> Every group holds the same positions (a token is placed in
 * every group or in none; groups differ only in which earlier tokens they still keep). Before it
 * changes anything, {@link #tryAppend} computes, per group, the blocks the placement can take after
 * that group's evictions (an upper bound, exact for token-granular policies: {@code blocksFor(slots +
 * max(0, n - holes - pending)) - blocks}, holes being reused first) and refuses the step, with no
 * group changed and no policy asked to evict, when their sum exceeds the pool's available blocks. The
 * sequences are opened fresh by this class and never forked or committed to the prefix cache, so no
 * block is shared and a hole is reused without copy-on-write. The check assumes that nothing else
 * allocates from the pool between the check and the placement (the engine's one scheduler thread); a
 * pool that still refuses (an injected fault) leaves the groups out of step, and this evictor then
 * throws {@link IllegalStateException} on every later call.
 *
 * <pre>{@code
 * CacheLayout perLayer = new CacheLayout(ModelShape.of("m", 1, heads, kvHeads, headDim), F32, 16);
 * try (PagedKvCache pool = new PagedKvCache(perLayer, blocks);
 *         LayerwiseEvictor ev = new LayerwiseEvictor(pool, LayerPolicy.H2O_LAYER.create(64, layers))) {
 *     int pos = ev.append(token);                      // every layer evicts (its own victims), then places
 *     ev.write(layer, pos, k, v);                      // layer's group, by position
 *     ev.attention(layer, head, weights, 0);           // weights over ev.slots(layer) slots
 * }
 * }</pre>
 *
 * <p>Nothing is allocated per token once the groups' victim buffers have grown. Not thread-safe: one
 * engine thread drives a sequence.
 */
public final class LayerwiseEvictor implements AutoCloseable {

    /** What {@link #tryAppend} answers when the pool cannot take the step (nothing changed). */
    public static final int NO_POSITION = EvictingSequence.NO_POSITION;

    private final PagedKvCache cache;
    private final SequenceEvictor[] groups;
    private final EvictionPolicy[] policies;
    private final int layersPerGroup;
    private final int blockSize;
    private final int[] oneId = new int[1];
    private int nextPosition;
    private long lastNeed;
    private boolean outOfStep;

    /**
     * One group per policy, in layer order, over fresh sequences of {@code cache} (owned from now on;
     * the cache is not).
     *
     * @throws IllegalArgumentException if the cache or a policy is null, no policy is given, the same
     *     policy instance appears twice (groups would share state), or as {@link SequenceEvictor}
     */
    public LayerwiseEvictor(PagedKvCache cache, EvictionPolicy... policies) {
        if (cache == null || policies == null || policies.length == 0) {
            throw new IllegalArgumentException("cache, policies: " + cache + ", "
                    + (policies == null ? "null" : policies.length + " policies") + " (expected: a cache and >= 1 policy)");
        }
        for (int i = 0; i < policies.length; i++) {
            if (policies[i] == null) {
                throw new IllegalArgumentException("policies[" + i + "]: null (expected: one fresh policy per group)");
            }
            for (int j = 0; j < i; j++) {
                if (policies[j] == policies[i]) {
                    throw new IllegalArgumentException("policies[" + j + "] and [" + i + "]: the same instance "
                            + policies[i].name() + " (expected: one instance per group; groups decide independently)");
                }
            }
        }
        this.cache = cache;
        this.policies = policies.clone();
        this.layersPerGroup = cache.layout().shape().layers();
        this.blockSize = cache.layout().blockSize();
        this.groups = new SequenceEvictor[policies.length];
        try {
            for (int g = 0; g < groups.length; g++) {
                groups[g] = new SequenceEvictor(cache.openSequence(), this.policies[g]);
            }
        } catch (RuntimeException e) {
            for (SequenceEvictor s : groups) {
                if (s != null) {
                    s.close();
                }
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // placing and evicting

    /**
     * A decode step: every group evicts what its policy picks to make room for one token, then the
     * token with id {@code tokenId} is placed in every group; returns its position.
     *
     * @throws PoolExhaustedException (nothing changed, no group evicted) if the pool cannot take it
     */
    public int append(int tokenId) {
        oneId[0] = tokenId;
        int p = place(oneId, 0, 1, true, true);
        if (p == NO_POSITION) {
            throw exhausted("append", 1);
        }
        return p;
    }

    /** Like {@link #append(int)}, but answers {@link #NO_POSITION} (nothing changed) when the pool is short. */
    public int tryAppend(int tokenId) {
        oneId[0] = tokenId;
        return place(oneId, 0, 1, true, true);
    }

    /** Like {@link #append(int)} for a token without an id. */
    public int appendWithoutId() {
        int p = place(null, 0, 1, true, false);
        if (p == NO_POSITION) {
            throw exhausted("appendWithoutId", 1);
        }
        return p;
    }

    /**
     * A prompt chunk under the budgets: every group evicts once to make room for {@code n} tokens, then
     * the chunk is placed in every group; returns the first position. {@code n <= maxIncoming()}.
     *
     * @throws IllegalArgumentException (nothing changed) if {@code n} is not in {@code 1 .. maxIncoming()}
     * @throws PoolExhaustedException (nothing changed) if the pool cannot take it
     */
    public int appendChunkWithoutIds(int n) {
        int most = maxIncoming();
        if (n <= 0 || n > most) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 <= n <= maxIncoming " + most
                    + ", the smallest of the groups')");
        }
        int p = place(null, 0, n, true, false);
        if (p == NO_POSITION) {
            throw exhausted("appendChunkWithoutIds", n);
        }
        return p;
    }

    /**
     * Places a prompt chunk of {@code n} tokens without ids in every group with no eviction (its causal
     * attention needs all of it); returns the first position. Call {@link #compress()} once its K/V and
     * observations are in.
     *
     * @throws IllegalArgumentException if {@code n <= 0}
     * @throws PoolExhaustedException (nothing changed) if the pool cannot take it
     */
    public int prefillWithoutIds(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n: " + n + " (expected: > 0 tokens)");
        }
        int p = place(null, 0, n, false, false);
        if (p == NO_POSITION) {
            throw exhausted("prefillWithoutIds", n);
        }
        return p;
    }

    private int place(int[] ids, int off, int n, boolean evict, boolean withIds) {
        checkInStep();
        long need = 0;
        for (int g = 0; g < groups.length; g++) {
            int pending = evict ? policies[g].pendingEvictions(n) : 0;
            need += blocksToPlace(groups[g], n, pending);
        }
        if (need > cache.availableBlocks()) {
            lastNeed = need;
            return NO_POSITION;
        }
        int first = nextPosition;
        for (int g = 0; g < groups.length; g++) {
            SequenceEvictor s = groups[g];
            int p;
            try {
                if (evict) {
                    s.makeRoom(n);
                }
                p = withIds ? s.prefill(ids, off, n) : s.prefillWithoutIds(n);
            } catch (PoolExhaustedException e) {
                outOfStep = true;
                throw new IllegalStateException("group " + g + " of " + groups.length + ": the pool refused " + n
                        + " token(s) after the check found " + need + " block(s) enough (expected: no other allocation"
                        + " between check and placement); the groups are out of step", e);
            }
            if (p != first) {
                outOfStep = true;
                throw new IllegalStateException("group " + g + ": position " + p + " (expected: " + first + ")");
            }
        }
        nextPosition = first + n;
        return first;
    }

    /** Blocks group {@code s} can take to place {@code n} tokens after {@code pending} evictions (holes first). */
    private long blocksToPlace(SequenceEvictor s, int n, int pending) {
        long tail = Math.max(0L, (long) n - s.holes() - pending);
        long blocks = (s.slots() + tail + blockSize - 1) / blockSize - s.blockCount();
        return Math.max(0, blocks);
    }

    private PoolExhaustedException exhausted(String what, int n) {
        return new PoolExhaustedException("layerwise " + what + " of " + n + " token(s) over " + groups.length + " groups",
                (int) Math.min(Integer.MAX_VALUE, lastNeed), cache.availableBlocks(), cache.pool().blockCount());
    }

    /**
     * Compresses every group to its budget after a prefill: each evicts what its policy picks, releases
     * the blocks that emptied and tail-fills the rest. Returns the tokens evicted over all groups.
     */
    public int compress() {
        checkInStep();
        int n = 0;
        for (SequenceEvictor s : groups) {
            n += s.compress();
        }
        return n;
    }

    /** The most tokens one {@link #appendChunkWithoutIds} can take now: the smallest of the groups'. */
    public int maxIncoming() {
        int most = Integer.MAX_VALUE;
        for (SequenceEvictor s : groups) {
            most = Math.min(most, s.maxIncoming());
        }
        return most;
    }

    private void checkInStep() {
        if (outOfStep) {
            throw new IllegalStateException("layerwise evictor: the groups are out of step after a refused placement"
                    + " (expected: close it)");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // K/V and observations, per model layer

    /** The group of model layer {@code layer}. */
    public int groupOf(int layer) {
        if (layer < 0 || layer >= layers()) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: 0 <= layer < " + layers() + ")");
        }
        return layer / layersPerGroup;
    }

    private SequenceEvictor at(int layer) {
        return groups[groupOf(layer)];
    }

    /**
     * Writes K and V of all KV heads of the kept token at {@code position} in model {@code layer}, and
     * shows them to that layer's group policy if it uses them.
     *
     * @throws IllegalArgumentException if the layer's group does not keep the position, or as {@link SequenceEvictor#write}
     */
    public void write(int layer, int position, float[] keys, float[] values) {
        at(layer).write(layer % layersPerGroup, position, keys, values);
    }

    /** Decodes the key of KV head {@code head} of the token at {@code position} kept by model {@code layer}'s group. */
    public void readKey(int layer, int head, int position, float[] dst, int off) {
        at(layer).readKey(layer % layersPerGroup, head, position, dst, off);
    }

    /** Decodes the value of KV head {@code head} of the token at {@code position} kept by model {@code layer}'s group. */
    public void readValue(int layer, int head, int position, float[] dst, int off) {
        at(layer).readValue(layer % layersPerGroup, head, position, dst, off);
    }

    /** Shows model {@code layer}'s group policy the step's query of {@code queryHead}. */
    public void query(int layer, int queryHead, float[] q, int off) {
        at(layer).query(layer % layersPerGroup, queryHead, q, off);
    }

    /**
     * Shows model {@code layer}'s group policy the softmax weights of {@code queryHead} over that
     * group's {@link #slots(int)} slots, {@code weights[off + slot]}.
     */
    public void attention(int layer, int queryHead, float[] weights, int off) {
        at(layer).attention(layer % layersPerGroup, queryHead, weights, off);
    }

    /** Whether any group's policy reads attention rows. */
    public boolean usesAttention() {
        for (SequenceEvictor s : groups) {
            if (s.usesAttention()) {
                return true;
            }
        }
        return false;
    }

    /** Whether model {@code layer}'s group policy reads attention rows. */
    public boolean usesAttention(int layer) {
        return at(layer).usesAttention();
    }

    /** Whether model {@code layer}'s group policy reads queries. */
    public boolean usesQueries(int layer) {
        return at(layer).usesQueries();
    }

    // ---------------------------------------------------------------------------------------------
    // read-only state

    /** Layer groups. */
    public int groups() {
        return groups.length;
    }

    /** Model layers per group (the cache layout's layers). */
    public int layersPerGroup() {
        return layersPerGroup;
    }

    /** Model layers: groups x layers per group. */
    public int layers() {
        return groups.length * layersPerGroup;
    }

    /** Slots (kept or holes) of model {@code layer}'s group: the length its attention walks. */
    public int slots(int layer) {
        return at(layer).slots();
    }

    /** The original position of the token in {@code slot} of {@code layer}'s group, or {@link EvictingSequence#HOLE}. */
    public int positionOf(int layer, int slot) {
        return at(layer).positionOf(slot);
    }

    /** The slot of {@code position} in {@code layer}'s group, or {@link EvictingSequence#HOLE} if that group dropped it. */
    public int slotOf(int layer, int position) {
        return at(layer).slotOf(position);
    }

    /** Whether {@code layer}'s group still keeps the token at {@code position}. */
    public boolean isKept(int layer, int position) {
        return at(layer).slotOf(position) != EvictingSequence.HOLE;
    }

    /** Tokens kept by {@code layer}'s group. */
    public int liveTokens(int layer) {
        return at(layer).liveTokens();
    }

    /** Blocks in {@code layer}'s group's block table. */
    public int blockCount(int layer) {
        return at(layer).blockCount();
    }

    /** The block id at table index {@code index} of {@code layer}'s group. */
    public int blockId(int layer, int index) {
        return at(layer).blockId(index);
    }

    /** Blocks held by all groups together. */
    public int blocksHeld() {
        int n = 0;
        for (SequenceEvictor s : groups) {
            n += s.blockCount();
        }
        return n;
    }

    /** Tokens kept, summed over the groups (each group's copy of a token counted once). */
    public long keptTokens() {
        long n = 0;
        for (SequenceEvictor s : groups) {
            n += s.liveTokens();
        }
        return n;
    }

    /** Tokens placed so far in every group: the position the next token gets. */
    public int nextPosition() {
        return nextPosition;
    }

    /** Group {@code group}'s policy name. */
    public String policyName(int group) {
        return groups[group].policyName();
    }

    /** Group {@code group}'s budget rule. */
    public Budget budget(int group) {
        return groups[group].budget();
    }

    /** Tokens evicted, summed over the groups. */
    public long tokensEvicted() {
        long n = 0;
        for (SequenceEvictor s : groups) {
            n += s.tokensEvicted();
        }
        return n;
    }

    /** Blocks given back to the pool by eviction, summed over the groups. */
    public long blocksFreed() {
        long n = 0;
        for (SequenceEvictor s : groups) {
            n += s.blocksFreed();
        }
        return n;
    }

    /** Slot moves made by compaction, summed over the groups. */
    public long slotMoves() {
        long n = 0;
        for (SequenceEvictor s : groups) {
            n += s.slotMoves();
        }
        return n;
    }

    /** The cache. */
    public PagedKvCache cache() {
        return cache;
    }

    /** Closes every group's sequence (not the cache). */
    @Override
    public void close() {
        for (SequenceEvictor s : groups) {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "LayerwiseEvictor[" + groups.length + " groups of " + layersPerGroup + " layer(s), next position "
                + nextPosition + "]";
    }
}
