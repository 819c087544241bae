package io.pagedkv.attention;

import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.cache.Sequence;
import java.lang.foreign.MemorySegment;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;

/**
 * What an attention kernel needs of a sequence: how many token slots its block table covers, and the
 * memory of the block at each index of the table, laid out by the {@link io.pagedkv.cache.CacheLayout}
 * the kernel was built for.
 *
 * <p>Invariant a kernel relies on: slots {@code 0 .. length() - 1} lie in blocks {@code 0 ..
 * ceil(length() / blockSize) - 1}, each of which {@link #block} returns. A kernel asked to attend more
 * slots than {@link #length()} throws instead of reading past the table.
 *
 * <p>A cache's sequence adapts to it without copying ({@link #of(Sequence)}). Implementations should
 * return a segment they already hold (no allocation per call). Threading is that of the underlying
 * cache: the table must not change while a kernel walks it.
 */
public interface BlockTableView {

    /** Token slots the table covers (a sequence's length); a kernel reads only slots below it. */
    int length();

    /** The whole block at block-table index {@code index} (slot {@code s} is in index {@code s / blockSize}). */
    MemorySegment block(int index);

    /**
     * A live view of {@code seq}'s block table: {@link #length()} is {@code seq.length()} at the time of
     * the call and {@link #block} is {@code seq.cache().block(seq.blockId(index))}. Allocates nothing per call.
     *
     * @throws IllegalArgumentException if {@code seq} is null
     */
    static BlockTableView of(Sequence seq) {
        if (seq == null) {
            throw new IllegalArgumentException("seq: null (expected: a Sequence)");
        }
        PagedKvCache cache = seq.cache();
        return new BlockTableView() {
            @Override
            public int length() {
                return seq.length();
            }

            @Override
            public MemorySegment block(int index) {
                return cache.block(seq.blockId(index));
            }

            @Override
            public String toString() {
                return "BlockTableView[" + seq + "]";
            }
        };
    }

    /**
     * A view from two functions: the current length, and the block at an index (e.g. for a test
     * pool, or an engine's own table).
     *
     * @throws IllegalArgumentException if either is null
     */
    static BlockTableView of(IntSupplier length, IntFunction<MemorySegment> blocks) {
        if (length == null || blocks == null) {
            throw new IllegalArgumentException("length, blocks: " + length + ", " + blocks + " (expected: both non-null)");
        }
        return new BlockTableView() {
            @Override
            public int length() {
                return length.getAsInt();
            }

            @Override
            public MemorySegment block(int index) {
                return blocks.apply(index);
            }
        };
    }
}
