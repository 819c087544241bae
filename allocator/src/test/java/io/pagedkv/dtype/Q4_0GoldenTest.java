package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Hand-worked Q4_0 groups (llama.cpp's quantize_row_q4_0_ref): max = the value of largest
 * magnitude with its sign, d = max / -8 (fp32, stored as fp16), q = min(15, (int8)(x / d + 8.5)),
 * byte j = q[j] | q[j + 16] &lt;&lt; 4. Every expected byte was worked out on paper (derivations in
 * the comments), not produced by the encoder under test.
 */
class Q4_0GoldenTest {

    @Test
    void allZerosStoreMinusZeroScaleAndNibbleEight() {
        // max stays +0.0 -> d = 0.0 / -8 = -0.0 -> fp16 0x8000 (bytes 00 80); id = 0 (since -0.0
        // is "false") -> q = (int8)(0 + 8.5) = 8 for every value -> byte 0x88.
        byte[] expected = Hex.bytes("0080" + "88".repeat(16));
        Hex.assertEncodes(KvDType.Q4_0, new float[32], expected);
        for (float v : Hex.decodeAll(KvDType.Q4_0, expected, 32)) {
            assertEquals(0f, Math.abs(v));
        }
    }

    @Test
    void oneLargeOutlierWinsTheScaleAndItsOppositeClampsToFifteen() {
        // |80| at index 7 comes first (the -80 at index 20 ties, and ties keep the first): max = 80,
        // d = -10 -> fp16: 10 = 1.25 * 2^3, exponent 18 -> 0x4800 | 0x100 | sign 0x8000 = 0xc900
        // (bytes 00 c9). id = -0.1: q = trunc(-0.1 x + 8.5), capped at 15.
        float[] x = new float[32];
        x[0] = 12f;    // 7.3 -> 7
        x[1] = -12f;   // 9.7 -> 9
        x[2] = 33f;    // 5.2 -> 5
        x[3] = -47f;   // 13.2 -> 13
        x[7] = 80f;    // 0.5 -> 0
        x[16] = 1f;    // 8.4 -> 8
        x[17] = -3f;   // 8.8 -> 8
        x[18] = 71f;   // 1.4 -> 1
        x[19] = -71f;  // 15.6 -> 15
        x[20] = -80f;  // 16.5 -> 16 -> capped 15
        x[31] = -76f;  // 16.1 -> 16 -> capped 15
        // zeros -> 8. Bytes q[j] | q[j+16] << 4:
        // j0 7|8->87, j1 9|8->89, j2 5|1->15, j3 13|15->fd, j4 8|15->f8, j5,j6 88, j7 0|8->80,
        // j8..j14 88, j15 8|15->f8.
        byte[] expected = Hex.bytes("00c9" + "878915fdf88888" + "80" + "88".repeat(7) + "f8");
        Hex.assertEncodes(KvDType.Q4_0, x, expected);
        float[] back = Hex.decodeAll(KvDType.Q4_0, expected, 32);
        assertEquals(80f, back[7]);    // (0 - 8) * -10
        assertEquals(-70f, back[20]);  // (15 - 8) * -10: the clamp costs one full d
    }

    @Test
    void allNegativeGroupCountsDownTheNibbles() {
        // x[j] = -0.5 j - 0.5: max = x[31] = -16, d = 2 (fp16 0x4000, bytes 00 40), id = 0.5,
        // x * id + 8.5 = (33 - j) / 4 exactly -> q[j] = floor((33 - j) / 4):
        // j 0,1 -> 8; 2..5 -> 7; 6..9 -> 6; 10..13 -> 5; 14..17 -> 4; 18..21 -> 3; 22..25 -> 2;
        // 26..29 -> 1; 30,31 -> 0.
        // Bytes: 48 48 37 37 37 37 26 26 26 26 15 15 15 15 04 04.
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = -0.5f * j - 0.5f;
        }
        byte[] expected = Hex.bytes("0040" + "4848373737372626262615151515" + "0404");
        Hex.assertEncodes(KvDType.Q4_0, x, expected);
        float[] back = Hex.decodeAll(KvDType.Q4_0, expected, 32);
        assertEquals(-16f, back[31]);  // (0 - 8) * 2
        assertEquals(0f, back[0]);     // (8 - 8) * 2, error 0.5 = d / 4
    }

    @Test
    void tinyMagnitudesGiveASubnormalFp16Scale() {
        // x = k * 2^-24, k[0] = -24 (the max magnitude), k[j] = j - 12 for j >= 1.
        // d = -24 * 2^-24 / -8 = 3 * 2^-24 exactly: an fp16 subnormal, bits 0x0003 (bytes 03 00).
        // id = fp32(2^24 / 3) = 5592405.5, so x * id + 8.5 = k / 3 + 8.5 (never within 0.16 of an
        // integer): q = floor(k / 3 + 8.5); q[0] = 0.5 -> 0.
        // q[1..31] (k -11..19): 4 5 5 5 6 6 6 7 7 7 8 8 8 9 9 | 9 10 10 10 11 11 11 12 12 12 13 13 13
        //   14 14 14.
        // Bytes q[j] | q[j+16] << 4: 90 a4 a5 a5 b5 b6 b6 c6 c7 c7 d7 d8 d8 e8 e9 e9.
        float[] x = new float[32];
        x[0] = Math.scalb(-24f, -24);
        for (int j = 1; j < 32; j++) {
            x[j] = Math.scalb((float) (j - 12), -24);
        }
        byte[] expected = Hex.bytes("0300" + "90a4a5a5b5b6b6c6c7c7d7d8d8e8e9e9");
        Hex.assertEncodes(KvDType.Q4_0, x, expected);
        float[] back = Hex.decodeAll(KvDType.Q4_0, expected, 32);
        assertEquals(Math.scalb(-24f, -24), back[0]);  // (0 - 8) * 3 * 2^-24
    }
}
