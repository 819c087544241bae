package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * H2O, the heavy-hitter oracle: keeps the last {@code recent} tokens plus the {@code heavy} tokens
 * outside that window with the largest accumulated attention.
 *
 * <p>Each token's score starts at 0 when it is appended and adds the reduced weight of every later
 * {@link #onAttention} row: {@link Accumulation#SUM} keeps the raw sum (as the paper), {@link
 * Accumulation#NORM_SUM} divides it by the number of rows that saw the token, so old tokens are not
 * favoured for having been seen more often. An evicted token's score is dropped for good (its slot
 * starts again at 0). Among candidates the smallest score is evicted; ties evict the oldest position.
 * Defaults ({@link #forPrompt}): 10% heavy + 10% recent of the prompt, as the paper's scripts use.
 *
 * <p>Cost per decode step: one pass over the row (accumulate) and one pass over the candidates (pick
 * the minimum); no sort, no allocation. Not thread-safe.
 */
public final class HeavyHitters extends ScoredPolicy {

    /** How a token's attention is accumulated over the queries that saw it. */
    public enum Accumulation {
        /** Raw sum of the softmax weights the token received (H2O paper). */
        SUM,
        /** The sum divided by the number of queries that saw the token (a mean). */
        NORM_SUM
    }

    private final int heavy;
    private final Accumulation accumulation;
    private float[] sum;
    private int[] seen;

    /** Token-granular H2O with {@code heavy} heavy hitters and {@code recent} recent tokens. */
    public HeavyHitters(int heavy, int recent, Accumulation accumulation) {
        this(heavy, recent, accumulation, 1);
    }

    /**
     * H2O evicting {@code quantum} or more tokens at once.
     *
     * @throws IllegalArgumentException if a count is negative, {@code heavy + recent < 1}, or the
     *     accumulation is null
     */
    public HeavyHitters(int heavy, int recent, Accumulation accumulation, int quantum) {
        super(checkedBudget(heavy, recent), 0, recent, quantum);
        if (accumulation == null) {
            throw new IllegalArgumentException("accumulation: null (expected: SUM or NORM_SUM)");
        }
        this.heavy = heavy;
        this.accumulation = accumulation;
        this.sum = new float[slotCapacity()];
        this.seen = new int[slotCapacity()];
    }

    /** The paper's default for a prompt of {@code promptTokens}: 10% heavy + 10% recent (each at least 1). */
    public static HeavyHitters forPrompt(int promptTokens, Accumulation accumulation) {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 1)");
        }
        int tenth = Math.max(1, (int) Math.round(promptTokens * 0.1));
        return new HeavyHitters(tenth, tenth, accumulation);
    }

    private static int checkedBudget(int heavy, int recent) {
        long b = (long) heavy + recent;
        if (heavy < 0 || recent < 0 || b < 1 || b > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("heavy: " + heavy + ", recent: " + recent
                    + " (expected: both >= 0 and 1 <= heavy + recent <= " + Integer.MAX_VALUE + ")");
        }
        return (int) b;
    }

    /** Heavy hitters kept outside the recent window. */
    public int heavy() {
        return heavy;
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
        return "h2o(" + heavy + "+" + recent() + acc + q + ")";
    }

    @Override
    public boolean usesAttention() {
        return true;
    }

    @Override
    public void onAttention(float[] scores, int slotCount) {
        int n = Math.min(slotCount, sum.length);
        if (slotCount > scores.length) {
            throw new IllegalArgumentException("slotCount: " + slotCount + " (expected: <= scores.length "
                    + scores.length + ")");
        }
        float[] s = sum;
        int[] c = seen;
        for (int i = 0; i < n; i++) {
            s[i] += scores[i];
            c[i]++;
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
}
