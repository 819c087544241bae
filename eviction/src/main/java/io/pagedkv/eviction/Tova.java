package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * TOVA (token omission via attention): keeps the {@code budget} tokens with the largest weight in the
 * current query's attention row only, with no memory of earlier rows and no protected window.
 *
 * <p>A token not yet scored by any row (appended after the last {@link #onAttention}) ranks above
 * every scored one. Ties evict the oldest. One pass over the row and one over the candidates per
 * step; no sort, no allocation. Not thread-safe.
 */
public final class Tova extends ScoredPolicy {

    private float[] last;

    /** Token-granular TOVA keeping {@code budget} tokens. */
    public Tova(int budget) {
        this(budget, 1);
    }

    /**
     * TOVA evicting {@code quantum} or more tokens at once.
     *
     * @throws IllegalArgumentException if {@code budget < 1} or {@code quantum < 1}
     */
    public Tova(int budget, int quantum) {
        super(budget, 0, 0, quantum);
        this.last = new float[slotCapacity()];
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
    public void onAttention(float[] scores, int slotCount) {
        if (slotCount > scores.length) {
            throw new IllegalArgumentException("slotCount: " + slotCount + " (expected: <= scores.length "
                    + scores.length + ")");
        }
        int n = Math.min(slotCount, last.length);
        System.arraycopy(scores, 0, last, 0, n);
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
