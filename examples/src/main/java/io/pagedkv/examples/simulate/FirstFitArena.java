package io.pagedkv.examples.simulate;

import java.util.Map;
import java.util.TreeMap;

/**
 * A first-fit allocator of contiguous byte ranges in {@code [0, capacity)}: the model of a
 * contiguous KV cache that reserves one region per request.
 *
 * <p>Free memory is a set of holes keyed by start offset; {@link #allocate} takes the lowest-addressed
 * hole that is large enough, {@link #free} returns a range and merges it with adjacent holes, so two
 * holes never touch. Invariant: the holes' sizes sum to {@link #freeBytes()}. Not thread-safe.
 */
public final class FirstFitArena {

    /** Returned by {@link #allocate} when no hole is large enough. */
    public static final long NO_RANGE = -1;

    private final long capacity;
    private final TreeMap<Long, Long> holes = new TreeMap<>();
    private long freeBytes;

    /** An arena of {@code capacity} bytes, all free. */
    public FirstFitArena(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0 bytes)");
        }
        this.capacity = capacity;
        holes.put(0L, capacity);
        freeBytes = capacity;
    }

    /** The arena's size in bytes. */
    public long capacity() {
        return capacity;
    }

    /** Bytes in holes. */
    public long freeBytes() {
        return freeBytes;
    }

    /** Number of holes. */
    public int holes() {
        return holes.size();
    }

    /** Size of the largest hole, 0 when full. */
    public long largestHole() {
        long max = 0;
        for (long size : holes.values()) {
            max = Math.max(max, size);
        }
        return max;
    }

    /** Offset of a fresh range of {@code size} bytes (first fit), or {@link #NO_RANGE}. */
    public long allocate(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: > 0 bytes)");
        }
        for (Map.Entry<Long, Long> hole : holes.entrySet()) {
            if (hole.getValue() >= size) {
                long start = hole.getKey();
                long rest = hole.getValue() - size;
                holes.remove(start);
                if (rest > 0) {
                    holes.put(start + size, rest);
                }
                freeBytes -= size;
                return start;
            }
        }
        return NO_RANGE;
    }

    /** Returns the range {@code [offset, offset + size)}, which must be allocated. */
    public void free(long offset, long size) {
        if (offset < 0 || size <= 0 || offset + size > capacity) {
            throw new IllegalArgumentException("range: [" + offset + ", " + (offset + size)
                    + ") (expected: inside [0, " + capacity + "))");
        }
        Map.Entry<Long, Long> before = holes.floorEntry(offset);
        Map.Entry<Long, Long> after = holes.ceilingEntry(offset);
        if ((before != null && before.getKey() + before.getValue() > offset)
                || (after != null && after.getKey() < offset + size)) {
            throw new IllegalStateException("range: [" + offset + ", " + (offset + size) + ") (expected: allocated)");
        }
        long start = offset;
        long length = size;
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            length += before.getValue();
            holes.remove(before.getKey());
        }
        if (after != null && after.getKey() == offset + size) {
            length += after.getValue();
            holes.remove(after.getKey());
        }
        holes.put(start, length);
        freeBytes += size;
    }
}
