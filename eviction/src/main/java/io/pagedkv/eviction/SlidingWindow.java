package io.pagedkv.eviction;

/**
 * Keeps the last {@code budget} tokens and nothing else: the plain sliding window.
 *
 * <p>Invariant: with quantum 1, after {@code evict(incoming, ...)} and the placement of the
 * {@code incoming} tokens, the live tokens are exactly the last {@code min(budget, appended)} tokens
 * appended. With a quantum Q (block granularity) the oldest Q are dropped at once, so between
 * {@code budget - Q + 1} and {@code budget} of the newest are kept, and since tokens enter the cache
 * in order and leave oldest first, each eviction of a block-aligned quantum empties a whole block.
 * O(1) per step; attention-free. Not thread-safe.
 */
public final class SlidingWindow extends BudgetedPolicy {

    private final SlotQueue old;

    /** A token-granular window of {@code budget} tokens. */
    public SlidingWindow(int budget) {
        this(Budget.tokens(budget), 1);
    }

    /**
     * A window of {@code budget} tokens that evicts whole quanta of {@code quantum} tokens.
     *
     * @throws IllegalArgumentException if {@code quantum < 1} or the budget is below the quantum
     */
    public SlidingWindow(Budget budget, int quantum) {
        super(budget, 0, 0, quantum);
        this.old = new SlotQueue(budget.minTokens() + quantum + 1);
    }

    private SlidingWindow(SlidingWindow other) {
        super(other);
        this.old = other.old.copy();
    }

    @Override
    public SlidingWindow copy() {
        return new SlidingWindow(this);
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
