package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * H2O, the heavy-hitter oracle: keeps the last {@code recent} tokens plus, up to the budget, the
 * tokens outside that window with the largest accumulated attention.
 *
 * <p>The budget counts every kept token: {@code new HeavyHitters(64, 32, SUM)} keeps the 32 newest
 * tokens and the 32 heaviest of the others. Each token's score starts at 0 when it is appended and
 * adds every attention weight it receives afterwards, summed over layers and heads: {@link
 * Accumulation#SUM} keeps the raw sum (as the paper), {@link Accumulation#NORM_SUM} divides it by the
 * number of observations (decode steps, see {@link EvictionPolicy}) that saw the token, so old tokens
 * are not favoured for having been seen more often. An evicted token's score is dropped for good (its
 * slot starts again at 0). Among candidates the smallest score is evicted; ties evict the oldest
 * position. {@link #forPrompt}: 10% heavy + 10% recent of the prompt, as the paper's scripts use.
 *
 * <p>Cost per decode step: one pass over each attention row (accumulate) and one pass over the
 * candidates (pick the minimum); no sort, no allocation. Not thread-safe.
 */
public final class HeavyHitters extends ScoredPolicy {

    /** How a token's attention is accumulated over the queries that saw it. */
    public enum Accumulation {
        /** Raw sum of the softmax weights the token received (H2O paper). */
        SUM,
        /** The sum divided by the number of observations that saw the token (a mean). */
        NORM_SUM
    }

    private final Accumulation accumulation;
    private float[] sum;
    private int[] seen;
    private int observedSlots;

    /** Token-granular H2O keeping {@code budget} tokens, of which the {@code recent} newest. */
    public HeavyHitters(int budget, int recent, Accumulation accumulation) {
        this(Budget.tokens(budget), recent, accumulation, 1);
    }

    /**
     * H2O keeping {@code budget} tokens, of which the {@code recent} newest, evicting whole quanta.
     *
     * @throws IllegalArgumentException if {@code recent < 0}, {@code quantum < 1}, the budget is below
     *     {@code recent + quantum}, or the accumulation is null
     */
    public HeavyHitters(Budget budget, int recent, Accumulation accumulation, int quantum) {
        super(budget, 0, recent, quantum);
        if (accumulation == null) {
            throw new IllegalArgumentException("accumulation: null (expected: SUM or NORM_SUM)");
        }
        this.accumulation = accumulation;
        this.sum = new float[slotCapacity()];
        this.seen = new int[slotCapacity()];
    }

    private HeavyHitters(HeavyHitters other) {
        super(other);
        this.accumulation = other.accumulation;
        this.sum = other.sum.clone();
        this.seen = other.seen.clone();
        this.observedSlots = other.observedSlots;
    }

    /** The paper's default for a prompt of {@code promptTokens}: 10% heavy + 10% recent (each at least 1). */
    public static HeavyHitters forPrompt(int promptTokens, Accumulation accumulation) {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 1)");
        }
        int tenth = Math.max(1, (int) Math.round(promptTokens * 0.1));
        return new HeavyHitters(2 * tenth, tenth, accumulation);
    }

    @Override
    public HeavyHitters copy() {
        return new HeavyHitters(this);
    }

    /** The accumulation rule. */
    public Accumulation accumulation() {
        return accumulation;
    }

    /** The accumulated score of the token in {@code slot} under this policy's rule (0 if free). */
    public float scoreOf(int slot) {
        return isLive(slot) ? score(slot) : 0f;
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        String acc = accumulation == Accumulation.SUM ? "" : ",norm";
        return "h2o(" + budget() + ",recent=" + recent() + acc + q + ")";
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
        int[] c = seen;
        if (slotCount > observedSlots) {
            for (int i = observedSlots; i < slotCount; i++) {
                c[i]++; // once per observation; a free slot's count is reset when it is reused
            }
            observedSlots = slotCount;
        }
        float[] s = sum;
        for (int i = 0; i < slotCount; i++) {
            s[i] += weights[off + i];
        }
    }

    @Override
    float score(int slot) {
        if (accumulation == Accumulation.SUM) {
            return sum[slot];
        }
        int c = seen[slot];
        return c == 0 ? 0f : sum[slot] / c;
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        sum = Arrays.copyOf(sum, slots);
        seen = Arrays.copyOf(seen, slots);
    }

    @Override
    protected void appended(int slot) {
        sum[slot] = 0f;
        seen[slot] = 0;
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        sum[toSlot] = sum[fromSlot];
        seen[toSlot] = seen[fromSlot];
        sum[fromSlot] = 0f;
        seen[fromSlot] = 0;
    }

    @Override
    protected void released(int slot) {
        sum[slot] = 0f;
        seen[slot] = 0;
    }

    @Override
    public void reset() {
        super.reset();
        Arrays.fill(sum, 0f);
        Arrays.fill(seen, 0);
        observedSlots = 0;
    }
}
