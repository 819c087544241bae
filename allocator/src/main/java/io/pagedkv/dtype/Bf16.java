package io.pagedkv.dtype;

/**
 * Conversions between binary32 and bfloat16 (the upper 16 bits of a binary32).
 *
 * <p>{@link #fromFloat} rounds to nearest, ties to even; a NaN stays a NaN (its sign and top
 * payload bits kept, the quiet bit set so the truncated payload can never read as infinity);
 * infinities stay infinities; a finite value that rounds past the largest bfloat16 (about
 * 3.39e38) becomes infinity, as IEEE rounding says. Stateless.
 */
public final class Bf16 {

    private Bf16() {
    }

    /** The bfloat16 bits nearest to {@code value} (ties to even; NaN stays NaN). */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The exact binary32 value of bfloat16 {@code bits}. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
