package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * Input checks of the block quantizers (Q8_0, Q4_0), run over the whole vector before anything is
 * written: a NaN or an infinity is rejected with its index and value, and so is a vector whose
 * largest magnitude would give a group scale that overflows fp16 (llama.cpp would store an infinite
 * scale and decode the group as infinities and NaNs). Either way the destination stays untouched.
 */
final class BlockInput {

    private BlockInput() {
    }

    /**
     * Checks {@code src[offset .. offset+length)}; {@code divisor} is the dtype's scale divisor
     * (127 for Q8_0, 8 for Q4_0).
     */
    static void check(KvDType dtype, float divisor, float[] src, int offset, int length) {
        float amax = 0f;
        for (int i = 0; i < length; i++) {
            float a = Math.abs(src[offset + i]);
            if (!(a <= Float.MAX_VALUE)) {
                throw nonFinite(dtype, "src[" + (offset + i) + "]", src[offset + i]);
            }
            amax = Math.max(amax, a);
        }
        if (scaleOverflows(amax, divisor)) {
            for (int i = 0; i < length; i++) {
                if (Math.abs(src[offset + i]) == amax) {
                    throw overflow(dtype, divisor, "src[" + (offset + i) + "]", src[offset + i]);
                }
            }
        }
    }

    /** Checks {@code length} binary32 values of {@code src} from byte {@code offset}. */
    static void check(KvDType dtype, float divisor, MemorySegment src, long offset, int length) {
        float amax = 0f;
        for (int i = 0; i < length; i++) {
            float v = src.get(LeLayouts.FLOAT, offset + 4L * i);
            float a = Math.abs(v);
            if (!(a <= Float.MAX_VALUE)) {
                throw nonFinite(dtype, "src value " + i + " (byte " + (offset + 4L * i) + ")", v);
            }
            amax = Math.max(amax, a);
        }
        if (scaleOverflows(amax, divisor)) {
            for (int i = 0; i < length; i++) {
                float v = src.get(LeLayouts.FLOAT, offset + 4L * i);
                if (Math.abs(v) == amax) {
                    throw overflow(dtype, divisor, "src value " + i + " (byte " + (offset + 4L * i) + ")", v);
                }
            }
        }
    }

    /** Whether {@code amax / divisor} rounds to an infinite fp16. */
    static boolean scaleOverflows(float amax, float divisor) {
        return Float.isInfinite(Float.float16ToFloat(Float.floatToFloat16(amax / divisor)));
    }

    static IllegalArgumentException nonFinite(KvDType dtype, String where, float value) {
        return new IllegalArgumentException(where + ": " + value + " (expected: a finite value; "
                + dtype.label() + " cannot store NaN or infinity; nothing was written)");
    }

    private static IllegalArgumentException overflow(KvDType dtype, float divisor, String where, float value) {
        return new IllegalArgumentException(where + ": " + value + " (expected: |value| / " + (int) divisor
                + " <= 65504, the largest fp16 " + dtype.label() + " scale; nothing was written)");
    }
}
