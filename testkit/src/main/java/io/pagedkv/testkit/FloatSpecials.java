package io.pagedkv.testkit;

import java.util.List;

/**
 * The float values where numeric code breaks, named: IEEE specials, the f32 extremes and the
 * boundaries of the narrower KV formats (fp16, bf16, fp8). {@link Gens#floats()} produces each of
 * {@link #ALL} with probability about 1/80 per draw (a favourite magnitude 3 in 8 times, one of 15
 * magnitudes, either sign). Constants only; thread-safe.
 */
public final class FloatSpecials {
    /** Largest finite IEEE half (fp16) value. */
    public static final float FP16_MAX = 65504f;
    /** Smallest positive normal fp16 value, 2^-14. */
    public static final float FP16_MIN_NORMAL = 0x1p-14f;
    /** Smallest positive subnormal fp16 value, 2^-24. */
    public static final float FP16_MIN_SUBNORMAL = 0x1p-24f;
    /** Largest finite bfloat16 value, (2 - 2^-7) * 2^127. */
    public static final float BF16_MAX = 0x1.fep127f;
    /** Largest finite fp8 E4M3 (OCP "fn") value. */
    public static final float FP8_E4M3_MAX = 448f;
    /** Largest finite fp8 E5M2 value. */
    public static final float FP8_E5M2_MAX = 57344f;
    /** A huge but finite magnitude that overflows every narrow format. */
    public static final float HUGE = 1e30f;
    /** A tiny normal f32 magnitude that underflows every narrow format except bf16. */
    public static final float TINY = 1e-30f;

    /** Every special value, simplest first (NaN, infinities, signed zeros, subnormals, format limits). */
    public static final List<Float> ALL = List.of(
            0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
            Float.MAX_VALUE, -Float.MAX_VALUE,
            FP16_MAX, -FP16_MAX, FP16_MIN_NORMAL, FP16_MIN_SUBNORMAL, -FP16_MIN_SUBNORMAL,
            BF16_MAX, -BF16_MAX, FP8_E4M3_MAX, -FP8_E4M3_MAX, FP8_E5M2_MAX, HUGE, -HUGE, TINY);

    private FloatSpecials() {
    }
}
