package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.I;
import static io.pagedkv.dtype.VectorShapes.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The fast form of {@link BlockInput}'s pre-check: one vector pass for the largest magnitude, which
 * is NaN if any value is NaN (max propagates NaN) and infinite if any is infinite. When it reports
 * trouble, the caller runs the scalar {@link BlockInput#check} to name the index and throw.
 * Part of the Vector API fast path; static helpers only.
 */
final class VectorBlockInput {

    private VectorBlockInput() {
    }

    /**
     * {@link #ok(float, float[], MemorySegment, long, int)} for a {@code float[]}, with plain array
     * loads, on the bits of {@code |x|}: they order like the floats for every non-NaN value and put
     * NaN and infinity above {@link Float#MAX_VALUE}'s bits, so one int maximum (one instruction, where
     * Java's NaN-aware float maximum is a blend sequence on x86) gives the answer.
     */
    static boolean ok(float divisor, float[] array, int offset, int length) {
        IntVector acc = IntVector.zero(I);
        for (int k = 0; k < length; k += L) {
            acc = acc.max(FloatVector.fromArray(F, array, offset + k).reinterpretAsInts().and(0x7FFF_FFFF));
        }
        int amaxBits = acc.reduceLanes(VectorOperators.MAX);
        return amaxBits <= 0x7F7F_FFFF && !BlockInput.scaleOverflows(Float.intBitsToFloat(amaxBits), divisor);
    }

    /**
     * The smallest binary32 bits {@code b} such that a largest magnitude with bits {@code >= b} is
     * rejected by {@link BlockInput#check}: {@link BlockInput#scaleOverflows} grows with the magnitude
     * (a division and two roundings, each monotonic), and infinity's and NaN's bits lie above it, so one
     * int comparison of {@code |x|}'s bits answers "NaN, infinity or an fp16-overflowing scale".
     */
    static int limitBits(float divisor) {
        int lo = 0;
        int hi = 0x7F80_0000; // infinity: its scale overflows
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (BlockInput.scaleOverflows(Float.intBitsToFloat(mid), divisor)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Whether all values are finite and the largest scale fits fp16; addressed as {@link VectorLoads#load}. */
    static boolean ok(float divisor, float[] array, MemorySegment seg, long offset, int length) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < length; k += L) {
            acc = acc.max(VectorLoads.load(array, seg, offset, k).abs());
        }
        float amax = acc.reduceLanes(VectorOperators.MAX);
        return amax <= Float.MAX_VALUE && !BlockInput.scaleOverflows(amax, divisor);
    }
}
