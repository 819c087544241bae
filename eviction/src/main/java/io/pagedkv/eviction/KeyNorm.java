package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * Attention-free eviction by key norm: evicts the candidate whose keys have the largest mean L2 norm
 * and so keeps the smallest-norm keys (low key norm correlates with high attention; Devoto et al.,
 * 2024, "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression").
 *
 * <p>For engines whose fused kernels do not expose attention weights. A token's norm is the mean of
 * the L2 norms of the keys passed to {@link #onKey} for it (one call per layer and KV head, or any
 * subset the engine chooses). A token whose keys were never shown counts as norm 0 and is kept:
 * {@link SequenceEvictor} shows every token's keys, a prefix hit's included (read back from the
 * cache). The budget counts every kept token; sinks and a recent window are protected as in {@link
 * BudgetedPolicy}. Candidates sit in an indexed heap: O(log n) per step, independent of the context
 * length. Ties evict the oldest. Not thread-safe.
 */
public final class KeyNorm extends BudgetedPolicy implements SlotOrder {

    private final SlotHeap candidates;
    private float[] normSum;
    private int[] keys;

    /** Token-granular key-norm eviction keeping {@code budget} tokens, of which the first {@code sinks} and last {@code recent}. */
    public KeyNorm(int budget, int sinks, int recent) {
        this(Budget.tokens(budget), sinks, recent, 1);
    }

    /**
     * Key-norm eviction evicting {@code quantum} or more tokens at once.
     *
     * @throws IllegalArgumentException naming the value and its limit (see {@link BudgetedPolicy})
     */
    public KeyNorm(Budget budget, int sinks, int recent, int quantum) {
        super(budget, sinks, recent, quantum);
        this.candidates = new SlotHeap(this, slotCapacity());
        this.normSum = new float[slotCapacity()];
        this.keys = new int[slotCapacity()];
    }

    private KeyNorm(KeyNorm other) {
        super(other);
        this.candidates = other.candidates.copy(this);
        this.normSum = other.normSum.clone();
        this.keys = other.keys.clone();
    }

    @Override
    public KeyNorm copy() {
        return new KeyNorm(this);
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "knorm(" + budget() + ",sinks=" + sinks() + ",recent=" + recent() + q + ")";
    }

    @Override
    public boolean usesKeys() {
        return true;
    }

    @Override
    public void onKey(int layer, int kvHead, int slot, float[] key, int off, int len) {
        checkVector("key", layer, kvHead, slot, key, off, len);
        double sq = 0;
        for (int i = off, end = off + len; i < end; i++) {
            sq += key[i] * key[i];
        }
        normSum[slot] += (float) Math.sqrt(sq);
        keys[slot]++;
        if (candidates.contains(slot)) {
            candidates.update(slot);
        }
    }

    /** The mean key norm recorded for {@code slot} (0 if none). */
    public float meanNorm(int slot) {
        if (slot < 0 || slot >= keys.length || keys[slot] == 0) {
            return 0f;
        }
        return normSum[slot] / keys[slot];
    }

    @Override
    public boolean evictsBefore(int a, int b) {
        float na = meanNorm(a);
        float nb = meanNorm(b);
        if (na != nb) {
            return na > nb;
        }
        return positionOf(a) < positionOf(b);
    }

    @Override
    protected void grow(int slots) {
        candidates.ensureSlotCapacity(slots);
        normSum = Arrays.copyOf(normSum, slots);
        keys = Arrays.copyOf(keys, slots);
    }

    @Override
    protected void appended(int slot) {
        normSum[slot] = 0f;
        keys[slot] = 0;
    }

    @Override
    protected void admit(int slot) {
        candidates.add(slot);
    }

    @Override
    protected int selectVictims(int count, int[] out) {
        for (int i = 0; i < count; i++) {
            out[i] = candidates.poll();
        }
        return count;
    }

    @Override
    protected void moveCandidate(int fromSlot, int toSlot) {
        candidates.move(fromSlot, toSlot);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        normSum[toSlot] = normSum[fromSlot];
        keys[toSlot] = keys[fromSlot];
        normSum[fromSlot] = 0f;
        keys[fromSlot] = 0;
    }

    @Override
    protected void clearCandidates() {
        candidates.clear();
    }
}
