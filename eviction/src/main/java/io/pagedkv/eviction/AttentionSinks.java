package io.pagedkv.eviction;

/**
 * StreamingLLM: keeps the first {@code sinks} tokens (the "attention sinks") and the last
 * {@code recent} tokens; evicts the oldest token between them.
 *
 * <p>The evicted tokens always form one contiguous run of positions between the sinks and the recent
 * window, so with quantum = block size the run is released by whole blocks (block-granular) and the
 * sinks stay in place. Invariant: after each {@link #evict} the sinks and the last {@code recent}
 * tokens are live, and at most {@code sinks + recent + quantum - 1} tokens are. O(1) per step;
 * attention-free. Not thread-safe.
 */
public final class AttentionSinks extends BudgetedPolicy {

    /** StreamingLLM's default number of sink tokens. */
    public static final int DEFAULT_SINKS = 4;

    private final SlotQueue middle;

    /** Four sinks and {@code recent} recent tokens, token-granular. */
    public AttentionSinks(int recent) {
        this(DEFAULT_SINKS, recent, 1);
    }

    /**
     * {@code sinks} first tokens plus {@code recent} last tokens, evicting {@code quantum} or more at once.
     *
     * @throws IllegalArgumentException if a count is negative, both are 0, or {@code quantum < 1}
     */
    public AttentionSinks(int sinks, int recent, int quantum) {
        super(checkedBudget(sinks, recent), sinks, recent, quantum);
        this.middle = new SlotQueue(sinks + recent + quantum + 1);
    }

    private static int checkedBudget(int sinks, int recent) {
        long b = (long) sinks + recent;
        if (sinks < 0 || recent < 0 || b < 1 || b > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sinks: " + sinks + ", recent: " + recent
                    + " (expected: both >= 0 and 1 <= sinks + recent <= " + Integer.MAX_VALUE + ")");
        }
        return (int) b;
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "sinks(" + sinks() + "+" + recent() + q + ")";
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
