package io.pagedkv.dtype;

/**
 * The documented per-element error bound of each dtype, computed independently of the codecs (from
 * the input and, for the block types, the stored scale and quants read from the encoded bytes).
 *
 * <ul>
 *   <li>F32: exact. F16, BF16, FP8: half an ulp of the format at the decoded value (round to
 *       nearest), for inputs within the format's finite range; FP8 inputs beyond it saturate to
 *       the largest finite value, F16/BF16 ones overflow to infinity.
 *   <li>Q8_0: with d = amax / 127 (fp32) and d16 its fp16 rounding, |x - q d16| &lt;= d / 2 +
 *       |q| |d - d16| (the first term is the rounding to an integer q, the second the rounding of
 *       the stored scale).
 *   <li>Q4_0: with d = max / -8, |x - (q - 8) d16| &lt;= d / 2 + |q - 8| |d - d16|, except for a
 *       value clamped to q = 15 (x / d &gt; 7.5, only near -max), where the first term is d.
 *   <li>Q8_0 and Q4_0 groups whose fp16 scale underflows to zero decode to all zeros: the error is
 *       then |x| (&lt; 2^-25 * 127 for Q8_0, &lt; 2^-22 for Q4_0).
 * </ul>
 * <p>The quantizers compute {@code x * id} in fp32 with {@code id = fp32(1 / d)}: two roundings of
 * relative error 2^-24 each, so the rounded quotient can sit up to {@code |x / d| * 2^-23} past the
 * exact one, and a value within that distance of a rounding midpoint lands on the far side. That
 * moves the decoded value by up to {@code |x| * 2^-23} beyond the half step, so the block bounds add
 * {@code |x| * 2^-22}. (A relative slack on the half step alone is not enough: seed
 * 2853544024763874972 found x = 0.88380724 beside amax 0.9977202, whose quotient 112.49999 rounded to
 * 113 and erred 1.8e-6 relative beyond d / 2.) Q4_0 also adds {@code 8.5f} in fp32 before the
 * truncation: one more rounding of at most 2^-20 steps (half an ulp at 16), so {@code d * 2^-19}.
 * The products {@code q * fp16(d)} are exact in fp32 (8 + 11 significant bits).
 * Each bound finally gets a relative slack of 2^-20 for the double arithmetic of the check itself.
 */
final class ErrorBound {

    private static final float SLACK = 0x1p-20f;

    private ErrorBound() {
    }

    /** The error bound of element {@code i} of {@code x} once stored in {@code bytes} of {@code dtype}. */
    static double of(KvDType dtype, float[] x, int i, byte[] bytes, float decoded) {
        return switch (dtype) {
            case F32 -> 0;
            case F16 -> 0.5 * ulp(decoded, 10, -14);
            case BF16 -> 0.5 * ulp(decoded, 7, -126);
            case FP8_E4M3 -> 0.5 * ulp(decoded, 3, -6);
            case FP8_E5M2 -> 0.5 * ulp(decoded, 2, -14);
            case Q8_0 -> q8(x, i, bytes);
            case Q4_0 -> q4(x, i, bytes);
        };
    }

    /** The spacing of a format with {@code manBits} mantissa bits and min normal 2^minExp at {@code v}. */
    private static double ulp(float v, int manBits, int minExp) {
        int e = Math.max(Math.getExponent(v), minExp);
        return Math.scalb(1.0, e - manBits);
    }

    private static double q8(float[] x, int i, byte[] bytes) {
        int g = i / 32;
        float amax = 0f;
        for (int j = g * 32; j < g * 32 + 32; j++) {
            amax = Math.max(amax, Math.abs(x[j]));
        }
        double d = amax / 127f;
        double d16 = scale(bytes, g * 34);
        int q = bytes[g * 34 + 2 + i % 32];
        if (d16 == 0) {
            return Math.abs(x[i]);
        }
        return (0.5 * d + Math.abs(q) * Math.abs(d - d16) + Math.abs(x[i]) * 0x1p-22) * (1 + SLACK);
    }

    private static double q4(float[] x, int i, byte[] bytes) {
        int g = i / 32;
        float amax = 0f;
        float max = 0f;
        for (int j = g * 32; j < g * 32 + 32; j++) {
            if (amax < Math.abs(x[j])) {
                amax = Math.abs(x[j]);
                max = x[j];
            }
        }
        double d = Math.abs(max / -8f);
        double d16 = Math.abs(scale(bytes, g * 18));
        int k = i % 32;
        int b = bytes[g * 18 + 2 + k % 16] & 0xFF;
        int q = k < 16 ? b & 0x0F : b >> 4;
        if (d16 == 0) {
            return Math.abs(x[i]);
        }
        boolean clamped = Math.abs(x[i]) > 7.5 * d && Math.signum(x[i]) == -Math.signum(max);
        return ((clamped ? 1.0 : 0.5) * d + Math.abs(q - 8) * Math.abs(d - d16) + Math.abs(x[i]) * 0x1p-22
                + d * 0x1p-19) * (1 + SLACK);
    }

    private static double scale(byte[] bytes, int at) {
        return Float.float16ToFloat((short) ((bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8));
    }
}
