package io.pagedkv.eviction;

import io.pagedkv.model.ModelShape;
import java.util.Arrays;

/**
 * Reduces the newest query's attention weights, one row per (layer, query head), to the rows a policy
 * reads: the explicit, documented reduction that sharing one decision across heads needs.
 *
 * <p>{@link Granularity} says which rows are combined: all layers and heads into one row per sequence
 * (the baseline: one block table, one decision), per layer, or per (layer, KV head), where the query
 * heads of a GQA group ({@code queryHeads / kvHeads} of them) are combined into their KV head's row.
 * {@link Reduction} says how: element-wise SUM, MEAN (the sum divided by the rows combined) or MAX.
 *
 * <p>Use: {@link #begin(int)}, {@link #add} every (layer, query head) row of the step, {@link
 * #finish()}, then read {@link #row(int)}. Buffers are allocated at construction and grow only when a
 * larger slot count first appears. Not thread-safe: one per engine thread.
 */
public final class AttentionReducer {

    /** How rows are combined element-wise. */
    public enum Reduction {
        /** The sum of the weights. */
        SUM,
        /** The sum divided by the number of rows combined. */
        MEAN,
        /** The largest weight. */
        MAX
    }

    /** Which rows are combined into one. */
    public enum Granularity {
        /** All layers and query heads into one row (one decision per sequence). */
        SEQUENCE,
        /** All query heads of a layer into one row per layer. */
        LAYER,
        /** The query heads of each GQA group into one row per (layer, KV head). */
        KV_HEAD
    }

    private final ModelShape shape;
    private final Granularity granularity;
    private final Reduction reduction;
    private final float[][] rows;
    private final int[] added;
    private int slotCount;

    /**
     * A reducer for a model shape.
     *
     * @param shape layers, query heads and KV heads
     * @param granularity which rows are combined
     * @param reduction how they are combined
     * @param slotCapacity initial slots per row (grows on demand)
     */
    public AttentionReducer(ModelShape shape, Granularity granularity, Reduction reduction, int slotCapacity) {
        if (shape == null || granularity == null || reduction == null) {
            throw new IllegalArgumentException("shape, granularity, reduction: " + shape + ", " + granularity + ", "
                    + reduction + " (expected: non-null)");
        }
        if (slotCapacity < 0) {
            throw new IllegalArgumentException("slotCapacity: " + slotCapacity + " (expected: >= 0)");
        }
        this.shape = shape;
        this.granularity = granularity;
        this.reduction = reduction;
        int n = switch (granularity) {
            case SEQUENCE -> 1;
            case LAYER -> shape.layers();
            case KV_HEAD -> shape.layers() * shape.kvHeads();
        };
        this.rows = new float[n][slotCapacity];
        this.added = new int[n];
    }

    /** Number of reduced rows: 1, layers, or layers x KV heads. */
    public int rows() {
        return rows.length;
    }

    /** The reduced row that (layer, query head) contributes to. */
    public int rowOf(int layer, int queryHead) {
        if (layer < 0 || layer >= shape.layers()) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + shape.layers() + ")");
        }
        if (queryHead < 0 || queryHead >= shape.queryHeads()) {
            throw new IndexOutOfBoundsException("queryHead: " + queryHead + " (expected: 0 <= queryHead < "
                    + shape.queryHeads() + ")");
        }
        return switch (granularity) {
            case SEQUENCE -> 0;
            case LAYER -> layer;
            case KV_HEAD -> layer * shape.kvHeads() + queryHead / shape.queryHeadsPerKvHead();
        };
    }

    /** Starts a step whose rows hold {@code slots} weights each; zeroes the reduced rows. */
    public void begin(int slots) {
        if (slots < 0) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: >= 0)");
        }
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length < slots) {
                rows[r] = new float[Math.max(slots, rows[r].length * 2)];
            } else {
                Arrays.fill(rows[r], 0, slots, 0f);
            }
            added[r] = 0;
        }
        slotCount = slots;
    }

    /** Adds the weights of (layer, query head): {@code weights[offset .. offset + slots - 1]}. */
    public void add(int layer, int queryHead, float[] weights, int offset) {
        if (offset < 0 || offset > weights.length - slotCount) {
            throw new IllegalArgumentException("offset: " + offset + " (expected: 0 <= offset <= weights.length - slots = "
                    + (weights.length - slotCount) + ")");
        }
        int r = rowOf(layer, queryHead);
        float[] row = rows[r];
        int n = slotCount;
        if (reduction == Reduction.MAX) {
            for (int i = 0; i < n; i++) {
                row[i] = Math.max(row[i], weights[offset + i]);
            }
        } else {
            for (int i = 0; i < n; i++) {
                row[i] += weights[offset + i];
            }
        }
        added[r]++;
    }

    /** Ends the step: applies MEAN's division. */
    public void finish() {
        if (reduction != Reduction.MEAN) {
            return;
        }
        for (int r = 0; r < rows.length; r++) {
            if (added[r] > 1) {
                float inv = 1f / added[r];
                float[] row = rows[r];
                for (int i = 0; i < slotCount; i++) {
                    row[i] *= inv;
                }
            }
        }
    }

    /** Reduced row {@code r} (valid for the step's slots after {@link #finish()}); do not keep it across steps. */
    public float[] row(int r) {
        return rows[r];
    }

    /** Slots of the current step. */
    public int slots() {
        return slotCount;
    }
}
