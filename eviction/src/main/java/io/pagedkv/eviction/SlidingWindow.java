package io.pagedkv.eviction;

/**
 * Keeps the last {@code window} tokens and nothing else: the plain sliding window.
 *
 * <p>Invariant: after each {@link #evict}, with quantum 1, the live tokens are exactly the last
 * {@code min(window, appended)} tokens appended. With a quantum Q (block granularity) the oldest Q or
 * more are dropped at once, so up to {@code window + Q - 1} are kept. O(1) per step; attention-free.
 * Not thread-safe.
 */
public final class SlidingWindow extends BudgetedPolicy {

    private final SlotQueue old;

    /** A token-granular window of {@code window} tokens. */
    public SlidingWindow(int window) {
        this(window, 1);
    }

    /**
     * A window of {@code window} tokens that evicts {@code quantum} or more at once.
     *
     * @throws IllegalArgumentException if {@code window < 1} or {@code quantum < 1}
     */
    public SlidingWindow(int window, int quantum) {
        super(window, 0, window, quantum);
        this.old = new SlotQueue(window + quantum + 1);
    }

    @Override
    public String name() {
        return quantum() == 1 ? "window(" + budget() + ")" : "window(" + budget() + ",q=" + quantum() + ")";
    }

    @Override
    protected void grow(int slots) {
        old.ensureSlotCapacity(slots);
    }

    @Override
    protected void appended(int slot) {
    }

    @Override
    protected void admit(int slot) {
        old.addLast(slot);
    }

    @Override
    protected int selectVictims(int count, int[] out) {
        for (int i = 0; i < count; i++) {
            out[i] = old.removeFirst();
        }
        return count;
    }

    @Override
    protected void moveCandidate(int fromSlot, int toSlot) {
        old.move(fromSlot, toSlot);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
    }

    @Override
    protected void clearCandidates() {
        old.clear();
    }
}
