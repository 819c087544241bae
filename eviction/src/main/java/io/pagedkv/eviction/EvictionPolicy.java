package io.pagedkv.eviction;

/**
 * Decides which cached tokens of one sequence to drop so that it stays within its token budget.
 *
 * <p><b>Vocabulary.</b> A <i>slot</i> is a token's place in the sequence's cache memory
 * ({@code blockIndex * blockSize + offset}, 0-based, dense); a <i>position</i> is the token's original
 * position id in the stream (0, 1, 2, ... in append order). After slot reuse and compaction, memory
 * order and position order differ; the policy tracks both and always answers in slots.
 *
 * <p><b>Step order</b>: evict first, then place. Before a decode step places its token, the engine
 * calls {@link #evict(int, int[]) evict(1, victims)}: the policy drops what it must so that the new
 * token fits in the budget, and the new token takes a victim's slot. The cache therefore never holds
 * more than the budget (memory can be sized for exactly the budget), and the decision uses the same
 * information as evicting after the step would: the last query's attention row covers every kept
 * token, the newest included. A prompt longer than the budget is placed whole (its attention needs
 * every prompt token) and then compressed with {@code evict(0, victims)}.
 *
 * <p><b>Protocol</b>, per sequence, driven by one engine thread ({@link SequenceEvictor} does all of
 * it for a paged sequence):
 * <ol>
 *   <li>{@link #evict(int, int[]) evict(incoming, victims)} before placing {@code incoming} tokens (0
 *       to compress after a prefill): the policy writes the slots to drop and forgets them;</li>
 *   <li>{@link #onAppend(int, int)} for every token placed, with its slot and original position;</li>
 *   <li>per (layer, KV head) of that token, if the policy {@link #usesKeys() uses keys}: {@link
 *       #onKey}; if it {@link #usesValues() uses values}: {@link #onValue};</li>
 *   <li>per (layer, query head) of the step's query, if it {@link #usesQueries() uses queries}:
 *       {@link #onQuery}; if it {@link #usesAttention() uses attention}: {@link #onAttention} with that
 *       head's softmax weights over the slots (weights on holes are ignored);</li>
 *   <li>{@link #onMove(int, int)} when compaction or a block release moves a kept token.</li>
 * </ol>
 * The attention rows and queries received between two structural calls ({@code onAppend}, {@code
 * evict}, {@code onMove}, {@code reset}) form one <i>observation</i>: a decode step's rows, or a
 * prompt chunk's rows. A policy combines the rows of an observation itself (the built-in ones sum
 * them over layers and heads, as {@link AttentionReducer.Reduction#SUM} would); an engine that has
 * already reduced its rows may pass the reduced row once as layer 0, head 0.
 *
 * <p><b>Budget bound.</b> Let {@code B = budget().tokensAt(appended() + incoming)} and {@code Q =
 * quantum()}. After {@code evict(incoming, victims)} returns {@code n}: {@code liveTokens() + incoming
 * <= B}, {@code n} is a multiple of {@code Q}, and fewer than {@code Q} tokens more than needed were
 * dropped. So a token-granular policy ({@code Q = 1}) keeps exactly {@code B} once the context
 * exceeds it; a block-granular one ({@code Q = blockSize}) evicts whole quanta and keeps between
 * {@code B - Q + 1} and {@code B}. The bound holds for the one decision shared by all layers and
 * heads (one block table per sequence); per-layer budgets are one policy per layer, each fed only its
 * layer's hooks.
 *
 * <p><b>Copies.</b> {@link #copy()} returns an independent policy in the same state: a fork of the
 * sequence (a beam, a parallel sample) continues with the parent's scores, and given the same future
 * calls it makes the same decisions.
 *
 * <p><b>Cost.</b> {@code onAppend}, {@code onMove} and a one-victim {@code evict} cost O(1) or
 * O(log n) in the live tokens n for the attention-free built-ins and one pass over the candidates for
 * the score-based ones, never a sort; {@code onAttention} reads its row once. Nothing allocates in
 * steady state.
 *
 * <p><b>Threading.</b> Not thread-safe: one policy instance per sequence, called by one thread at a
 * time (the engine's scheduler thread).
 */
public interface EvictionPolicy {

    /** A short name for tables, e.g. {@code h2o(64,recent=32)}. */
    String name();

    /** The budget rule: the total of kept tokens, sinks and recent window included. */
    Budget budget();

    /** Tokens evicted at once: 1 for token granularity, the block size for block granularity. */
    int quantum();

    /** Tokens appended since the last reset: the context a ratio budget is measured on. */
    long appended();

    /** Tokens currently kept. */
    int liveTokens();

    /** Whether {@code slot} holds a kept token. */
    boolean isLive(int slot);

    /** The original position id of the token in {@code slot}, or -1 if the slot is free. */
    int positionOf(int slot);

    /** Writes the live slots (in no particular order) into {@code slotsOut}; returns their count. */
    int liveSlots(int[] slotsOut);

    /**
     * Records that the token with original {@code position} was placed into the free {@code slot}.
     *
     * @throws IllegalArgumentException if the slot is negative or live, or the position is negative
     */
    void onAppend(int slot, int position);

    /** Whether this policy reads key vectors ({@link #onKey}). */
    default boolean usesKeys() {
        return false;
    }

    /**
     * The key of KV head {@code kvHead} in {@code layer} of the token in {@code slot}: {@code
     * key[off .. off + len)}. Called after {@link #onAppend} for each (layer, KV head) the engine
     * chooses (all of them, or a subset to save work). Ignored by policies that do not use keys.
     */
    default void onKey(int layer, int kvHead, int slot, float[] key, int off, int len) {
    }

    /** Whether this policy reads value vectors ({@link #onValue}). */
    default boolean usesValues() {
        return false;
    }

    /** The value of one (layer, KV head) of the token in {@code slot}; see {@link #onKey}. */
    default void onValue(int layer, int kvHead, int slot, float[] value, int off, int len) {
    }

    /** Whether this policy reads the step's query vectors ({@link #onQuery}). */
    default boolean usesQueries() {
        return false;
    }

    /**
     * The query of {@code queryHead} in {@code layer} for the current step: {@code query[off .. off +
     * len)}, in the order the engine computes it (after RoPE). Ignored by policies that do not use
     * queries.
     */
    default void onQuery(int layer, int queryHead, float[] query, int off, int len) {
    }

    /** Whether this policy reads attention weights ({@link #onAttention}). */
    default boolean usesAttention() {
        return false;
    }

    /**
     * The softmax weights of {@code queryHead} in {@code layer} for the current step: {@code
     * weights[off + slot]} for slots {@code 0 .. slotCount - 1}. Weights on slots the policy does not
     * hold (holes) are ignored. Ignored by policies that do not use attention.
     *
     * @throws IllegalArgumentException if the range is outside {@code weights}, or {@code slotCount}
     *     exceeds the slots this policy has seen (a row over another sequence's slots, or over
     *     positions instead of slots)
     */
    default void onAttention(int layer, int queryHead, float[] weights, int off, int slotCount) {
    }

    /**
     * Picks the tokens to drop so that {@code incoming} more tokens fit in the budget, writes their
     * slots into {@code victims} and forgets them; returns how many (0 when they already fit).
     *
     * @throws IllegalArgumentException if {@code incoming < 0}, if {@code victims} is shorter than the
     *     tokens to drop, or if the tokens the policy must keep leave no room for {@code incoming}
     *     (state unchanged in each case)
     */
    int evict(int incoming, int[] victims);

    /** How many slots {@code evict(incoming, victims)} would return now. */
    int pendingEvictions(int incoming);

    /**
     * The most tokens one {@code evict(incoming, victims)} can make room for now without throwing:
     * the chunk size of a prompt prefilled under the budget (evict, place the chunk, attend it,
     * repeat). At least 1, so a decode step always fits. The default is what fits without any
     * eviction, or 1: {@code max(1, budget().tokensAt(appended()) - liveTokens())}; policies that know
     * which tokens they protect say more.
     */
    default int maxIncoming() {
        return Math.max(1, budget().tokensAt(appended()) - liveTokens());
    }

    /**
     * Records that compaction moved the live token in {@code fromSlot} to the free {@code toSlot}.
     *
     * @throws IllegalArgumentException if {@code fromSlot} is not live or {@code toSlot} is not free
     */
    void onMove(int fromSlot, int toSlot);

    /** Forgets every token, as for a new sequence. */
    void reset();

    /**
     * An independent policy in exactly this state (scores, windows, random state): what a fork of the
     * sequence continues with. The same future calls on both give the same decisions.
     */
    EvictionPolicy copy();
}
