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
 * {@link #evict} runs and more than {@code recent} tokens are newer. Since {@code budget >= sinks +
 * recent}, there are always at least {@code liveTokens() - budget} candidates, so the budget bound of
 * {@link EvictionPolicy} holds after every {@code evict}.
 *
 * <p>Per-slot arrays grow by doubling when a larger slot first appears: amortised, and never in steady
 * state (slot reuse keeps slots below {@code budget + quantum}). Not thread-safe.
 */
public abstract class BudgetedPolicy implements EvictionPolicy {

    private static final byte FREE = 0;
    private static final byte SINK = 1;
    private static final byte RECENT = 2;
    private static final byte CANDIDATE = 3;

    private final int budget;
    private final int sinks;
    private final int recent;
    private final int quantum;
    private final SlotQueue recentQueue;
    private byte[] state;
    private int[] position;
    private int live;
    private long appended;

    /**
     * A policy skeleton.
     *
     * @param budget tokens kept after an eviction (B), at least {@code sinks + recent} and at least 1
     * @param sinks first tokens never evicted, >= 0
     * @param recent newest tokens never evicted, >= 0
     * @param quantum tokens evicted at once, >= 1 (1: token granular; block size: block granular)
     * @throws IllegalArgumentException naming the value and its limit
     */
    protected BudgetedPolicy(int budget, int sinks, int recent, int quantum) {
        if (sinks < 0) {
            throw new IllegalArgumentException("sinks: " + sinks + " (expected: >= 0)");
        }
        if (recent < 0) {
            throw new IllegalArgumentException("recent: " + recent + " (expected: >= 0)");
        }
        if (budget < 1 || (long) budget < (long) sinks + recent) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: >= 1 and >= sinks + recent = "
                    + ((long) sinks + recent) + ")");
        }
        if (quantum < 1) {
            throw new IllegalArgumentException("quantum: " + quantum + " (expected: >= 1)");
        }
        this.budget = budget;
        this.sinks = sinks;
        this.recent = recent;
        this.quantum = quantum;
        int initial = (int) Math.min(1 << 20, (long) budget + quantum + 1);
        this.recentQueue = new SlotQueue(initial);
        this.state = new byte[initial];
        this.position = new int[initial];
        Arrays.fill(position, -1);
    }

    @Override
    public final int budget() {
        return budget;
    }

    @Override
    public final int quantum() {
        return quantum;
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
        return state[slot] == CANDIDATE;
    }

    @Override
    public final int positionOf(int slot) {
        return slot >= 0 && slot < position.length ? position[slot] : -1;
    }

    /** Slots this policy currently has arrays for (the largest slot seen plus one, or more). */
    protected final int slotCapacity() {
        return state.length;
    }

    @Override
    public final int liveSlots(int[] slotsOut) {
        if (slotsOut.length < live) {
            throw new IllegalArgumentException("slotsOut.length: " + slotsOut.length + " (expected: >= liveTokens "
                    + live + ")");
        }
        int n = 0;
        for (int s = 0; s < state.length && n < live; s++) {
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
    public final int pendingEvictions() {
        int excess = live - budget;
        return excess >= quantum ? excess : 0;
    }

    @Override
    public final int evict(int[] victims) {
        int count = pendingEvictions();
        if (victims.length < count) {
            throw new IllegalArgumentException("victims.length: " + victims.length + " (expected: >= " + count
                    + " tokens to evict)");
        }
        while (recentQueue.size() > recent) {
            int slot = recentQueue.removeFirst();
            state[slot] = CANDIDATE;
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
        appended = 0;
    }

    @Override
    public String toString() {
        return name();
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
}
