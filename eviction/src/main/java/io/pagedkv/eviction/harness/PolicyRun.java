package io.pagedkv.eviction.harness;

import io.pagedkv.eviction.AttentionReducer;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;

/**
 * One policy replaying a trace over simulated paged slots: appends take a freed slot first (slot
 * reuse) or the next slot at the tail; after the prefill the cache is compressed to the budget by
 * releasing every all-free block (no copy) and then tail-fill compaction (at most one move per
 * evicted token, trailing blocks freed). Sees either all
 * heads (reduced with SUM, one decision per sequence) or one head (the mask-only per-head reference).
 * Not thread-safe.
 */
final class PolicyRun {

    final EvictionPolicy policy;
    final int head;
    final Metrics metrics = new Metrics();
    final boolean[] kept;
    long blocksFreed;
    long slotMoves;

    private final SyntheticTrace trace;
    private final int blockSize;
    private final int[] posOfSlot;
    private final int[] freeSlots;
    private int freeCount;
    private int slotTop;
    private final int[] victims;
    private final float[] keyBuf;
    private final float[] slotRow;
    private final AttentionReducer reducer;

    PolicyRun(SyntheticTrace trace, EvictionPolicy policy, int head, int blockSize) {
        this.trace = trace;
        this.policy = policy;
        this.head = head;
        this.blockSize = blockSize;
        int n = trace.spec().totalTokens();
        this.kept = new boolean[n];
        this.posOfSlot = new int[n];
        Arrays.fill(posOfSlot, -1);
        this.freeSlots = new int[n];
        this.victims = new int[n];
        this.keyBuf = new float[trace.spec().headDim()];
        this.slotRow = new float[n];
        int heads = trace.spec().heads();
        this.reducer = new AttentionReducer(ModelShape.of("trace", 1, heads, heads, trace.spec().headDim()),
                AttentionReducer.Granularity.SEQUENCE, AttentionReducer.Reduction.SUM, n);
    }

    /** Appends token {@code t}. */
    void append(int t) {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : slotTop++;
        posOfSlot[slot] = t;
        kept[t] = true;
        policy.onAppend(slot, t);
        if (policy.usesKeys()) {
            for (int h = 0; h < trace.spec().heads(); h++) {
                if (head < 0 || h == head) {
                    trace.key(t, h, keyBuf, 0);
                    policy.onKey(slot, keyBuf, 0, keyBuf.length);
                }
            }
        }
    }

    /** Measures step {@code t} against the full rows {@code rows[h][0 .. t]}. */
    void measure(int t, float[][] rows) {
        int live = policy.liveTokens();
        for (int h = 0; h < rows.length; h++) {
            if (head < 0 || h == head) {
                metrics.measure(trace, t, h, rows[h], kept, live);
            }
        }
    }

    /** Feeds the policy the rows restricted to kept tokens, renormalised, as the engine would see them. */
    void observe(int t, float[][] rows) {
        if (!policy.usesAttention()) {
            return;
        }
        int slots = slotTop;
        reducer.begin(slots);
        for (int h = 0; h < rows.length; h++) {
            if (head >= 0 && h != head) {
                continue;
            }
            float[] row = rows[h];
            double mass = 0;
            for (int s = 0; s < slots; s++) {
                int p = posOfSlot[s];
                if (p >= 0) {
                    mass += row[p];
                }
            }
            float inv = mass > 0 ? (float) (1.0 / mass) : 0f;
            for (int s = 0; s < slots; s++) {
                int p = posOfSlot[s];
                slotRow[s] = p >= 0 ? row[p] * inv : 0f;
            }
            reducer.add(0, h, slotRow, 0);
        }
        reducer.finish();
        policy.onAttention(reducer.row(0), slots);
    }

    /** Lets the policy evict; after the prefill ({@code compact}) compacts the slots. */
    void evict(boolean compact) {
        int n = policy.evict(victims);
        for (int i = 0; i < n; i++) {
            int slot = victims[i];
            kept[posOfSlot[slot]] = false;
            posOfSlot[slot] = -1;
            freeSlots[freeCount++] = slot;
        }
        if (compact && n > 0) {
            compact();
        }
    }

    /**
     * Compresses the slots as {@link io.pagedkv.eviction.SequenceEvictor#compact()} does: first every
     * block whose slots are all free is released with no copy (later slots renumbered), then tail-fill
     * moves the last live slots into the remaining holes and frees the trailing blocks.
     */
    private void compact() {
        int end = slotTop;
        int shift = 0;
        for (int start = 0; start < end; start += blockSize) {
            int stop = Math.min(end, start + blockSize);
            boolean gone = stop - start == blockSize;
            for (int s = start; s < stop && gone; s++) {
                gone = posOfSlot[s] < 0;
            }
            if (gone) {
                shift += blockSize;
                blocksFreed++;
                continue;
            }
            for (int s = start; s < stop && shift > 0; s++) {
                int p = posOfSlot[s];
                posOfSlot[s - shift] = p;
                posOfSlot[s] = -1;
                if (p >= 0) {
                    policy.onMove(s, s - shift);
                }
            }
        }
        slotTop = end - shift;
        int live = policy.liveTokens();
        int hole = 0;
        for (int from = slotTop - 1; from >= live; from--) {
            if (posOfSlot[from] < 0) {
                continue;
            }
            while (posOfSlot[hole] >= 0) {
                hole++;
            }
            policy.onMove(from, hole);
            posOfSlot[hole] = posOfSlot[from];
            posOfSlot[from] = -1;
            slotMoves++;
        }
        long before = blocks(slotTop);
        slotTop = live;
        freeCount = 0;
        blocksFreed += before - blocks(live);
    }

    private long blocks(int slots) {
        return (slots + blockSize - 1) / blockSize;
    }
}
