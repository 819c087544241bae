package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * A test policy that exercises the query hook: each token's keys are summed over the (layer, KV
 * head) pairs it is shown with, the step's queries are summed over (layer, query head), and the
 * candidate whose summed key has the smallest dot product with the summed query is evicted (a crude
 * estimate of the attention the next query would give it, the idea behind kvpress's
 * ExpectedAttention). Not a policy to use: a fixture for the conformance kit.
 */
final class QueryDotPolicy extends ScoredPolicy {

    private final int dim;
    private float[] keySum;
    private final float[] query;
    private float[] score;

    QueryDotPolicy(Budget budget, int recent, int dim) {
        super(budget, 0, recent, 1);
        this.dim = dim;
        this.keySum = new float[slotCapacity() * dim];
        this.query = new float[dim];
        this.score = new float[slotCapacity()];
    }

    private QueryDotPolicy(QueryDotPolicy o) {
        super(o);
        this.dim = o.dim;
        this.keySum = o.keySum.clone();
        this.query = o.query.clone();
        this.score = o.score.clone();
    }

    @Override
    public QueryDotPolicy copy() {
        return new QueryDotPolicy(this);
    }

    @Override
    public String name() {
        return "querydot(" + budget() + ")";
    }

    @Override
    public boolean usesKeys() {
        return true;
    }

    @Override
    public boolean usesQueries() {
        return true;
    }

    @Override
    public void onKey(int layer, int kvHead, int slot, float[] key, int off, int len) {
        checkVector("key", layer, kvHead, slot, key, off, len);
        for (int i = 0; i < Math.min(len, dim); i++) {
            keySum[slot * dim + i] += key[off + i];
        }
    }

    @Override
    public void onQuery(int layer, int queryHead, float[] q, int off, int len) {
        if (startsObservation()) {
            Arrays.fill(query, 0f);
        }
        for (int i = 0; i < Math.min(len, dim); i++) {
            query[i] += q[off + i];
        }
    }

    @Override
    void beforeSelection() {
        SlotSet c = candidates();
        for (int i = 0; i < c.size(); i++) {
            int s = c.get(i);
            float dot = 0;
            for (int k = 0; k < dim; k++) {
                dot += keySum[s * dim + k] * query[k];
            }
            score[s] = dot;
        }
    }

    @Override
    float score(int slot) {
        return score[slot];
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        keySum = Arrays.copyOf(keySum, slots * dim);
        score = Arrays.copyOf(score, slots);
    }

    @Override
    protected void appended(int slot) {
        Arrays.fill(keySum, slot * dim, slot * dim + dim, 0f);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        System.arraycopy(keySum, fromSlot * dim, keySum, toSlot * dim, dim);
        Arrays.fill(keySum, fromSlot * dim, fromSlot * dim + dim, 0f);
    }
}
