package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * The common skeleton of sink + recent + candidate policies: a base class to extend with a policy's
 * own choice among candidates.
 *
 * <p>Every live token is in exactly one of three groups:
 * <ul>
 *   <li><b>sinks</b>: the first {@code sinks} tokens appended since {@link #reset()}; never evicted;</li>
 *   <li><b>recent</b>: the last {@code recent} tokens appended; never evicted;</li>
 *   <li><b>candidates</b>: everything else, held by the subclass, which picks victims among them
 *       ({@link #selectVictims}).</li>
 * </ul>
 * A token leaves the recent window (and is {@linkplain #admit admitted} as a candidate) when
 * {@link #evict} runs and more than {@code recent} tokens are newer. The budget counts every kept
 * token, sinks and recent included; construction requires {@code budget.minTokens() >= sinks +
 * recent + quantum}, so that after any decode step a whole quantum of candidates exists and the
 * bound of {@link EvictionPolicy} holds after every {@code evict}.
 *
 * <p>Per-slot arrays grow by doubling when a larger slot first appears: amortised, and never in steady
 * state (slot reuse keeps slots below the budget). {@link #copy()} is implemented by each subclass
 * with a copy constructor that calls {@link #BudgetedPolicy(BudgetedPolicy)}. Not thread-safe.
 */
public abstract class BudgetedPolicy implements EvictionPolicy {

    private static final byte FREE = 0;
    private static final byte SINK = 1;
    private static final byte RECENT = 2;
    private static final byte CANDIDATE = 3;

    private final Budget budget;
    private final int sinks;
    private final int recent;
    private final int quantum;
    private final SlotQueue recentQueue;
    private byte[] state;
    private int[] position;
    private int live;
    private int candidates;
    private long appended;
    private int slotLimit;
    private boolean observing;

    /**
     * A policy skeleton.
     *
     * @param budget kept tokens, sinks and recent included; {@code budget.minTokens() >= sinks +
     *     recent + quantum}
     * @param sinks first tokens never evicted, >= 0
     * @param recent newest tokens never evicted, >= 0
     * @param quantum tokens evicted at once, >= 1 (1: token granular; block size: block granular)
     * @throws IllegalArgumentException naming the value and its limit
     */
    protected BudgetedPolicy(Budget budget, int sinks, int recent, int quantum) {
        if (budget == null) {
            throw new IllegalArgumentException("budget: null (expected: Budget.tokens(n) or Budget.ratio(keep, min))");
        }
        if (sinks < 0) {
            throw new IllegalArgumentException("sinks: " + sinks + " (expected: >= 0)");
        }
        if (recent < 0) {
            throw new IllegalArgumentException("recent: " + recent + " (expected: >= 0)");
        }
        if (quantum < 1) {
            throw new IllegalArgumentException("quantum: " + quantum + " (expected: >= 1)");
        }
        long need = (long) sinks + recent + quantum;
        if (budget.minTokens() < need) {
            throw new IllegalArgumentException("budget: " + budget + " tokens (expected: >= sinks " + sinks + " + recent "
                    + recent + " + quantum " + quantum + " = " + need + ", so a decode step always finds a quantum to evict)");
        }
        this.budget = budget;
        this.sinks = sinks;
        this.recent = recent;
        this.quantum = quantum;
        int initial = (int) Math.min(1 << 20, (long) budget.minTokens() + quantum + 1);
        this.recentQueue = new SlotQueue(initial);
        this.state = new byte[initial];
        this.position = new int[initial];
        Arrays.fill(position, -1);
    }

    /** A copy of {@code other}'s state, for a subclass's copy constructor. */
    protected BudgetedPolicy(BudgetedPolicy other) {
        this.budget = other.budget;
        this.sinks = other.sinks;
        this.recent = other.recent;
        this.quantum = other.quantum;
        this.recentQueue = other.recentQueue.copy();
        this.state = other.state.clone();
        this.position = other.position.clone();
        this.live = other.live;
        this.candidates = other.candidates;
        this.appended = other.appended;
        this.slotLimit = other.slotLimit;
        this.observing = other.observing;
    }

    @Override
    public final Budget budget() {
        return budget;
    }

    @Override
    public final int quantum() {
        return quantum;
    }

    @Override
    public final long appended() {
        return appended;
    }

    /** First tokens that are never evicted. */
    public final int sinks() {
        return sinks;
    }

    /** Newest tokens that are never evicted. */
    public final int recent() {
        return recent;
    }

    @Override
    public final int liveTokens() {
        return live;
    }

    @Override
    public final boolean isLive(int slot) {
        return slot >= 0 && slot < state.length && state[slot] != FREE;
    }

    /** Whether the token in {@code slot} is one of the protected first tokens. */
    public final boolean isSink(int slot) {
        return slot >= 0 && slot < state.length && state[slot] == SINK;
    }

    /** Whether the token in {@code slot} is a candidate for eviction (neither sink nor recent). */
    protected final boolean isCandidate(int slot) {
        return slot >= 0 && slot < state.length && state[slot] == CANDIDATE;
    }

    @Override
    public final int positionOf(int slot) {
        return slot >= 0 && slot < position.length ? position[slot] : -1;
    }

    /** Slots this policy currently has arrays for (the largest slot seen plus one, or more). */
    protected final int slotCapacity() {
        return state.length;
    }

    /** One more than the largest slot appended or moved to since the last reset. */
    protected final int slotLimit() {
        return slotLimit;
    }

    @Override
    public final int liveSlots(int[] slotsOut) {
        if (slotsOut.length < live) {
            throw new IllegalArgumentException("slotsOut.length: " + slotsOut.length + " (expected: >= liveTokens "
                    + live + ")");
        }
        int n = 0;
        for (int s = 0; s < slotLimit && n < live; s++) {
            if (state[s] != FREE) {
                slotsOut[n++] = s;
            }
        }
        return n;
    }

    @Override
    public final void onAppend(int slot, int pos) {
        if (slot < 0) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: >= 0)");
        }
        if (pos < 0) {
            throw new IllegalArgumentException("position: " + pos + " (expected: >= 0)");
        }
        if (isLive(slot)) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: free, holds position "
                    + position[slot] + ")");
        }
        ensureCapacity(slot + 1);
        slotLimit = Math.max(slotLimit, slot + 1);
        observing = false;
        position[slot] = pos;
        live++;
        if (appended < sinks) {
            state[slot] = SINK;
        } else {
            state[slot] = RECENT;
            recentQueue.addLast(slot);
        }
        appended++;
        appended(slot);
    }

    @Override
    public final int pendingEvictions(int incoming) {
        if (incoming < 0) {
            throw new IllegalArgumentException("incoming: " + incoming + " (expected: >= 0)");
        }
        long excess = (long) live + incoming - budget.tokensAt(appended + incoming);
        if (excess <= 0) {
            return 0;
        }
        long count = (excess + quantum - 1) / quantum * quantum;
        return (int) Math.min(Integer.MAX_VALUE, count);
    }

    /**
     * {@inheritDoc} Here exactly what {@link #evict} accepts: with {@code B = budget().tokensAt(appended())}
     * and {@code E} the evictable tokens (neither sinks nor recent) rounded down to whole quanta,
     * {@code B - liveTokens() + E} (a ratio budget only grows with the context, so the chunk also fits
     * at {@code appended() + incoming}).
     */
    @Override
    public final int maxIncoming() {
        long evictable = candidates + Math.max(0, recentQueue.size() - recent);
        long most = (long) budget.tokensAt(appended) - live + evictable / quantum * quantum;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, most));
    }

    @Override
    public final int evict(int incoming, int[] victims) {
        int count = pendingEvictions(incoming);
        if (victims.length < count) {
            throw new IllegalArgumentException("victims.length: " + victims.length + " (expected: >= " + count
                    + " tokens to evict)");
        }
        int admittable = Math.max(0, recentQueue.size() - recent);
        if (count > candidates + admittable) {
            throw new IllegalArgumentException("incoming: " + incoming + " needs " + count + " evictions but only "
                    + (candidates + admittable) + " of " + live + " live tokens are neither sinks nor recent (expected:"
                    + " incoming <= budget - sinks - recent - quantum + 1 = "
                    + (budget.tokensAt(appended + incoming) - sinks - recent - quantum + 1) + ")");
        }
        observing = false;
        while (recentQueue.size() > recent) {
            int slot = recentQueue.removeFirst();
            state[slot] = CANDIDATE;
            candidates++;
            admit(slot);
        }
        if (count == 0) {
            return 0;
        }
        int got = selectVictims(count, victims);
        if (got != count) {
            throw new IllegalStateException(name() + " selected " + got + " victims (expected: " + count + ")");
        }
        for (int i = 0; i < count; i++) {
            int slot = victims[i];
            state[slot] = FREE;
            position[slot] = -1;
            released(slot);
        }
        live -= count;
        candidates -= count;
        return count;
    }

    @Override
    public final void onMove(int fromSlot, int toSlot) {
        if (!isLive(fromSlot)) {
            throw new IllegalArgumentException("fromSlot: " + fromSlot + " (expected: live)");
        }
        if (toSlot < 0 || isLive(toSlot)) {
            throw new IllegalArgumentException("toSlot: " + toSlot + " (expected: free and >= 0)");
        }
        ensureCapacity(toSlot + 1);
        slotLimit = Math.max(slotLimit, toSlot + 1);
        observing = false;
        byte st = state[fromSlot];
        if (st == RECENT) {
            recentQueue.move(fromSlot, toSlot);
        } else if (st == CANDIDATE) {
            moveCandidate(fromSlot, toSlot);
        }
        state[toSlot] = st;
        position[toSlot] = position[fromSlot];
        state[fromSlot] = FREE;
        position[fromSlot] = -1;
        moved(fromSlot, toSlot);
    }

    @Override
    public void reset() {
        recentQueue.clear();
        clearCandidates();
        Arrays.fill(state, FREE);
        Arrays.fill(position, -1);
        live = 0;
        candidates = 0;
        appended = 0;
        slotLimit = 0;
        observing = false;
    }

    @Override
    public String toString() {
        return name();
    }

    /**
     * Called by a subclass at the start of each {@code onAttention} or {@code onQuery}: whether this
     * row starts a new observation (the first row since the last append, eviction, move or reset).
     */
    protected final boolean startsObservation() {
        if (observing) {
            return false;
        }
        observing = true;
        return true;
    }

    /**
     * Checks an attention row's range: {@code weights[off .. off + slotCount)} inside the array and
     * {@code slotCount} within the slots this policy has seen.
     *
     * @throws IllegalArgumentException naming the value and its limit
     */
    protected final void checkRow(float[] weights, int off, int slotCount) {
        if (weights == null || off < 0 || slotCount < 0 || off > weights.length - slotCount) {
            throw new IllegalArgumentException("weights range: off " + off + ", slotCount " + slotCount + " of length "
                    + (weights == null ? "null" : weights.length) + " (expected: 0 <= off <= length - slotCount)");
        }
        if (slotCount > slotLimit) {
            throw new IllegalArgumentException("slotCount: " + slotCount + " (expected: <= " + slotLimit
                    + ", the slots this policy has seen appended; a row covers the sequence's slots, not its positions)");
        }
    }

    /**
     * Checks a key or value vector's range.
     *
     * @throws IllegalArgumentException naming the value and its limit
     */
    protected final void checkVector(String what, int layer, int head, int slot, float[] v, int off, int len) {
        if (layer < 0 || head < 0) {
            throw new IllegalArgumentException("layer, head: " + layer + ", " + head + " (expected: both >= 0)");
        }
        if (!isLive(slot)) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: live, " + what + " after onAppend)");
        }
        if (v == null || off < 0 || len < 1 || off > v.length - len) {
            throw new IllegalArgumentException(what + " range: off " + off + ", len " + len + " of length "
                    + (v == null ? "null" : v.length) + " (expected: len >= 1 and 0 <= off <= length - len)");
        }
    }

    private void ensureCapacity(int slots) {
        if (slots > state.length) {
            int old = state.length;
            int grown = Math.max(slots, old * 2);
            state = Arrays.copyOf(state, grown);
            position = Arrays.copyOf(position, grown);
            Arrays.fill(position, old, grown, -1);
            recentQueue.ensureSlotCapacity(grown);
            grow(grown);
        }
    }

    /** Grows the subclass's per-slot arrays to at least {@code slots} entries. */
    protected abstract void grow(int slots);

    /** A token was appended into {@code slot}: reset its per-slot state (scores of an evicted token are gone). */
    protected abstract void appended(int slot);

    /** The token in {@code slot} left the recent window and is now a candidate. */
    protected abstract void admit(int slot);

    /**
     * Removes the {@code count} candidates to evict from the candidate structure and writes their slots
     * into {@code out[0 .. count - 1]}; returns {@code count}. At least {@code count} candidates exist.
     */
    protected abstract int selectVictims(int count, int[] out);

    /** The candidate in {@code fromSlot} moved to {@code toSlot}: rename it in the candidate structure. */
    protected abstract void moveCandidate(int fromSlot, int toSlot);

    /** Any live token moved from {@code fromSlot} to {@code toSlot}: move its per-slot state. */
    protected abstract void moved(int fromSlot, int toSlot);

    /** The token in {@code slot} was evicted (its slot is free now). */
    protected void released(int slot) {
    }

    /** Forgets all candidates (called by {@link #reset()}). */
    protected abstract void clearCandidates();

    @Override
    public abstract BudgetedPolicy copy();
}
