package io.pagedkv.eviction;

/**
 * StreamingLLM: keeps the first {@code sinks} tokens (the "attention sinks") and the newest tokens up
 * to the budget; evicts the oldest token between them.
 *
 * <p>The budget counts every kept token, the sinks included: {@code new AttentionSinks(64)} keeps 4
 * sinks and the 60 newest tokens. The evicted tokens always form one contiguous run of positions
 * between the sinks and the newest tokens.
 *
 * <p><b>Block-aware with a quantum.</b> With quantum Q > 1 (Q = the block size), the first
 * {@code ceil(sinks / Q) * Q} tokens are kept, not only the sinks: a block that holds a sink can never
 * be released, so evicting the other tokens of that block would only leave holes that a later append
 * reuses, scattering new tokens over old blocks so that later evictions rarely empty a whole block
 * (measured: 4 sinks, blocks of 16, budget 64, 400 steps: 4 of 21 evictions released a block). Keeping
 * the sink block whole costs no memory (the block is held anyway) and makes every eviction a whole
 * block of consecutive positions, released with no copy ({@code AttentionSinksTest}). {@link
 * #sinks()} reports the rounded count.
 *
 * <p>Invariant: after each {@code evict} the sinks and the newest tokens are live, and the cache never
 * exceeds the budget once the new tokens are placed. O(1) per step; attention-free. Not thread-safe.
 */
public final class AttentionSinks extends BudgetedPolicy {

    /** StreamingLLM's default number of sink tokens. */
    public static final int DEFAULT_SINKS = 4;

    private final SlotQueue middle;

    /** {@value #DEFAULT_SINKS} sinks, {@code budget} tokens kept in all, token-granular. */
    public AttentionSinks(int budget) {
        this(budget, DEFAULT_SINKS);
    }

    /** {@code sinks} sinks, {@code budget} tokens kept in all (sinks included), token-granular. */
    public AttentionSinks(int budget, int sinks) {
        this(Budget.tokens(budget), sinks, 1);
    }

    /**
     * {@code sinks} sinks (rounded up to whole quanta when {@code quantum > 1}), {@code budget} tokens
     * kept in all, evicting whole quanta of {@code quantum} tokens.
     *
     * @throws IllegalArgumentException if {@code sinks < 0}, {@code quantum < 1}, or the budget is
     *     below the (rounded) sinks plus one quantum
     */
    public AttentionSinks(Budget budget, int sinks, int quantum) {
        super(budget, roundedSinks(sinks, quantum), 0, quantum);
        this.middle = new SlotQueue(budget.minTokens() + quantum + 1);
    }

    private AttentionSinks(AttentionSinks other) {
        super(other);
        this.middle = other.middle.copy();
    }

    private static int roundedSinks(int sinks, int quantum) {
        if (sinks < 0) {
            throw new IllegalArgumentException("sinks: " + sinks + " (expected: >= 0)");
        }
        if (quantum < 1) {
            throw new IllegalArgumentException("quantum: " + quantum + " (expected: >= 1)");
        }
        long r = ((long) sinks + quantum - 1) / quantum * quantum;
        if (r > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sinks: " + sinks + " rounded to quantum " + quantum + " (expected: <= "
                    + Integer.MAX_VALUE + ")");
        }
        return (int) r;
    }

    @Override
    public AttentionSinks copy() {
        return new AttentionSinks(this);
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "sinks(" + budget() + ",first=" + sinks() + q + ")";
    }

    @Override
    protected void grow(int slots) {
        middle.ensureSlotCapacity(slots);
    }

    @Override
    protected void appended(int slot) {
    }

    @Override
    protected void admit(int slot) {
        middle.addLast(slot);
    }

    @Override
    protected int selectVictims(int count, int[] out) {
        for (int i = 0; i < count; i++) {
            out[i] = middle.removeFirst();
        }
        return count;
    }

    @Override
    protected void moveCandidate(int fromSlot, int toSlot) {
        middle.move(fromSlot, toSlot);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
    }

    @Override
    protected void clearCandidates() {
        middle.clear();
    }
}
