package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * LagKV (Liang et al., 2025, "LagKV: Lag-Relative Information of the KV Cache Tells Which Tokens Are
 * Important"): scores each token from its own keys and values against the next stretch of tokens,
 * with no attention weights.
 *
 * <p>After the {@code sinks} first tokens, the stream is cut into partitions of {@code lag} tokens. When
 * partition {@code i + 1} is complete, partition {@code i} is scored against it: per (layer, KV head)
 * fed and per channel, the reference range is the min and max of that channel over partition {@code
 * i + 1}; a token's key is min-max normalised by it, the standard deviation of the normalised channels
 * is the key's raw score, and a softmax over the partition turns raw scores into shares; the same for
 * values, and the token's score is the mean of its key and value shares over the heads fed (kvpress's
 * {@code LagKVPress} averages key and value shares per head; one decision shared by all heads averages
 * the heads). Within a partition the scores are replaced by their ranks divided by {@code lag} (kvpress's
 * default, non-cross scoring), so every scored partition loses its lowest-ranked tokens first and ties
 * across partitions evict the oldest. Tokens of partitions not scored yet (the last complete one and
 * the one being filled: at most {@code 2 lag - 1}) are kept, as are the sinks.
 *
 * <p>A channel whose reference range is 0 contributes 0 (kvpress would divide by 0). The budget counts
 * every kept token and must be at least {@code sinks + 2 lag + quantum}, so that the unscored tail never
 * has to be evicted. Memory: the keys and values of the unscored tokens, at most {@code 2 lag - 1}
 * tokens in decode (a whole prompt between a prefill and its compression) x heads fed x head dim x 2
 * floats. Scoring a partition costs O(lag x heads x head dim), once per {@code lag} tokens. Not
 * thread-safe.
 */
public final class LagKv extends ScoredPolicy {

    private final int lag;
    private final HeadPairs pairs;
    /** Keys and values of the unscored tokens, [pair][(appendIndex - bufferStart) * dim + c]. */
    private float[][] bufKeys;
    private float[][] bufValues;
    /** Slot of each unscored token by (appendIndex - bufferStart), -1 once evicted. */
    private int[] bufSlot;
    private long bufferStart;
    private long[] orderOfSlot;
    private float[] score;
    // scratch for one partition
    private final double[] raw;
    private final double[] share;
    private float[] loScratch = new float[0];
    private float[] hiScratch = new float[0];
    private final int[] rankOrder;

    /** Token-granular LagKV keeping {@code budget} tokens with {@code sinks} sinks and partitions of {@code lag}. */
    public LagKv(int budget, int sinks, int lag) {
        this(Budget.tokens(budget), sinks, lag, 1);
    }

    /**
     * LagKV evicting whole quanta.
     *
     * @throws IllegalArgumentException if {@code lag < 1}, or the budget is below {@code sinks + 2 lag
     *     + quantum}, or another count is out of range (see {@link BudgetedPolicy})
     */
    public LagKv(Budget budget, int sinks, int lag, int quantum) {
        super(checked(budget, sinks, lag, quantum), sinks, 0, quantum);
        this.lag = lag;
        this.pairs = new HeadPairs();
        this.bufKeys = new float[0][];
        this.bufValues = new float[0][];
        this.bufSlot = new int[Math.max(16, 2 * lag)];
        this.bufferStart = sinks;
        this.orderOfSlot = new long[slotCapacity()];
        this.score = new float[slotCapacity()];
        this.raw = new double[lag];
        this.share = new double[lag];
        this.rankOrder = new int[lag];
    }

    private LagKv(LagKv o) {
        super(o);
        this.lag = o.lag;
        this.pairs = new HeadPairs(o.pairs);
        this.bufKeys = deep(o.bufKeys);
        this.bufValues = deep(o.bufValues);
        this.bufSlot = o.bufSlot.clone();
        this.bufferStart = o.bufferStart;
        this.orderOfSlot = o.orderOfSlot.clone();
        this.score = o.score.clone();
        this.raw = new double[lag];
        this.share = new double[lag];
        this.rankOrder = new int[lag];
    }

    private static float[][] deep(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static Budget checked(Budget budget, int sinks, int lag, int quantum) {
        if (lag < 1) {
            throw new IllegalArgumentException("lag: " + lag + " (expected: >= 1)");
        }
        if (budget != null && sinks >= 0 && quantum >= 1
                && budget.minTokens() < (long) sinks + 2L * lag + quantum) {
            throw new IllegalArgumentException("budget: " + budget + " tokens (expected: >= sinks " + sinks + " + 2 x lag "
                    + lag + " + quantum " + quantum + " = " + ((long) sinks + 2L * lag + quantum)
                    + ", so the unscored partitions are never evicted)");
        }
        return budget;
    }

    @Override
    public LagKv copy() {
        return new LagKv(this);
    }

    /** Tokens per partition. */
    public int lag() {
        return lag;
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "lagkv(" + budget() + ",sinks=" + sinks() + ",lag=" + lag + q + ")";
    }

    @Override
    public boolean usesKeys() {
        return true;
    }

    @Override
    public boolean usesValues() {
        return true;
    }

    @Override
    public void onKey(int layer, int kvHead, int slot, float[] key, int off, int len) {
        store(true, layer, kvHead, slot, key, off, len);
    }

    @Override
    public void onValue(int layer, int kvHead, int slot, float[] value, int off, int len) {
        store(false, layer, kvHead, slot, value, off, len);
    }

    private void store(boolean isKey, int layer, int head, int slot, float[] v, int off, int len) {
        checkVector(isKey ? "key" : "value", layer, head, slot, v, off, len);
        long order = orderOfSlot[slot];
        if (order < bufferStart) {
            return; // a sink or an already scored token: its vectors are no longer needed
        }
        int p = pairs.index(layer, head, len);
        if (p == bufKeys.length) {
            bufKeys = Arrays.copyOf(bufKeys, p + 1);
            bufValues = Arrays.copyOf(bufValues, p + 1);
            bufKeys[p] = new float[bufSlot.length * len];
            bufValues[p] = new float[bufSlot.length * len];
        }
        float[] dst = isKey ? bufKeys[p] : bufValues[p];
        System.arraycopy(v, off, dst, (int) (order - bufferStart) * len, len);
    }

    @Override
    void beforeSelection() {
        while (appended() - bufferStart >= 2L * lag) {
            scoreOldestPartition();
        }
    }

    /** Scores partition [bufferStart, bufferStart + lag) against the next one and drops its vectors. */
    private void scoreOldestPartition() {
        int dim = pairs.dim();
        Arrays.fill(share, 0);
        int heads = bufKeys.length;
        for (int p = 0; p < heads; p++) {
            addShares(bufKeys[p], dim);
            addShares(bufValues[p], dim);
        }
        // rank within the partition: ascending total share, ties by order
        for (int j = 0; j < lag; j++) {
            rankOrder[j] = j;
        }
        sortByShare();
        for (int rank = 0; rank < lag; rank++) {
            int j = rankOrder[rank];
            int slot = bufSlot[j];
            if (slot >= 0) {
                score[slot] = (float) rank / lag;
            }
        }
        // drop the partition from the buffer
        int keep = (int) (appended() - bufferStart) - lag;
        System.arraycopy(bufSlot, lag, bufSlot, 0, keep);
        for (int p = 0; p < heads; p++) {
            System.arraycopy(bufKeys[p], lag * dim, bufKeys[p], 0, keep * dim);
            System.arraycopy(bufValues[p], lag * dim, bufValues[p], 0, keep * dim);
        }
        bufferStart += lag;
    }

    /** Adds to {@code share[j]} the softmax over the partition of each token's normalised-channel std. */
    private void addShares(float[] buf, int dim) {
        float[] min = scratchLo(dim);
        float[] max = scratchHi(dim);
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int j = lag; j < 2 * lag; j++) {
            int base = j * dim;
            for (int c = 0; c < dim; c++) {
                float x = buf[base + c];
                min[c] = Math.min(min[c], x);
                max[c] = Math.max(max[c], x);
            }
        }
        double best = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < lag; j++) {
            int base = j * dim;
            double mean = 0;
            for (int c = 0; c < dim; c++) {
                mean += normalised(buf[base + c], min[c], max[c]);
            }
            mean /= dim;
            double var = 0;
            for (int c = 0; c < dim; c++) {
                double d = normalised(buf[base + c], min[c], max[c]) - mean;
                var += d * d;
            }
            double std = dim > 1 ? Math.sqrt(var / (dim - 1)) : 0;
            raw[j] = std;
            best = Math.max(best, std);
        }
        double sum = 0;
        for (int j = 0; j < lag; j++) {
            raw[j] = Math.exp(raw[j] - best);
            sum += raw[j];
        }
        for (int j = 0; j < lag; j++) {
            share[j] += raw[j] / sum;
        }
    }

    private static double normalised(float x, float min, float max) {
        float range = max - min;
        return range > 0 ? (x - min) / range : 0;
    }

    private float[] scratchLo(int dim) {
        if (loScratch.length < dim) {
            loScratch = new float[dim];
        }
        return loScratch;
    }

    private float[] scratchHi(int dim) {
        if (hiScratch.length < dim) {
            hiScratch = new float[dim];
        }
        return hiScratch;
    }

    /** Insertion sort of rankOrder by (share, order): lag is small and this runs once per lag tokens. */
    private void sortByShare() {
        for (int i = 1; i < lag; i++) {
            int j = rankOrder[i];
            int k = i - 1;
            while (k >= 0 && share[rankOrder[k]] > share[j]) {
                rankOrder[k + 1] = rankOrder[k];
                k--;
            }
            rankOrder[k + 1] = j;
        }
    }

    @Override
    float score(int slot) {
        return score[slot];
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        score = Arrays.copyOf(score, slots);
        orderOfSlot = Arrays.copyOf(orderOfSlot, slots);
    }

    @Override
    protected void appended(int slot) {
        long order = appended() - 1;
        orderOfSlot[slot] = order;
        score[slot] = Float.POSITIVE_INFINITY;
        if (order < bufferStart) {
            return;
        }
        int i = (int) (order - bufferStart);
        if (i >= bufSlot.length) {
            int grown = Math.max(i + 1, bufSlot.length * 2);
            bufSlot = Arrays.copyOf(bufSlot, grown);
            int dim = pairs.dim();
            for (int p = 0; p < bufKeys.length; p++) {
                bufKeys[p] = Arrays.copyOf(bufKeys[p], grown * dim);
                bufValues[p] = Arrays.copyOf(bufValues[p], grown * dim);
            }
        }
        bufSlot[i] = slot;
        int dim = pairs.dim();
        for (int p = 0; p < bufKeys.length; p++) {
            Arrays.fill(bufKeys[p], i * dim, i * dim + dim, 0f);
            Arrays.fill(bufValues[p], i * dim, i * dim + dim, 0f);
        }
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        long order = orderOfSlot[fromSlot];
        orderOfSlot[toSlot] = order;
        score[toSlot] = score[fromSlot];
        if (order >= bufferStart) {
            bufSlot[(int) (order - bufferStart)] = toSlot;
        }
    }

    @Override
    protected void released(int slot) {
        long order = orderOfSlot[slot];
        if (order >= bufferStart) {
            bufSlot[(int) (order - bufferStart)] = -1;
        }
    }

    @Override
    public void reset() {
        super.reset();
        pairs.clear();
        bufKeys = new float[0][];
        bufValues = new float[0][];
        bufferStart = sinks();
    }
}
