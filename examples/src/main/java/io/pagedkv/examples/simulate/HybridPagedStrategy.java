package io.pagedkv.examples.simulate;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.GroupedKvCache;
import io.pagedkv.cache.GroupedSequence;
import io.pagedkv.cache.LayerGroups;
import io.pagedkv.model.ModelShape;
import io.pagedkv.workload.TraceRequest;
import java.util.Arrays;
import java.util.List;

/**
 * pagedkv's hybrid layout, on the real {@link GroupedKvCache}: a model whose layers are split into
 * {@link LayerGroups} (Gemma-2: a sliding group and a global group) keeps one block table per group
 * over one shared pool, and a sliding group releases its blocks once they fall entirely outside the
 * window, while {@link PagedStrategy} treats every layer as global.
 *
 * <p>Figures are at full scale: a block of one group holds {@code layersPerGroup} layers, so the pool
 * holds {@code floor(budget / groupBlockBytes)} blocks, and a token held by {@code k} of the
 * {@code G} groups counts {@code k / G} of the model's bytes per token. Storage is scaled as in
 * {@link PagedStrategy}: one layer per group, 1 KV head, head dim 32, every token's K/V really
 * written. Admission needs every group's blocks for the prefill plus the first generated token (the
 * sliding groups release outside the window only after the prefill, as an engine without chunked
 * prefill does). Requests with token ids use prefix caching as {@link PagedStrategy} does, under vLLM's
 * hybrid rule: a hit needs every block below it in the global group, only the window's blocks in a
 * sliding group ({@link GroupedKvCache#openSequence(int[], io.pagedkv.cache.PrefixKeys)}). Confined to
 * the scheduler thread.
 */
public final class HybridPagedStrategy implements KvAllocationStrategy {

    private final CacheLayout fullLayout;
    private final LayerGroups groups;
    private final long groupBlockBytes;
    private final GroupedKvCache cache;
    private final long capacityBytes;
    private final int totalBlocks;
    private final float[] keys;
    private final float[] values;
    private long tokensWritten;

    /**
     * A pool of as many full-scale group blocks as fit in {@code budgetBytes}.
     *
     * @throws IllegalArgumentException if the groups do not fit the layout or not one block fits
     */
    public HybridPagedStrategy(CacheLayout fullLayout, LayerGroups groups, long budgetBytes) {
        this.fullLayout = fullLayout;
        this.groups = groups;
        this.groupBlockBytes = groups.groupLayout(fullLayout).bytesPerBlock();
        long blocks = budgetBytes / groupBlockBytes;
        if (blocks < 1 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("budgetBytes: " + budgetBytes + " holds " + blocks + " blocks of "
                    + groupBlockBytes + " bytes (expected: 1 .. " + Integer.MAX_VALUE + " blocks)");
        }
        int g = groups.groupCount();
        int dim = fullLayout.shape().headDim() < PagedStrategy.SCALED_HEAD_DIM
                && fullLayout.dtype().supports(fullLayout.shape().headDim())
                ? fullLayout.shape().headDim() : PagedStrategy.SCALED_HEAD_DIM;
        CacheLayout storage = new CacheLayout(ModelShape.of(fullLayout.shape().name() + "-scaled", g, 1, 1, dim),
                fullLayout.dtype(), fullLayout.blockSize());
        LayerGroups.Kind[] kinds = new LayerGroups.Kind[g];
        int[] windows = new int[g];
        int[][] layers = new int[g][];
        for (int i = 0; i < g; i++) {
            kinds[i] = groups.kind(i);
            windows[i] = groups.window(i);
            layers[i] = new int[] {i};
        }
        this.cache = new GroupedKvCache(storage, LayerGroups.of(kinds, windows, layers), (int) blocks);
        this.capacityBytes = budgetBytes;
        this.totalBlocks = (int) blocks;
        this.keys = new float[dim];
        this.values = new float[dim];
    }

    /** Blocks in the shared pool (each one group's layers). */
    public long totalBlocks() {
        return totalBlocks;
    }

    /** Full-scale bytes of one group's block. */
    public long groupBlockBytes() {
        return groupBlockBytes;
    }

    /** The layer groups of the simulated model. */
    public LayerGroups groups() {
        return groups;
    }

    /** Tokens whose K and V were written (once per group). */
    public long tokensWritten() {
        return tokensWritten;
    }

    /** The grouped sequence of an admitted request. */
    public GroupedSequence sequenceOf(SimRequest request) {
        if (request.allocation instanceof GroupedSequence s) {
            return s;
        }
        throw new IllegalStateException("request " + request.trace().id() + " (expected: admitted)");
    }

    @Override
    public String name() {
        return "paged-hybrid";
    }

    @Override
    public long capacityBytes() {
        return capacityBytes;
    }

    @Override
    public long bytesPerToken() {
        return fullLayout.bytesPerToken();
    }

    @Override
    public long reservedBytes() {
        return (long) usedBlocks() * groupBlockBytes;
    }

    @Override
    public long cachedIdleBytes() {
        return (long) cache.cachedBlocks() * groupBlockBytes;
    }

    private int usedBlocks() {
        return cache.blockCount() - cache.freeBlocks() - cache.cachedBlocks();
    }

    @Override
    public long bytesToAdmit(SimRequest request) {
        return groups.groupCount() * fullLayout.blocksFor(request.tokensToPrefill() + 1L) * groupBlockBytes;
    }

    @Override
    public boolean refusedByFragmentation(SimRequest request) {
        return false; // any free block serves any group of any request
    }

    @Override
    public int liveTokens(SimRequest request) {
        GroupedSequence s = sequenceOf(request);
        long held = 0;
        for (int g = 0; g < groups.groupCount(); g++) {
            held += s.length() - s.firstPosition(g);
        }
        return (int) (held / groups.groupCount());
    }

    @Override
    public long liveTokens(List<SimRequest> running) {
        // As PagedStrategy: filled slots of the blocks in use (a prefix-shared block counts once), summed
        // over the groups, in model tokens (a token in one group of G is 1/G of the model's bytes).
        long empty = 0;
        for (int g = 0; g < groups.groupCount(); g++) {
            empty += cache.group(g).stats().emptySlots();
        }
        return ((long) usedBlocks() * fullLayout.blockSize() - empty) / groups.groupCount();
    }

    @Override
    public int admit(SimRequest request) {
        int prefill = request.tokensToPrefill();
        TraceRequest t = request.trace();
        boolean ids = t.hasTokenIds();
        int[] prompt = ids ? Arrays.copyOf(t.transcript(), prefill) : null;
        GroupedSequence seq = ids ? cache.openSequence(prompt) : cache.openSequence();
        int reused = seq.reusedTokens();
        if (seq.blocksToAppend(prefill - reused + 1) > cache.availableBlocks()) {
            seq.close(); // matched blocks go back to the cache
            return NO_ROOM;
        }
        boolean ok = ids ? seq.tryAppendTokens(prompt, reused, prefill - reused) : seq.tryAppend(prefill - reused);
        if (!ok) {
            seq.close();
            throw new IllegalStateException("prefill of request " + t.id() + " refused (expected: the admission check to cover it)");
        }
        for (int p = reused; p < prefill; p++) {
            writeToken(seq, t.id(), p);
        }
        if (ids) {
            seq.commitPrefix();
        }
        seq.releaseOutsideWindow();
        request.allocation = seq;
        return reused;
    }

    @Override
    public boolean append(SimRequest request) {
        GroupedSequence seq = sequenceOf(request);
        TraceRequest t = request.trace();
        int position = seq.length();
        boolean ids = t.hasTokenIds();
        if (!(ids ? seq.tryAppendTokens(t.transcript(), position, 1) : seq.tryAppend(1))) {
            return false;
        }
        writeToken(seq, t.id(), position);
        if (ids && (position + 1) % fullLayout.blockSize() == 0) {
            seq.commitPrefix();
        }
        seq.releaseOutsideWindow();
        return true;
    }

    @Override
    public void release(SimRequest request) {
        sequenceOf(request).close();
    }

    @Override
    public void checkDrained() {
        int used = usedBlocks();
        if (cache.freeBlocks() + cache.cachedBlocks() != totalBlocks || used != 0) {
            throw new IllegalStateException("paged-hybrid: " + cache.freeBlocks() + " free + " + cache.cachedBlocks()
                    + " cached of " + totalBlocks + " blocks, " + used + " used (expected: every block free or cached)");
        }
    }

    @Override
    public void close() {
        cache.close();
    }

    private void writeToken(GroupedSequence seq, int id, int position) {
        for (int i = 0; i < keys.length; i++) {
            keys[i] = PagedStrategy.syntheticKey(id, position, i);
            values[i] = -keys[i];
        }
        for (int g = 0; g < groups.groupCount(); g++) {
            seq.write(g, position, keys, values); // storage layer g is group g's one layer
        }
        tokensWritten++;
    }
}
