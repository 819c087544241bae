package io.pagedkv.dtype;

/**
 * The two 8-bit float formats and their exact conversions from and to binary32.
 *
 * <pre>
 *   format    bits (s.e.m)  bias  max finite  min normal  min subnormal  specials
 *   E4M3FN    1.4.3         7     448         2^-6        2^-9           NaN = s.1111.111, no inf
 *   E5M2      1.5.2         15    57344       2^-14       2^-16          inf = s.11111.00, NaN = s.11111.1x / .01
 * </pre>
 *
 * <p>Encoding rounds to nearest, ties to even, and saturates: a finite value beyond the largest
 * finite code encodes as that code (with its sign). NaN encodes as NaN ({@code 0x7F} with the sign
 * bit). An infinity encodes as infinity in E5M2 ({@code 0x7C}/{@code 0xFC}); E4M3FN has no
 * infinity and encodes it as NaN, because saturating it to 448 would pass an overflow off as a
 * finite value. Decoding is exact (every 8-bit value is a binary32 value), through a 256-entry
 * table. Immutable and thread-safe.
 */
final class Fp8Format {

    /** FP8 E4M3, finite-only ("FN") variant as in the OCP FP8 spec and PyTorch's float8_e4m3fn. */
    static final Fp8Format E4M3FN = new Fp8Format(4, 3, 7, 0x7E, false);
    /** FP8 E5M2, IEEE-like with infinities, as PyTorch's float8_e5m2. */
    static final Fp8Format E5M2 = new Fp8Format(5, 2, 15, 0x7B, true);

    /** The NaN code both formats write (sign bit added for negative NaNs). */
    static final int NAN = 0x7F;
    /** E5M2's infinity code (sign bit added for negative infinity). */
    static final int E5M2_INF = 0x7C;

    private final int manBits;
    private final int bias;
    private final int maxCode;
    private final boolean hasInf;
    private final int maxFiniteBits;
    private final int minNormalBits;
    private final float subnormalScale;
    private final float[] decodeTable = new float[256];

    private Fp8Format(int expBits, int manBits, int bias, int maxCode, boolean hasInf) {
        this.manBits = manBits;
        this.bias = bias;
        this.maxCode = maxCode;
        this.hasInf = hasInf;
        int expMax = (1 << expBits) - 1;
        for (int code = 0; code < 256; code++) {
            int e = (code >> manBits) & expMax;
            int m = code & ((1 << manBits) - 1);
            float v;
            if (hasInf && e == expMax) {
                v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
            } else if (!hasInf && (code & 0x7F) == NAN) {
                v = Float.NaN;
            } else if (e == 0) {
                v = Math.scalb((float) m, 1 - bias - manBits);
            } else {
                v = Math.scalb((float) ((1 << manBits) | m), e - bias - manBits);
            }
            decodeTable[code] = (code & 0x80) != 0 ? -v : v;
        }
        this.maxFiniteBits = Float.floatToRawIntBits(decodeTable[maxCode]);
        this.minNormalBits = Float.floatToRawIntBits(Math.scalb(1f, 1 - bias));
        this.subnormalScale = Math.scalb(1f, bias - 1 + manBits);
    }

    /** Mantissa bits: 3 (E4M3FN) or 2 (E5M2). */
    int manBits() {
        return manBits;
    }

    /** Exponent bias: 7 (E4M3FN) or 15 (E5M2). */
    int bias() {
        return bias;
    }

    /** The largest finite code (0x7E or 0x7B). */
    int maxCode() {
        return maxCode;
    }

    /** Whether the format has infinities (E5M2) or not (E4M3FN). */
    boolean hasInf() {
        return hasInf;
    }

    /** The binary32 bits of the largest finite value. */
    int maxFiniteBits() {
        return maxFiniteBits;
    }

    /** The binary32 bits of the smallest normal value. */
    int minNormalBits() {
        return minNormalBits;
    }

    /** 2^(bias - 1 + manBits): multiplies a subnormal magnitude into units of the smallest subnormal. */
    float subnormalScale() {
        return subnormalScale;
    }

    /** The largest finite value. */
    float maxFinite() {
        return decodeTable[maxCode];
    }

    /** The 8-bit code of {@code value} (round to nearest even, saturating; see class doc). */
    int encode(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7FFF_FFFF;
        if (abs >= maxFiniteBits) {
            if (abs > 0x7F80_0000) {
                return sign | NAN;
            }
            if (abs == 0x7F80_0000) {
                return sign | (hasInf ? E5M2_INF : NAN);
            }
            return sign | maxCode;
        }
        if (abs < minNormalBits) {
            // Subnormal (or zero): the codes are k * 2^(1-bias-manBits); the scaling is exact.
            return sign | (int) Math.rint(Float.intBitsToFloat(abs) * subnormalScale);
        }
        int shift = 23 - manBits;
        int r = abs - ((127 - bias) << 23);
        r = (r + (1 << (shift - 1)) - 1 + ((r >>> shift) & 1)) >>> shift;
        return sign | r;
    }

    /** The exact binary32 value of 8-bit {@code code} (its low 8 bits). */
    float decode(int code) {
        return decodeTable[code & 0xFF];
    }
}
