package io.pagedkv.eviction;

import java.util.Arrays;

/**
 * SnapKV (Li et al., 2024): keeps the observation window (the newest {@code window} tokens) plus, up
 * to the budget, the tokens that the window's queries attend to most, their votes max-pooled over
 * neighbouring positions so that a kept token brings its context along.
 *
 * <p><b>Scores.</b> A token's vote is the attention weight it received from the last {@code window}
 * queries, summed over those queries and the heads fed (checked against the paper's abstract and
 * kvpress's {@code SnapKVPress}, code not copied; one decision per block table, so the heads' votes
 * are summed rather than selected per head). Before a selection the votes are max-pooled: a kept
 * token scores the largest vote of the kept tokens within {@code kernel / 2} positions of it (at a
 * prefill, with nothing evicted yet, exactly a 1-D max-pool of width {@code kernel}, padding {@code
 * kernel / 2}). The smallest pooled score is evicted; ties evict the oldest.
 *
 * <p><b>Queries.</b> The policy remembers one summed row per query for the last {@code window}
 * queries (a ring). A decode step's rows are one query. Within one observation (the rows between two
 * structural calls, see {@link EvictionPolicy}) the rows come query by query: a row for the (layer,
 * head) pair that opened the current query opens the next one. So an engine that shows a prefill's
 * last {@code window} queries' rows (each query's heads in turn) after placing the prompt, then calls
 * {@code evict(0, victims)}, gets SnapKV's prefill compression; at decode the window slides over the
 * newest queries (SnapKV itself does not evict while decoding; under a budget this is its natural
 * continuation).
 *
 * <p>Cost: {@code onAttention} one pass over the row plus, once per query, clearing the ring entry;
 * each eviction sums the ring ({@code window x slots}), sorts the kept tokens by position (a heap
 * sort in place: with the JDK's sort of a {@code long[]} a decode step of 3 layers allocated 72 bytes in
 * {@code SequenceEvictorAllocationTest}) and
 * pools in {@code O(kept x kernel)}. Memory: {@code window} floats per slot. Not
 * thread-safe.
 */
public final class SnapKv extends ScoredPolicy {

    private final int window;
    private final int kernel;
    /** {@code ring[q][slot]}: the row of one of the last {@code window} queries, summed over its heads. */
    private float[][] ring;
    private int current;
    private int openLayer = -1;
    private int openHead = -1;
    private float[] pooled;
    private float[] vote;
    private long[] order;

    /** Token-granular SnapKV keeping {@code budget} tokens, the newest {@code window} among them, pooling over {@code kernel}. */
    public SnapKv(int budget, int window, int kernel) {
        this(Budget.tokens(budget), window, kernel, 1);
    }

    /**
     * SnapKV keeping {@code budget} tokens, of which the {@code window} newest, pooling votes over
     * {@code kernel} positions, evicting whole quanta.
     *
     * @throws IllegalArgumentException if {@code window < 1}, {@code kernel} is not an odd number >= 1,
     *     {@code quantum < 1}, or the budget is below {@code window + quantum}
     */
    public SnapKv(Budget budget, int window, int kernel, int quantum) {
        super(budget, 0, window, quantum);
        if (window < 1) {
            throw new IllegalArgumentException("window: " + window + " (expected: >= 1 observed queries)");
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("kernel: " + kernel + " (expected: an odd pooling width >= 1)");
        }
        this.window = window;
        this.kernel = kernel;
        int cap = slotCapacity();
        this.ring = new float[window][cap];
        this.pooled = new float[cap];
        this.vote = new float[cap];
        this.order = new long[cap];
    }

    private SnapKv(SnapKv other) {
        super(other);
        this.window = other.window;
        this.kernel = other.kernel;
        this.ring = new float[other.ring.length][];
        for (int q = 0; q < ring.length; q++) {
            ring[q] = other.ring[q].clone();
        }
        this.current = other.current;
        this.openLayer = other.openLayer;
        this.openHead = other.openHead;
        this.pooled = other.pooled.clone();
        this.vote = other.vote.clone();
        this.order = other.order.clone();
    }

    @Override
    public SnapKv copy() {
        return new SnapKv(this);
    }

    /** Queries in the observation window (also the newest tokens never evicted). */
    public int window() {
        return window;
    }

    /** Pooling width in positions. */
    public int kernel() {
        return kernel;
    }

    @Override
    public String name() {
        String q = quantum() == 1 ? "" : ",q=" + quantum();
        return "snapkv(" + budget() + ",window=" + window + ",kernel=" + kernel + q + ")";
    }

    @Override
    public boolean usesAttention() {
        return true;
    }

    @Override
    public void onAttention(int layer, int queryHead, float[] weights, int off, int slotCount) {
        checkRow(weights, off, slotCount);
        if (startsObservation() || (layer == openLayer && queryHead == openHead)) {
            current = (current + 1) % window; // a new query replaces the oldest one of the window
            Arrays.fill(ring[current], 0f);
            openLayer = layer;
            openHead = queryHead;
        }
        float[] r = ring[current];
        for (int i = 0; i < slotCount; i++) {
            r[i] += weights[off + i];
        }
    }

    @Override
    void beforeSelection() {
        int n = 0;
        for (int s = 0, limit = slotLimit(); s < limit; s++) {
            if (!isLive(s)) {
                continue;
            }
            float v = 0f;
            for (float[] r : ring) {
                v += r[s];
            }
            vote[s] = v;
            order[n++] = ((long) positionOf(s) << 32) | s;
        }
        heapSort(order, n);
        int half = kernel / 2;
        for (int i = 0; i < n; i++) {
            long pos = order[i] >>> 32;
            float best = vote[(int) order[i]];
            for (int j = i - 1; j >= 0 && pos - (order[j] >>> 32) <= half; j--) {
                best = Math.max(best, vote[(int) order[j]]);
            }
            for (int j = i + 1; j < n && (order[j] >>> 32) - pos <= half; j++) {
                best = Math.max(best, vote[(int) order[j]]);
            }
            pooled[(int) order[i]] = best;
        }
    }

    /** Sorts {@code a[0 .. n)} ascending in place (a heap sort: O(n log n), allocation-free, unlike the JDK's sort). */
    private static void heapSort(long[] a, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(a, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            long t = a[0];
            a[0] = a[end];
            a[end] = t;
            siftDown(a, 0, end);
        }
    }

    private static void siftDown(long[] a, int i, int n) {
        long v = a[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            if (c + 1 < n && a[c + 1] > a[c]) {
                c++;
            }
            if (a[c] <= v) {
                break;
            }
            a[i] = a[c];
            i = c;
        }
        a[i] = v;
    }

    @Override
    float score(int slot) {
        return pooled[slot];
    }

    @Override
    protected void grow(int slots) {
        super.grow(slots);
        for (int q = 0; q < ring.length; q++) {
            ring[q] = Arrays.copyOf(ring[q], slots);
        }
        pooled = Arrays.copyOf(pooled, slots);
        vote = Arrays.copyOf(vote, slots);
        order = Arrays.copyOf(order, slots);
    }

    @Override
    protected void appended(int slot) {
        clearColumn(slot);
    }

    @Override
    protected void moved(int fromSlot, int toSlot) {
        for (float[] r : ring) {
            r[toSlot] = r[fromSlot];
            r[fromSlot] = 0f;
        }
        pooled[toSlot] = pooled[fromSlot];
    }

    @Override
    protected void released(int slot) {
        clearColumn(slot);
    }

    private void clearColumn(int slot) {
        for (float[] r : ring) {
            r[slot] = 0f;
        }
    }

    @Override
    public void reset() {
        super.reset();
        for (float[] r : ring) {
            Arrays.fill(r, 0f);
        }
        current = 0;
        openLayer = -1;
        openHead = -1;
    }
}
