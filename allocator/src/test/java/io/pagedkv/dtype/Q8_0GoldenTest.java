package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Hand-worked Q8_0 groups (llama.cpp's quantize_row_q8_0_ref): d = amax / 127 in fp32, stored as
 * fp16; q = roundf(x * (1/d)). Every expected byte below was worked out on paper from that
 * algorithm (the derivation is in the comments), not produced by the encoder under test.
 */
class Q8_0GoldenTest {

    @Test
    void allZerosGiveAZeroScaleAndZeroQuants() {
        // amax = 0 -> d = 0 -> fp16 0x0000; id = 0 -> every q = roundf(0) = 0.
        byte[] expected = Hex.bytes("0000" + "00".repeat(32));
        Hex.assertEncodes(KvDType.Q8_0, new float[32], expected);
    }

    @Test
    void halfwayProductsRoundAwayFromZeroLikeRoundf() {
        // amax = 127 -> d = 1.0 exactly (fp16 0x3c00, bytes 00 3c), id = 1.0, q = roundf(x).
        float[] x = new float[32];
        x[0] = 0.5f;    // roundf -> 1     (rint would give 0)
        x[1] = -0.5f;   // -> -1 = 0xff    (Math.round would give 0)
        x[2] = 1.5f;    // -> 2
        x[3] = -2.5f;   // -> -3 = 0xfd    (rint and Math.round give -2)
        x[4] = 2.4f;    // -> 2
        x[5] = 127f;    // -> 127 = 0x7f, the max
        x[6] = -0.4f;   // -> -0 = 0x00
        x[7] = 3f;      // -> 3
        x[8] = -100f;   // -> -100 = 0x9c
        x[31] = 63.5f;  // -> 64 = 0x40
        byte[] expected = Hex.bytes("003c" + "01ff02fd027f00039c" + "00".repeat(22) + "40");
        Hex.assertEncodes(KvDType.Q8_0, x, expected);
    }

    @Test
    void oneLargeOutlierSetsTheScaleForTheGroup() {
        // amax = 1000 -> d = 1000/127 = 7.87401... ; in fp16 that is 1.9685 * 2^2, mantissa
        // 0.9685 * 1024 = 991.75 -> 992 = 0x3e0, exponent 2 + 15 = 17 -> 17 << 10 | 0x3e0 = 0x47e0
        // (bytes e0 47). id = 127/1000 = 0.127 (fp32): q = roundf(0.127 x).
        float[] x = new float[32];
        x[0] = 1000f;  // 127.0 -> 0x7f
        x[1] = 3f;     // 0.381 -> 0
        x[2] = -4f;    // -0.508 -> -1 = 0xff
        x[3] = 10f;    // 1.27 -> 1
        x[4] = -250f;  // -31.75 -> -32 = 0xe0
        x[5] = 600f;   // 76.2 -> 76 = 0x4c
        x[6] = -999f;  // -126.873 -> -127 = 0x81
        byte[] expected = Hex.bytes("e047" + "7f00ff01e04c81" + "00".repeat(25));
        Hex.assertEncodes(KvDType.Q8_0, x, expected);
    }

    @Test
    void allNegativeGroupWithExactScaleRoundsEveryTieAwayFromZero() {
        // x[j] = -0.25 j - 0.125 for j < 31 and x[31] = -31.75: amax = 31.75, d = 31.75/127 = 0.25
        // exactly (fp16 0x3400, bytes 00 34), id = 4 exactly, x[j] * 4 = -j - 0.5 (a tie) ->
        // roundf = -(j + 1): bytes ff fe fd ... e1 ; x[31] * 4 = -127 -> 0x81.
        float[] x = new float[32];
        StringBuilder q = new StringBuilder();
        for (int j = 0; j < 31; j++) {
            x[j] = -0.25f * j - 0.125f;
            q.append(String.format("%02x", 256 - (j + 1)));
        }
        x[31] = -31.75f;
        byte[] expected = Hex.bytes("0034" + q + "81");
        Hex.assertEncodes(KvDType.Q8_0, x, expected);
        // Decoding gives q * 0.25: the ties come back 0.125 further from zero, the max exactly.
        float[] back = Hex.decodeAll(KvDType.Q8_0, expected, 32);
        for (int j = 0; j < 31; j++) {
            assertEquals(-0.25f * (j + 1), back[j], "value " + j);
        }
        assertEquals(-31.75f, back[31]);
    }

    @Test
    void tinyMagnitudesGiveASubnormalFp16ScaleRoundedToEven() {
        // Values m * 2^-25. amax = 889 * 2^-25 -> d = 7 * 2^-25 = 3.5 * 2^-24 exactly in fp32;
        // in fp16 that is 3.5 subnormal units of 2^-24 -> tie -> even -> 4 = 0x0004 (bytes 04 00).
        // id = fp32(2^24 / 3.5) = 4793490.5, so x * id = m * 1.0000000447 / 7: q = roundf(m / 7).
        int[] m = new int[32];
        m[0] = 889;  // 127 -> 0x7f
        m[1] = 3;    // 0.43 -> 0
        m[2] = -4;   // -0.57 -> -1 = 0xff
        m[3] = 10;   // 1.43 -> 1
        m[4] = -11;  // -1.57 -> -2 = 0xfe
        for (int j = 5; j < 32; j++) {
            m[j] = 7 * (j - 18);  // q = j - 18: -13 (0xf3) .. 13 (0x0d)
        }
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = Math.scalb((float) m[j], -25);
        }
        byte[] expected = Hex.bytes("0400" + "7f00ff01fe"
                + "f3f4f5f6f7f8f9fafbfcfdfeff" + "00" + "0102030405060708090a0b0c0d");
        Hex.assertEncodes(KvDType.Q8_0, x, expected);
        // Decoding uses the rounded fp16 scale 4 * 2^-24, not the exact 3.5 * 2^-24.
        float[] back = Hex.decodeAll(KvDType.Q8_0, expected, 32);
        assertEquals(127 * Math.scalb(4f, -24), back[0]);
    }

    @Test
    void groupsFollowEachOtherEvery34Bytes() {
        // Group 0 all zeros, group 1 the all-negative exact-scale group: concatenated blocks.
        float[] x = new float[64];
        for (int j = 0; j < 31; j++) {
            x[32 + j] = -0.25f * j - 0.125f;
        }
        x[63] = -31.75f;
        for (KvCodec codec : Hex.implementations(KvDType.Q8_0)) {
            byte[] bytes = Hex.encode(codec, x);
            assertEquals(68, bytes.length);
            assertArrayEquals(Hex.bytes("0000" + "00".repeat(32)), Arrays.copyOfRange(bytes, 0, 34));
            assertEquals("00 34 ff fe", Hex.of(Arrays.copyOfRange(bytes, 34, 38)));
            assertEquals((byte) 0x81, bytes[67]);
        }
    }
}
