package io.pagedkv.eviction;

/**
 * A policy that evicts the candidate with the smallest score, ties going to the oldest position.
 *
 * <p>Selection never sorts: one victim is found by one pass over the candidates (the same pass length
 * as the attention row the score came from); a batch of k victims (after a prefill) builds a heap in
 * O(n) and pops k in O(k log n). A subclass whose scores depend on the whole cache (KeyDiff's anchor)
 * computes them in {@link #beforeSelection()}. Not thread-safe.
 */
abstract class ScoredPolicy extends BudgetedPolicy implements SlotOrder {

    private final SlotSet candidates;
    private final SlotHeap batch;

    ScoredPolicy(Budget budget, int sinks, int recent, int quantum) {
        super(budget, sinks, recent, quantum);
        int initial = slotCapacity();
        this.candidates = new SlotSet(initial);
        this.batch = new SlotHeap(this, initial);
    }

    ScoredPolicy(ScoredPolicy other) {
        super(other);
        this.candidates = other.candidates.copy();
        this.batch = new SlotHeap(this, slotCapacity());
    }

    /** The score of the token in {@code slot}; smaller is evicted first. */
    abstract float score(int slot);

    /** Called once per eviction before any {@link #score} of a candidate is read. */
    void beforeSelection() {
    }

    /** The candidates, for subclasses that score them all at once. */
    final SlotSet candidates() {
        return candidates;
    }

    @Override
    public final boolean evictsBefore(int a, int b) {
        float sa = score(a);
        float sb = score(b);
        if (sa != sb) {
            return sa < sb;
        }
        return positionOf(a) < positionOf(b);
    }

    @Override
    protected void grow(int slots) {
        candidates.ensureSlotCapacity(slots);
        batch.ensureSlotCapacity(slots);
    }

    @Override
    protected final void admit(int slot) {
        candidates.add(slot);
    }

    @Override
    protected final int selectVictims(int count, int[] out) {
        beforeSelection();
        if (count == 1) {
            int best = candidates.get(0);
            float bestScore = score(best);
            int bestPosition = positionOf(best);
            for (int i = 1, n = candidates.size(); i < n; i++) {
                int s = candidates.get(i);
                float sc = score(s);
                if (sc < bestScore || (sc == bestScore && positionOf(s) < bestPosition)) {
                    best = s;
                    bestScore = sc;
                    bestPosition = positionOf(s);
                }
            }
            candidates.remove(best);
            out[0] = best;
            return 1;
        }
        batch.clear();
        for (int i = 0, n = candidates.size(); i < n; i++) {
            batch.addUnordered(candidates.get(i));
        }
        batch.heapify();
        for (int i = 0; i < count; i++) {
            int s = batch.poll();
            candidates.remove(s);
            out[i] = s;
        }
        batch.clear();
        return count;
    }

    @Override
    protected final void moveCandidate(int fromSlot, int toSlot) {
        candidates.move(fromSlot, toSlot);
    }

    @Override
    protected final void clearCandidates() {
        candidates.clear();
    }
}
