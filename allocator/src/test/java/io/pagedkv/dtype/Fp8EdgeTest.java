package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Edge values of FP8 E4M3FN and E5M2: max, saturation, subnormals, ties, NaN and infinity. */
class Fp8EdgeTest {

    private static int e4m3(float v) {
        return code(KvDType.FP8_E4M3, v);
    }

    private static int e5m2(float v) {
        return code(KvDType.FP8_E5M2, v);
    }

    /** The code of {@code v}, checked to be the same from every implementation (vector: 16 lanes of v). */
    private static int code(KvDType dtype, float v) {
        float[] lanes = new float[16];
        java.util.Arrays.fill(lanes, v);
        int code = Hex.encode(KvCodecs.scalar(dtype), new float[] {v})[0] & 0xFF;
        for (KvCodec c : Hex.implementations(dtype)) {
            for (byte b : Hex.encode(c, lanes)) {
                assertEquals(code, b & 0xFF, c.getClass().getSimpleName() + " encodes " + v);
            }
        }
        return code;
    }

    private static float back(KvDType dtype, int code) {
        byte[] lanes = new byte[16];
        java.util.Arrays.fill(lanes, (byte) code);
        float v = Hex.decode(KvCodecs.scalar(dtype), new byte[] {(byte) code}, 1)[0];
        for (KvCodec c : Hex.implementations(dtype)) {
            for (float w : Hex.decode(c, lanes, 16)) {
                assertEquals(Float.floatToIntBits(v), Float.floatToIntBits(w),
                        c.getClass().getSimpleName() + " decodes 0x" + Integer.toHexString(code));
            }
        }
        return v;
    }

    @Test
    void e4m3DecodesTheFormatsLandmarks() {
        assertEquals(448f, back(KvDType.FP8_E4M3, 0x7E));
        assertEquals(-448f, back(KvDType.FP8_E4M3, 0xFE));
        assertEquals(1f, back(KvDType.FP8_E4M3, 0x38));
        assertEquals(0x1p-6f, back(KvDType.FP8_E4M3, 0x08));
        assertEquals(0x1p-9f, back(KvDType.FP8_E4M3, 0x01));
        assertEquals(0.875f * 0x1p-6f, back(KvDType.FP8_E4M3, 0x07));
        assertTrue(Float.isNaN(back(KvDType.FP8_E4M3, 0x7F)));
        assertTrue(Float.isNaN(back(KvDType.FP8_E4M3, 0xFF)));
        // 0x78 is 256 in E4M3FN (exponent 15 is an ordinary exponent there), not infinity.
        assertEquals(256f, back(KvDType.FP8_E4M3, 0x78));
    }

    @Test
    void e4m3RoundsToEvenAndSaturatesAt448() {
        assertEquals(0x38, e4m3(1f));
        assertEquals(0x38, e4m3(1.0625f));   // tie between 1 and 1.125 -> even mantissa 0
        assertEquals(0x3A, e4m3(1.1875f));   // tie between 1.125 and 1.25 -> even mantissa 2
        assertEquals(0x7D, e4m3(416f));
        assertEquals(0x7E, e4m3(448f));
        assertEquals(0x7E, e4m3(464f));      // would round to 480, which does not exist: saturate
        assertEquals(0x7E, e4m3(1e30f));
        assertEquals(0xFE, e4m3(-Float.MAX_VALUE));
        assertEquals(0x01, e4m3(0x1p-9f));
        assertEquals(0x00, e4m3(0x1p-10f));          // half the smallest subnormal: tie -> 0
        assertEquals(0x02, e4m3(3 * 0x1p-10f));      // 1.5 units: tie -> 2
        assertEquals(0x08, e4m3(7.5f * 0x1p-9f));    // 7.5 units: tie -> 8, the smallest normal
        assertEquals(0x80, e4m3(-0f));
    }

    @Test
    void e4m3MapsNanAndInfinityToNan() {
        assertEquals(0x7F, e4m3(Float.NaN));
        assertEquals(0x7F, e4m3(Float.POSITIVE_INFINITY));
        assertEquals(0xFF, e4m3(Float.NEGATIVE_INFINITY));
    }

    @Test
    void e5m2DecodesTheFormatsLandmarks() {
        assertEquals(57344f, back(KvDType.FP8_E5M2, 0x7B));
        assertEquals(1f, back(KvDType.FP8_E5M2, 0x3C));
        assertEquals(0x1p-14f, back(KvDType.FP8_E5M2, 0x04));
        assertEquals(0x1p-16f, back(KvDType.FP8_E5M2, 0x01));
        assertEquals(Float.POSITIVE_INFINITY, back(KvDType.FP8_E5M2, 0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, back(KvDType.FP8_E5M2, 0xFC));
        assertTrue(Float.isNaN(back(KvDType.FP8_E5M2, 0x7D)));
        assertTrue(Float.isNaN(back(KvDType.FP8_E5M2, 0x7F)));
    }

    @Test
    void e5m2RoundsToEvenSaturatesFiniteValuesAndKeepsInfinity() {
        assertEquals(0x3C, e5m2(1f));
        assertEquals(0x3C, e5m2(1.125f));    // tie between 1 and 1.25 -> even
        assertEquals(0x3E, e5m2(1.375f));    // tie between 1.25 and 1.5 -> even
        assertEquals(0x7B, e5m2(57344f));
        assertEquals(0x7B, e5m2(61440f));    // the tie with the (missing) next value: saturate
        assertEquals(0x7B, e5m2(Float.MAX_VALUE));
        assertEquals(0xFB, e5m2(-1e20f));
        assertEquals(0x7C, e5m2(Float.POSITIVE_INFINITY));
        assertEquals(0xFC, e5m2(Float.NEGATIVE_INFINITY));
        assertEquals(0x7F, e5m2(Float.NaN));
        assertEquals(0x01, e5m2(0x1p-16f));
        assertEquals(0x00, e5m2(0x1p-17f));          // tie -> 0
        assertEquals(0x02, e5m2(3 * 0x1p-17f));      // tie -> 2
    }

    @Test
    void everyCodeRoundTripsExceptNan() {
        for (KvDType dtype : new KvDType[] {KvDType.FP8_E4M3, KvDType.FP8_E5M2}) {
            for (int code = 0; code < 256; code++) {
                float v = back(dtype, code);
                if (Float.isNaN(v)) {
                    continue;
                }
                int again = dtype == KvDType.FP8_E4M3 ? e4m3(v) : e5m2(v);
                assertEquals(code, again, dtype + " code 0x" + Integer.toHexString(code) + " = " + v);
            }
        }
    }

    @Test
    void scaledCodecStoresValueOverScaleAndMultipliesBack() {
        java.util.List<KvCodec> scaled = new java.util.ArrayList<>(java.util.List.of(KvCodecs.scalar(KvDType.FP8_E4M3, 0.5f)));
        KvCodecs.vector(KvDType.FP8_E4M3, 0.5f).ifPresent(scaled::add);
        for (KvCodec codec : scaled) {
            // 100 / 0.5 = 200 = 1.5625 * 2^7 -> exponent 14, mantissa 0.5625 * 8 = 4.5 -> tie -> 4:
            // 1.5 * 2^7 = 192 -> code 0x74; decodes to 192 * 0.5 = 96. 2000 saturates to 448 (0x7e).
            float[] x = new float[16];
            for (int i = 0; i < 16; i++) {
                x[i] = i % 2 == 0 ? 100f : 1000f;
            }
            byte[] b = Hex.encode(codec, x);
            assertEquals(0x74, b[0] & 0xFF);
            assertEquals(0x7E, b[1] & 0xFF);
            float[] back = Hex.decode(codec, b, 16);
            assertEquals(96f, back[14]);
            assertEquals(224f, back[15]);
        }
        // A finite value whose quotient overflows binary32 saturates too (it is not an infinity).
        float[] big = new float[16];
        java.util.Arrays.fill(big, -1e10f);
        big[3] = Float.NEGATIVE_INFINITY;
        KvCodec tiny = KvCodecs.scalar(KvDType.FP8_E5M2, 1e-30f);
        byte[] expected = Hex.encode(tiny, big);
        assertEquals(0xFB, expected[0] & 0xFF);
        assertEquals(0xFC, expected[3] & 0xFF);
        KvCodecs.vector(KvDType.FP8_E5M2, 1e-30f).ifPresent(v -> assertEquals(Hex.of(expected), Hex.of(Hex.encode(v, big))));
    }

    @Test
    void scaleIsValidatedAndOnlyFp8TakesOne() {
        assertThrows(IllegalArgumentException.class, () -> KvCodecs.of(KvDType.FP8_E4M3, 0f));
        assertThrows(IllegalArgumentException.class, () -> KvCodecs.of(KvDType.FP8_E4M3, -1f));
        assertThrows(IllegalArgumentException.class, () -> KvCodecs.of(KvDType.FP8_E4M3, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> KvCodecs.of(KvDType.FP8_E4M3, Float.POSITIVE_INFINITY));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCodecs.of(KvDType.Q8_0, 2f));
        assertTrue(e.getMessage().contains("q8_0"), e.getMessage());
        assertEquals(KvDType.Q8_0, KvCodecs.of(KvDType.Q8_0, 1f).dtype());
    }
}
