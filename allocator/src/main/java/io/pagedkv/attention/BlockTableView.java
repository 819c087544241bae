package io.pagedkv.attention;

import java.lang.foreign.MemorySegment;

/**
 * What an attention kernel needs of a sequence: the memory of the block at each index of its block
 * table, laid out by the {@link io.pagedkv.cache.CacheLayout} the kernel was built for.
 *
 * <p>A cache's sequence adapts to it without copying, e.g. {@code i -> pool.block(seq.blockId(i))}.
 * Implementations should return a segment they already hold (no allocation per call). Threading is
 * that of the underlying cache.
 */
@FunctionalInterface
public interface BlockTableView {

    /** The whole block at block-table index {@code index} (position {@code p} is in index {@code p / blockSize}). */
    MemorySegment block(int index);
}
