package io.pagedkv.eviction;

/**
 * Decides which cached tokens of one sequence to drop when it exceeds its token budget.
 *
 * <p><b>Vocabulary.</b> A <i>slot</i> is a token's place in the sequence's cache memory
 * ({@code blockIndex * blockSize + offset}, 0-based, dense); a <i>position</i> is the token's original
 * position id in the stream (0, 1, 2, ... in append order). After slot reuse and compaction, memory
 * order and position order differ; the policy tracks both and always answers in slots.
 *
 * <p><b>Protocol</b>, per sequence, driven by one engine thread:
 * <ol>
 *   <li>{@link #onAppend(int, int)} for every token written, with its slot and original position;</li>
 *   <li>if {@link #usesKeys()}: {@link #onKey} once per (layer, KV head) of that token;</li>
 *   <li>if {@link #usesAttention()}: after each decode step, {@link #onAttention(float[], int)} with one
 *       score per slot: the newest query's softmax weights reduced over layers and heads by an
 *       {@link AttentionReducer} (the reduction is the caller's explicit choice: SUM, MEAN or MAX, and
 *       for GQA over the query heads of each KV head); free slots must carry 0;</li>
 *   <li>{@link #evict(int[])}: the policy writes the slots to drop into the caller's buffer and forgets
 *       them at once (their slots may be reused by the next append);</li>
 *   <li>{@link #onMove(int, int)} when compaction moves a kept token to a free slot.</li>
 * </ol>
 *
 * <p><b>Budget bound.</b> Let {@code B = budget()} and {@code Q = quantum()}. After every
 * {@link #evict} call, {@code liveTokens() <= B + Q - 1}: a token-granular policy ({@code Q = 1}) never
 * keeps more than {@code B} tokens; a block-granular one ({@code Q = blockSize}) evicts only whole
 * quanta of {@code Q} tokens and may exceed the token budget by less than one block. The bound holds
 * for the one decision shared by all layers and heads (one block table per sequence). Per-layer
 * budgets: one policy instance per layer, each fed its layer's row ({@link
 * AttentionReducer.Granularity#LAYER}); the bound then holds per layer, but a block is freed only
 * when every layer has dropped all its tokens.
 *
 * <p><b>Cost.</b> {@code onAppend}, {@code onMove} and a one-victim {@code evict} cost O(1) or
 * O(log n) in the live tokens n, never a sort; {@code onAttention} reads its row once (O(n)), which is
 * what producing the row cost anyway. Nothing allocates in steady state.
 *
 * <p><b>Threading.</b> Not thread-safe: one policy instance per sequence, called by one thread at a
 * time (the engine's scheduler thread).
 *
 * <pre>{@code
 * EvictionPolicy p = new HeavyHitters(100, 100, HeavyHitters.Accumulation.SUM);
 * int[] victims = new int[p.budget() + 1];
 * for (each decoded token) {
 *     p.onAppend(slot, position);
 *     p.onAttention(reducedWeights, slotCount);
 *     int n = p.evict(victims);      // free victims[0 .. n-1]; the next append may reuse them
 * }
 * }</pre>
 */
public interface EvictionPolicy {

    /** A short name for tables, e.g. {@code h2o(heavy=100,recent=100)}. */
    String name();

    /** The token budget B that {@link #evict} restores. */
    int budget();

    /** Tokens evicted at once: 1 for token granularity, the block size for block granularity. */
    int quantum();

    /** Tokens currently kept. */
    int liveTokens();

    /** Whether {@code slot} holds a kept token. */
    boolean isLive(int slot);

    /** The original position id of the token in {@code slot}, or -1 if the slot is free. */
    int positionOf(int slot);

    /** Writes the live slots (in no particular order) into {@code slotsOut}; returns their count. */
    int liveSlots(int[] slotsOut);

    /**
     * Records that the token with original {@code position} was written into the free {@code slot}.
     *
     * @throws IllegalArgumentException if the slot is negative or live, or the position is negative
     */
    void onAppend(int slot, int position);

    /** Whether this policy reads attention weights (engines without them can use it only if false). */
    default boolean usesAttention() {
        return false;
    }

    /**
     * The newest query's reduced attention weights: {@code scores[slot]} for slots {@code 0 ..
     * slotCount - 1}. Ignored by policies that do not use attention.
     */
    default void onAttention(float[] scores, int slotCount) {
    }

    /** Whether this policy reads key vectors. */
    default boolean usesKeys() {
        return false;
    }

    /**
     * One head's key of the token in {@code slot} (called once per layer and KV head after
     * {@link #onAppend}). Ignored by policies that do not use keys.
     */
    default void onKey(int slot, float[] key, int offset, int length) {
    }

    /**
     * Picks the tokens to drop if the sequence is over budget, writes their slots into
     * {@code victims} and forgets them; returns how many (0 when within the bound).
     *
     * @throws IllegalArgumentException if {@code victims} is shorter than the tokens to drop (state
     *     unchanged)
     */
    int evict(int[] victims);

    /** How many slots the next {@link #evict} would return. */
    int pendingEvictions();

    /**
     * Records that compaction moved the live token in {@code fromSlot} to the free {@code toSlot}.
     *
     * @throws IllegalArgumentException if {@code fromSlot} is not live or {@code toSlot} is not free
     */
    void onMove(int fromSlot, int toSlot);

    /** Forgets every token, as for a new sequence. */
    void reset();
}
