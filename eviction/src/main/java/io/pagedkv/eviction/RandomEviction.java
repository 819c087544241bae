package io.pagedkv.eviction;

/**
 * The random baseline: evicts candidates uniformly at random (kvpress's {@code RandomPress}), from a
 * seeded generator, so that a policy that means something can be told apart from one that does not.
 *
 * <p>The budget counts every kept token; {@code sinks} first and {@code recent} newest tokens are
 * protected as in {@link BudgetedPolicy} (0 and 0 for the plain baseline). The generator is a
 * SplitMix64 whose state is part of the policy, so a {@link #copy()} draws the same victims as the
 * original on the same future. O(1) per victim; no allocation. Not thread-safe.
 */
public final class RandomEviction extends BudgetedPolicy {

    private final long seed;
    private final SlotSet candidates;
    private long state;

    /** Token-granular random eviction keeping {@code budget} tokens, drawing from {@code seed}. */
    public RandomEviction(int budget, long seed) {
        this(Budget.tokens(budget), 0, 0, 1, seed);
    }

    /**
     * Random eviction with protected sinks and recent tokens, evicting whole quanta.
     *
     * @throws IllegalArgumentException naming the value and its limit (see {@link BudgetedPolicy})
     */
    public RandomEviction(Budget budget, int sinks, int recent, int quantum, long seed) {
        super(budget, sinks, recent, quantum);
        this.seed = seed;
        this.state = seed;
        this.candidates = new SlotSet(slotCapacity());
    }

    private RandomEviction(RandomEviction other) {
        super(other);
        this.seed = other.seed;
        this.state = other.state;
        this.candidates = other.candidates.copy();
    }

    @Override
    public RandomEviction copy() {
        return new RandomEviction(this);
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        String protect = sinks() == 0 && recent() == 0 ? "" : ",sinks=" + sinks() + ",recent=" + recent();
        return "random(" + budget() + protect + q + ")";
    }

    private int nextInt(int bound) {
        state += 0x9E3779B97F4A7C15L;
        long z = state;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) (((z >>> 33) * bound) >>> 31);
    }

    @Override
    protected void grow(int slots) {
        candidates.ensureSlotCapacity(slots);
    }

    @Override
    protected void appended(int slot) {
    }

    @Override
    protected void admit(int slot) {
        candidates.add(slot);
    }

    @Override
    protected int selectVictims(int count, int[] out) {
        for (int i = 0; i < count; i++) {
            int s = candidates.get(nextInt(candidates.size()));
            candidates.remove(s);
            out[i] = s;
        }
        return count;
    }

    @Override
    protected void moveCandidate(int fromSlot, int toSlot) {
        candidates.move(fromSlot, toSlot);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
    }

    @Override
    protected void clearCandidates() {
        candidates.clear();
    }

    @Override
    public void reset() {
        super.reset();
        state = seed;
    }
}
