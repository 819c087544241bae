package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * KeyDiff (Park et al., 2025, "KeyDiff: Key Similarity-Based KV Cache Eviction for Long-Context LLM
 * Inference in Resource-Constrained Environments"): keeps the tokens whose keys are most distinctive
 * and evicts the ones whose keys are most similar to the cache's mean key direction.
 *
 * <p>Per (layer, KV head) the engine feeds through {@link #onKey}, the <i>anchor</i> is the mean of
 * the L2-normalised keys of the tokens in the cache; a token's similarity is the cosine of its key to
 * that anchor, and its score is minus the mean similarity over the heads it was fed for (kvpress's
 * {@code KeyDiffPress} scores one head the same way; one decision shared by all heads averages them).
 * The candidate with the highest similarity is evicted; ties evict the oldest. A token whose keys were
 * never shown ranks above every scored one. Attention-free, so it works with fused kernels.
 *
 * <p>Cost: the anchors are kept as running sums (add on a key, subtract on an eviction), and each
 * eviction scores every candidate once: O(candidates x heads fed x head dim). Memory: the normalised
 * key of every live token per head fed, {@code liveTokens x heads x headDim} floats; feed a subset
 * of layers or heads to bound it. The budget counts every kept token; sinks and a recent window are
 * protected as in {@link BudgetedPolicy}. Not thread-safe.
 */
public final class KeyDiff extends ScoredPolicy {

    private final HeadPairs pairs;
    private float[][] unit;       // [pair][slot * dim + c]
    private boolean[][] fed;      // [pair][slot]
    private double[][] anchorSum; // [pair][c]
    private float[] score;

    /** Token-granular KeyDiff keeping {@code budget} tokens, of which the first {@code sinks} and last {@code recent}. */
    public KeyDiff(int budget, int sinks, int recent) {
        this(Budget.tokens(budget), sinks, recent, 1);
    }

    /**
     * KeyDiff evicting whole quanta.
     *
     * @throws IllegalArgumentException naming the value and its limit (see {@link BudgetedPolicy})
     */
    public KeyDiff(Budget budget, int sinks, int recent, int quantum) {
        super(budget, sinks, recent, quantum);
        this.pairs = new HeadPairs();
        this.unit = new float[0][];
        this.fed = new boolean[0][];
        this.anchorSum = new double[0][];
        this.score = new float[slotCapacity()];
    }

    private KeyDiff(KeyDiff other) {
        super(other);
        this.pairs = new HeadPairs(other.pairs);
        this.unit = new float[other.unit.length][];
        this.fed = new boolean[other.fed.length][];
        this.anchorSum = new double[other.anchorSum.length][];
        for (int p = 0; p < unit.length; p++) {
            unit[p] = other.unit[p].clone();
            fed[p] = other.fed[p].clone();
            anchorSum[p] = other.anchorSum[p].clone();
        }
        this.score = other.score.clone();
    }

    @Override
    public KeyDiff copy() {
        return new KeyDiff(this);
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "keydiff(" + budget() + ",sinks=" + sinks() + ",recent=" + recent() + q + ")";
    }

    @Override
    public boolean usesKeys() {
        return true;
    }

    @Override
    public void onKey(int layer, int kvHead, int slot, float[] key, int off, int len) {
        checkVector("key", layer, kvHead, slot, key, off, len);
        int p = pairs.index(layer, kvHead, len);
        if (p == unit.length) {
            unit = Arrays.copyOf(unit, p + 1);
            fed = Arrays.copyOf(fed, p + 1);
            anchorSum = Arrays.copyOf(anchorSum, p + 1);
            unit[p] = new float[slotCapacity() * len];
            fed[p] = new boolean[slotCapacity()];
            anchorSum[p] = new double[len];
        }
        if (fed[p][slot]) {
            subtract(p, slot); // an overwrite replaces the token's key
        }
        double sq = 0;
        for (int i = 0; i < len; i++) {
            sq += (double) key[off + i] * key[off + i];
        }
        double inv = sq > 0 ? 1.0 / Math.sqrt(sq) : 0;
        float[] u = unit[p];
        double[] a = anchorSum[p];
        int base = slot * len;
        for (int i = 0; i < len; i++) {
            float v = (float) (key[off + i] * inv);
            u[base + i] = v;
            a[i] += v;
        }
        fed[p][slot] = true;
    }

    /** The cosine of the token's key to the anchor, averaged over the heads fed (NaN if none). */
    public double similarity(int slot) {
        if (!isLive(slot)) {
            return Double.NaN;
        }
        int dim = pairs.dim();
        double total = 0;
        int heads = 0;
        for (int p = 0; p < unit.length; p++) {
            if (!fed[p][slot]) {
                continue;
            }
            double[] a = anchorSum[p];
            double norm = 0;
            double dot = 0;
            float[] u = unit[p];
            int base = slot * dim;
            for (int i = 0; i < dim; i++) {
                norm += a[i] * a[i];
                dot += a[i] * u[base + i];
            }
            total += norm > 0 ? dot / Math.sqrt(norm) : 0;
            heads++;
        }
        return heads == 0 ? Double.NaN : total / heads;
    }

    @Override
    void beforeSelection() {
        SlotSet c = candidates();
        for (int i = 0, n = c.size(); i < n; i++) {
            int s = c.get(i);
            double sim = similarity(s);
            score[s] = Double.isNaN(sim) ? Float.POSITIVE_INFINITY : (float) -sim;
        }
    }

    @Override
    float score(int slot) {
        return score[slot];
    }

    private void subtract(int p, int slot) {
        int dim = pairs.dim();
        float[] u = unit[p];
        double[] a = anchorSum[p];
        int base = slot * dim;
        for (int i = 0; i < dim; i++) {
            a[i] -= u[base + i];
            u[base + i] = 0f;
        }
        fed[p][slot] = false;
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        score = Arrays.copyOf(score, slots);
        int dim = pairs.dim();
        for (int p = 0; p < unit.length; p++) {
            unit[p] = Arrays.copyOf(unit[p], slots * dim);
            fed[p] = Arrays.copyOf(fed[p], slots);
        }
    }

    @Override
    protected void appended(int slot) {
        for (int p = 0; p < fed.length; p++) {
            if (fed[p][slot]) {
                subtract(p, slot);
            }
        }
        score[slot] = Float.POSITIVE_INFINITY;
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        int dim = pairs.dim();
        for (int p = 0; p < unit.length; p++) {
            System.arraycopy(unit[p], fromSlot * dim, unit[p], toSlot * dim, dim);
            Arrays.fill(unit[p], fromSlot * dim, fromSlot * dim + dim, 0f);
            fed[p][toSlot] = fed[p][fromSlot];
            fed[p][fromSlot] = false;
        }
        score[toSlot] = score[fromSlot];
    }

    @Override
    protected void released(int slot) {
        for (int p = 0; p < fed.length; p++) {
            if (fed[p][slot]) {
                subtract(p, slot);
            }
        }
    }

    @Override
    public void reset() {
        super.reset();
        pairs.clear();
        unit = new float[0][];
        fed = new boolean[0][];
        anchorSum = new double[0][];
    }
}
