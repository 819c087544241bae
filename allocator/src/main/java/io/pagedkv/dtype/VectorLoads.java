package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Float vector loads and stores from either a {@code float[]} or a little-endian binary32 segment,
 * so each vector codec writes its loop once. The array-or-segment test is loop-invariant and the
 * JIT hoists it. Part of the Vector API fast path; static helpers only.
 */
final class VectorLoads {

    private VectorLoads() {
    }

    /**
     * Loads {@link VectorShapes#L} floats at element {@code index} past {@code offset}: from
     * {@code array} ({@code offset} in elements) if it is not null, else from {@code seg}
     * ({@code offset} in bytes).
     */
    static FloatVector load(float[] array, MemorySegment seg, long offset, long index) {
        if (array != null) {
            return FloatVector.fromArray(F, array, (int) (offset + index));
        }
        return FloatVector.fromMemorySegment(F, seg, offset + 4 * index, ByteOrder.LITTLE_ENDIAN);
    }

    /** Stores {@code v} at element {@code index} past {@code offset}, addressed as in {@link #load}. */
    static void store(FloatVector v, float[] array, MemorySegment seg, long offset, long index) {
        if (array != null) {
            v.intoArray(array, (int) (offset + index));
        } else {
            v.intoMemorySegment(seg, offset + 4 * index, ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** One float at element {@code index} past {@code offset}, addressed as in {@link #load}. */
    static float get(float[] array, MemorySegment seg, long offset, long index) {
        return array != null ? array[(int) (offset + index)] : seg.get(LeLayouts.FLOAT, offset + 4 * index);
    }
}
