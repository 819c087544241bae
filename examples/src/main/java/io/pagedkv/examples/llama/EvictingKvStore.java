package io.pagedkv.examples.llama;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.attention.PagedAttention;
import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.EvictingSequence;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.RopeStyle;
import io.pagedkv.eviction.SequenceEvictor;
import java.util.Arrays;
import java.util.Locale;

/**
 * Keys and values in pagedkv with an eviction policy really dropping tokens: a {@link
 * SequenceEvictor}, attended with {@link PagedAttention} over its slots, each slot with its position
 * (holes get no weight). {@link #length()} counts every token ever appended, so a stream can run
 * for any number of tokens ({@link #capacity()}) while the cache holds at most the budget.
 *
 * <p><b>Step order, as the library does it.</b> {@link #append()} lets the policy evict first (the
 * victims' slots become holes), then places the new token in a victim's slot; {@link #write} stores
 * its K/V by position and shows its keys and values to the policy when it uses them; after the step
 * the attention weights of every layer and query head go to the policy when it {@link
 * EvictionPolicy#usesAttention() uses them}. So the cache never holds more than the budget, and the
 * pool is sized for exactly {@link #blocksNeeded} blocks.
 *
 * <p><b>Prefill under the budget.</b> A prompt chunk ({@link #append(int)}) evicts once to make room
 * for all its tokens, then places them: a prompt longer than the budget is prefilled in chunks of at
 * most {@link #maxChunk()} tokens (what one eviction can make room for, {@link
 * SequenceEvictor#maxIncoming()}), each chunk's queries attending causally <i>by position</i> to the
 * kept tokens and to each other ({@link PagedAttention#prefill(BlockTableView, int, int[], int, int,
 * int, float[], int, float[], int)}). Each chunk shows the policy its last query's attention row
 * (TOVA's rule; for H2O a one-row proxy of the chunk's rows).
 *
 * <p><b>Positions</b> ({@link RotaryMode}). {@link RotaryMode#ORIGINAL}: a key stays rotated at its
 * stream position, for any position (the decoder computes RoPE past the model's context).
 * {@link RotaryMode#CACHE}, StreamingLLM's rule: what matters is that the distance between two kept
 * tokens is the distance between their places in the cache (RoPE depends only on differences), so
 * each kept token has a rotation position {@code offset + place}. After an eviction, if the victims
 * were the oldest kept tokens the offset grows and no key moves (a sliding window never re-rotates);
 * otherwise every key whose place changed is re-rotated in place, in the cache, by its change of
 * place ({@link SequenceEvictor#rerotateKey}, llama.cpp's K-shift). A key's place only decreases, so
 * it is re-rotated at most budget + chunk times in its life (the rounding it collects is bounded; a
 * fixed-offset scheme that rotated the sinks forward every step would not be). The alternative,
 * caching keys before RoPE and rotating at read, needs RoPE inside the attention kernel.
 *
 * <p>A store owns its cache, or runs over a sequence of a shared cache (an inference server's pool).
 * Allocates nothing per token. Not thread-safe: one decoding thread owns a store.
 */
public final class EvictingKvStore implements KvStore {

    private static final int HOLE = PagedAttention.HOLE;

    static {
        if (EvictingSequence.HOLE != PagedAttention.HOLE) {
            throw new AssertionError("hole markers differ: " + EvictingSequence.HOLE + " vs " + PagedAttention.HOLE);
        }
    }

    private final PagedKvCache cache;
    private final boolean ownsCache;
    private final SequenceEvictor ev;
    private final PagedAttention attention;
    private final BlockTableView table;
    private final LlamaConfig c;
    private final int capacity;
    private final int budget;
    private final RotaryMode mode;
    private final int maxSlots;
    private final int blockLimit;
    /** The step's attention weights, {@code [queryHead][slot]}. */
    private final float[] weights;
    /** Output of the decode that computes a chunk's last attention row (not used otherwise). */
    private final float[] rowOut;
    /** Per slot: the RoPE position of its key, or {@link #HOLE}; what the kernels read. */
    private final int[] positions;
    /** {@link RotaryMode#CACHE}: the kept stream positions in stream order, and the RoPE position each key holds. */
    private final int[] kept;
    private final int[] keptRot;
    private int keptCount;
    /** {@link RotaryMode#CACHE}: the rotation position of the first kept token (rotation = offset + place). */
    private int offset;
    private int length;
    private int peakTokens;
    private int peakBlocks;
    private int maxChunkSeen;

    /**
     * A store with its own cache for a stream of up to {@code capacity} tokens whose cache {@code policy}
     * keeps to its budget, keys at their original positions.
     *
     * @throws IllegalArgumentException if the head size does not hold whole groups of {@code dtype},
     *     or {@code capacity <= 0}
     */
    public EvictingKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy) {
        this(config, dtype, blockSize, capacity, policy, RotaryMode.ORIGINAL);
    }

    /**
     * A store with its own cache, like {@link #EvictingKvStore(LlamaConfig, KvDType, int, int,
     * EvictionPolicy)}, whose keys follow rotary {@code mode}.
     *
     * @throws IllegalArgumentException as above, or if {@code mode} is null
     */
    public EvictingKvStore(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy,
            RotaryMode mode) {
        this(ownCache(config, dtype, blockSize, capacity, policy), null, config, capacity, policy, mode, true);
    }

    /**
     * A store over {@code sequence}, an open and empty sequence of a shared {@code cache} (an
     * inference server's pool), keys at their original positions. The store never holds more than
     * {@link #blocksNeeded(CacheLayout, EvictionPolicy, int)} blocks of it; {@link #close()} closes
     * the sequence, not the cache.
     *
     * @throws IllegalArgumentException if {@code capacity <= 0} or the sequence is not open and empty
     */
    public EvictingKvStore(PagedKvCache cache, Sequence sequence, LlamaConfig config, int capacity, EvictionPolicy policy) {
        this(cache, sequence, config, capacity, policy, RotaryMode.ORIGINAL, false);
    }

    /**
     * Blocks a store of {@code policy} over a stream of {@code capacity} tokens may hold at most in a
     * cache laid out by {@code layout}: evict-then-place never holds more than the budget, so exactly
     * the blocks of the budget (at its largest context, for a ratio budget).
     */
    public static int blocksNeeded(CacheLayout layout, EvictionPolicy policy, int capacity) {
        return Math.toIntExact(layout.blocksFor(Math.min(capacity, policy.budget().tokensAt(capacity))));
    }

    private static PagedKvCache ownCache(LlamaConfig config, KvDType dtype, int blockSize, int capacity, EvictionPolicy policy) {
        CacheLayout layout = new CacheLayout(config.shape("llama2.c"), dtype, blockSize);
        return new PagedKvCache(layout, Math.max(1, blocksNeeded(layout, policy, capacity)));
    }

    private EvictingKvStore(PagedKvCache cache, Sequence sequence, LlamaConfig config, int capacity, EvictionPolicy policy,
            RotaryMode mode, boolean ownsCache) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode: null (expected: a RotaryMode)");
        }
        if (sequence != null && (sequence.isClosed() || sequence.length() != 0)) {
            throw new IllegalArgumentException("sequence: " + sequence + " (expected: open and empty)");
        }
        this.budget = policy.budget().tokensAt(capacity);
        this.c = config;
        this.capacity = capacity;
        this.mode = mode;
        this.cache = cache;
        this.ownsCache = ownsCache;
        this.ev = new SequenceEvictor(sequence != null ? sequence : cache.openSequence(), policy);
        this.attention = PagedAttention.create(cache);
        this.blockLimit = Math.max(1, blocksNeeded(cache.layout(), policy, capacity));
        this.maxSlots = blockLimit * cache.layout().blockSize();
        this.weights = new float[config.heads() * maxSlots];
        this.rowOut = new float[config.dim()];
        this.positions = new int[maxSlots];
        this.kept = mode == RotaryMode.CACHE ? new int[maxSlots] : new int[0];
        this.keptRot = mode == RotaryMode.CACHE ? new int[maxSlots] : new int[0];
        PagedKvCache pc = cache;
        SequenceEvictor e = ev;
        this.table = BlockTableView.of(e::slots, i -> pc.block(e.blockId(i)));
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** The rotary mode of the cached keys. */
    public RotaryMode rotaryMode() {
        return mode;
    }

    /** The budget in tokens (at the largest context, for a ratio budget). */
    public int budget() {
        return budget;
    }

    /** Tokens in the cache now (appended and not evicted). */
    public int liveTokens() {
        return ev.liveTokens();
    }

    /** Blocks the sequence holds now. */
    public int blocks() {
        return ev.blockCount();
    }

    /** The most blocks the sequence can ever hold: {@link #blocksNeeded} (its own pool has exactly these). */
    public int blockLimit() {
        return blockLimit;
    }

    /** Tokens evicted so far. */
    public long evictedTokens() {
        return ev.tokensEvicted();
    }

    /** Blocks returned to the pool by eviction so far. */
    public long blocksFreed() {
        return ev.blocksFreed();
    }

    /** Tokens whose keys were re-rotated in place so far ({@link RotaryMode#CACHE}; each: every layer and KV head). */
    public long keysRerotated() {
        return ev.keysRerotated();
    }

    /** Most tokens the cache held at once, checked after every placement (a decode step or a prompt chunk). */
    public int peakTokens() {
        return peakTokens;
    }

    /** Most blocks the sequence held at once, checked after every placement. */
    public int peakBlocks() {
        return peakBlocks;
    }

    /** The largest prompt chunk placed so far. */
    public int largestChunk() {
        return maxChunkSeen;
    }

    /** The stream position of the kept token in {@code slot}, or {@link PagedAttention#HOLE} (for tests and reports). */
    public int positionOfSlot(int slot) {
        return ev.positionOf(slot);
    }

    /** Whether the token at stream {@code position} is still in the cache. */
    public boolean isKept(int position) {
        return ev.slotOf(position) != EvictingSequence.HOLE;
    }

    @Override
    public void append() {
        append(1);
    }

    /**
     * Places a decode token ({@code n == 1}) or a prompt chunk: the policy evicts once to make room for
     * all {@code n}, then they take the freed slots (holes first).
     *
     * @throws IllegalArgumentException if {@code n <= 0} or {@code n > maxChunk()} (nothing changed)
     * @throws IllegalStateException if the stream would pass the capacity (nothing changed)
     */
    @Override
    public void append(int n) {
        if (n <= 0 || n > maxChunk()) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 <= n <= maxChunk " + maxChunk() + ")");
        }
        if (n > capacity - length) {
            throw new IllegalStateException("length: " + length + " + " + n + " (expected: <= capacity " + capacity + ")");
        }
        int first = ev.appendChunkWithoutIds(n);
        if (first != length) {
            throw new IllegalStateException("position: " + first + " (expected: " + length + ")");
        }
        length += n;
        maxChunkSeen = Math.max(maxChunkSeen, n);
        if (mode == RotaryMode.CACHE) {
            replace(first, n);
        }
        int slots = ev.slots();
        if (slots > maxSlots) {
            throw new IllegalStateException("slots: " + slots + " (expected: <= " + maxSlots + ", the blocks of the budget)");
        }
        if (mode == RotaryMode.CACHE) {
            Arrays.fill(positions, 0, slots, HOLE);
            for (int j = 0; j < keptCount; j++) {
                positions[ev.slotOf(kept[j])] = keptRot[j];
            }
        } else {
            for (int s = 0; s < slots; s++) {
                positions[s] = ev.positionOf(s);
            }
        }
        peakTokens = Math.max(peakTokens, ev.liveTokens());
        peakBlocks = Math.max(peakBlocks, ev.blockCount());
    }

    /**
     * {@link RotaryMode#CACHE} after an eviction and the placement of {@code n} tokens from {@code
     * first}: drops the victims from the kept list, moves the anchor past evicted oldest tokens,
     * re-rotates every other key whose place changed, and gives the new tokens the next places.
     */
    private void replace(int first, int n) {
        int w = 0;
        int front = 0;
        for (int i = 0; i < keptCount; i++) {
            int p = kept[i];
            if (ev.slotOf(p) == EvictingSequence.HOLE) {
                if (w == 0) {
                    front++; // an evicted oldest token: the anchor moves, nothing re-rotates
                }
                continue;
            }
            kept[w] = p;
            keptRot[w] = keptRot[i];
            w++;
        }
        keptCount = w;
        offset += front;
        for (int j = 0; j < keptCount; j++) {
            int target = offset + j;
            if (keptRot[j] != target) {
                ev.rerotateKey(kept[j], keptRot[j], target, LlamaDecoder.ROPE_THETA, RopeStyle.INTERLEAVED);
                keptRot[j] = target;
            }
        }
        for (int i = 0; i < n; i++) {
            kept[keptCount] = first + i;
            keptRot[keptCount] = offset + keptCount;
            keptCount++;
        }
    }

    /**
     * The RoPE position of the kept token at stream {@code position}: the position itself, or in
     * {@link RotaryMode#CACHE} its rotation position {@code offset + place}.
     *
     * @throws IllegalArgumentException if the token is not kept
     */
    @Override
    public int ropePosition(int position) {
        if (ev.slotOf(position) == EvictingSequence.HOLE) {
            throw new IllegalArgumentException("position: " + position + " (expected: a kept token)");
        }
        if (mode == RotaryMode.ORIGINAL) {
            return position;
        }
        int i = Arrays.binarySearch(kept, 0, keptCount, position);
        return keptRot[i];
    }

    /** What one eviction can make room for now ({@link SequenceEvictor#maxIncoming()}). */
    @Override
    public int maxChunk() {
        return ev.maxIncoming();
    }

    @Override
    public void write(int layer, int position, float[] keys, float[] values) {
        ev.write(layer, position, keys, values);
    }

    @Override
    public void attend(int layer, float[] q, float[] out) {
        int slots = ev.slots();
        if (ev.usesQueries()) {
            for (int h = 0; h < c.heads(); h++) {
                ev.query(layer, h, q, h * c.headSize());
            }
        }
        if (!ev.usesAttention()) {
            attention.decode(table, slots, positions, layer, q, 0, out, 0, null);
            return;
        }
        attention.decode(table, slots, positions, layer, q, 0, out, 0, weights);
        for (int h = 0; h < c.heads(); h++) {
            ev.attention(layer, h, weights, h * slots);
        }
    }

    /**
     * Attends a prompt chunk causally by position over the kept tokens and the chunk, then shows the
     * policy the chunk's last query (and its attention row) when it uses them.
     */
    @Override
    public void attendChunk(int layer, int start, int count, float[] q, float[] out) {
        int slots = ev.slots();
        attention.prefill(table, slots, positions, ropePosition(start), count, layer, q, 0, out, 0);
        int last = (count - 1) * c.dim();
        if (ev.usesQueries()) {
            for (int h = 0; h < c.heads(); h++) {
                ev.query(layer, h, q, last + h * c.headSize());
            }
        }
        if (ev.usesAttention()) {
            attention.decode(table, slots, positions, layer, q, last, rowOut, 0, weights); // the newest query sees every slot
            for (int h = 0; h < c.heads(); h++) {
                ev.attention(layer, h, weights, h * slots);
            }
        }
    }

    @Override
    public String statistics() {
        CacheLayout l = cache.layout();
        String keys = mode == RotaryMode.ORIGINAL ? "keys at original positions"
                : "keys at places in the cache (" + ev.keysRerotated() + " re-rotated in place)";
        return String.format(Locale.ROOT,
                "paged %s cache (%s loops) with %s eviction, budget %d tokens, %s: %d tokens"
                        + " seen, %d live in %d blocks of %d tokens, peak %d tokens in %d blocks (%d bytes);"
                        + " evicted %d tokens, freed %d blocks",
                l.dtype(), attention.loops(), ev.policyName(), budget, keys, length, ev.liveTokens(),
                ev.blockCount(), l.blockSize(), peakTokens, peakBlocks, peakBlocks * l.bytesPerBlock(),
                ev.tokensEvicted(), ev.blocksFreed());
    }

    @Override
    public void close() {
        ev.close();
        if (ownsCache) {
            cache.close();
        }
    }
}
