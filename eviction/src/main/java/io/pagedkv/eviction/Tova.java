package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * TOVA (token omission via attention): keeps the {@code budget} tokens with the largest weight in the
 * current observation only (the last decode step's rows, summed over layers and heads), with no memory
 * of earlier steps and no protected window.
 *
 * <p>A token not yet covered by any row (appended after the last observation) ranks above every scored
 * one. Ties evict the oldest. One pass over each row and one over the candidates per step; no sort, no
 * allocation. Not thread-safe.
 */
public final class Tova extends ScoredPolicy {

    private float[] last;
    private int observedSlots;

    /** Token-granular TOVA keeping {@code budget} tokens. */
    public Tova(int budget) {
        this(Budget.tokens(budget), 1);
    }

    /**
     * TOVA keeping {@code budget} tokens, evicting whole quanta of {@code quantum}.
     *
     * @throws IllegalArgumentException if {@code quantum < 1} or the budget is below it
     */
    public Tova(Budget budget, int quantum) {
        super(budget, 0, 0, quantum);
        this.last = new float[slotCapacity()];
    }

    private Tova(Tova other) {
        super(other);
        this.last = other.last.clone();
        this.observedSlots = other.observedSlots;
    }

    @Override
    public Tova copy() {
        return new Tova(this);
    }

    @Override
    public String name() {
        return quantum() == 1 ? "tova(" + budget() + ")" : "tova(" + budget() + ",q=" + quantum() + ")";
    }

    @Override
    public boolean usesAttention() {
        return true;
    }

    @Override
    public void onAttention(int layer, int queryHead, float[] weights, int off, int slotCount) {
        checkRow(weights, off, slotCount);
        if (startsObservation()) {
            observedSlots = 0;
        }
        if (slotCount > observedSlots) {
            Arrays.fill(last, observedSlots, slotCount, 0f); // a new observation replaces the old scores
            observedSlots = slotCount;
        }
        float[] l = last;
        for (int i = 0; i < slotCount; i++) {
            l[i] += weights[off + i];
        }
    }

    @Override
    float score(int slot) {
        return last[slot];
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        last = Arrays.copyOf(last, slots);
    }

    @Override
    protected void appended(int slot) {
        last[slot] = Float.POSITIVE_INFINITY;
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        last[toSlot] = last[fromSlot];
        last[fromSlot] = 0f;
    }
}
