package io.pagedkv.engine;

import io.pagedkv.attention.BlockTableView;
import io.pagedkv.cache.PagedKvCache;
import java.lang.foreign.MemorySegment;

/**
 * One row of a {@link StepPlan}'s padded block tables as a {@link BlockTableView} for
 * {@link io.pagedkv.attention.PagedAttention}: block {@code i} is the cache's read-only block named by
 * entry {@code i} of the row. One object per row, reused every step (no allocation per step or
 * per call). The one place the step API adapts to the kernel's table interface.
 *
 * <p>Valid while its plan is in flight; threading is the plan's (any number of readers).
 */
final class RowBlockTable implements BlockTableView {

    private final StepPlan plan;
    private final PagedKvCache cache;
    private final int row;

    RowBlockTable(StepPlan plan, PagedKvCache cache, int row) {
        this.plan = plan;
        this.cache = cache;
        this.row = row;
    }

    /** Token slots the row's table covers: its sequence length after the step ({@link StepPlan#seqLen(int)}). */
    public int length() {
        return plan.seqLen(row);
    }

    @Override
    public MemorySegment block(int index) {
        return cache.block(plan.blockIdAt(row, index));
    }

    @Override
    public String toString() {
        return "RowBlockTable[row " + row + " of " + plan + "]";
    }
}
