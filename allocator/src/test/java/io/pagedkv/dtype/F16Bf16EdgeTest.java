package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Edge values of the 16-bit codecs: max, subnormals, ties to even, NaN and infinity. */
class F16Bf16EdgeTest {

    private static int f16(float v) {
        byte[] b = Hex.encode(KvCodecs.scalar(KvDType.F16), new float[] {v});
        return (b[0] & 0xFF) | (b[1] & 0xFF) << 8;
    }

    private static int bf16(float v) {
        byte[] b = Hex.encode(KvCodecs.scalar(KvDType.BF16), new float[] {v});
        return (b[0] & 0xFF) | (b[1] & 0xFF) << 8;
    }

    private static float bf16Back(int bits) {
        return Hex.decode(KvCodecs.scalar(KvDType.BF16), new byte[] {(byte) bits, (byte) (bits >> 8)}, 1)[0];
    }

    @Test
    void f16StoresLittleEndianBinary16WithTiesToEven() {
        assertEquals(0x3C00, f16(1f));
        assertEquals(0x3C00, f16(1f + 0x1p-11f));       // tie between mantissa 0 and 1 -> 0
        assertEquals(0x3C02, f16(1f + 3 * 0x1p-11f));   // tie between mantissa 1 and 2 -> 2
        assertEquals(0x3C01, f16(1f + 0x1p-11f + 0x1p-20f));  // just above the tie
        assertEquals(0x8000, f16(-0f));
    }

    @Test
    void f16MaxAndOverflowFollowIeeeRounding() {
        assertEquals(0x7BFF, f16(65504f));
        assertEquals(0x7BFF, f16(65519.99f));
        assertEquals(0x7C00, f16(65520f));              // tie at max + half ulp -> even -> infinity
        assertEquals(0xFC00, f16(Float.NEGATIVE_INFINITY));
        int nan = f16(Float.NaN);
        assertTrue((nan & 0x7C00) == 0x7C00 && (nan & 0x03FF) != 0, "NaN stays NaN: " + Integer.toHexString(nan));
    }

    @Test
    void f16SubnormalsRoundToEven() {
        assertEquals(0x0001, f16(0x1p-24f));             // smallest subnormal
        assertEquals(0x0000, f16(0x1p-25f));             // half of it: tie -> even 0
        assertEquals(0x0002, f16(3 * 0x1p-25f));         // 1.5 units: tie -> even 2
        assertEquals(0x0001, f16(0x1p-25f + 0x1p-40f));  // above the tie
        assertEquals(0x0400, f16(0x1p-14f));             // smallest normal
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(0x3F80, bf16(1f));
        assertEquals(0x3F80, bf16(1f + 0x1p-8f));             // tie between mantissa 0 and 1 -> 0
        assertEquals(0x3F82, bf16(1f + 3 * 0x1p-8f));         // tie between 1 and 2 -> 2
        assertEquals(0x3F81, bf16(1f + 0x1p-8f + 0x1p-20f));  // above the tie
        assertEquals(0xBF82, bf16(-(1f + 3 * 0x1p-8f)));      // sign-symmetric
        assertEquals(0x8000, bf16(-0f));
    }

    @Test
    void bf16MaxSubnormalAndOverflow() {
        float max = Float.intBitsToFloat(0x7F7F0000);
        assertEquals(0x7F7F, bf16(max));
        assertEquals(max, bf16Back(0x7F7F));
        assertEquals(0x7F80, bf16(Float.MAX_VALUE));          // rounds past the largest bf16 -> inf
        float minSub = Float.intBitsToFloat(0x0001_0000);     // 2^-133, smallest bf16 subnormal
        assertEquals(0x0001, bf16(minSub));
        assertEquals(0x0000, bf16(Float.intBitsToFloat(0x0000_8000)));  // half of it: tie -> 0
        assertEquals(0x0002, bf16(Float.intBitsToFloat(0x0001_8000)));  // 1.5 units: tie -> 2
        assertEquals(minSub, bf16Back(0x0001));
    }

    @Test
    void bf16KeepsNanAndInfinity() {
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        // A NaN whose payload sits only in the low 16 bits would truncate to infinity: it stays NaN.
        assertEquals(0x7FC0, bf16(Float.intBitsToFloat(0x7F80_0001)));
        assertEquals(0xFFC0, bf16(Float.intBitsToFloat(0xFF80_0001)));
        assertTrue(Float.isNaN(bf16Back(bf16(Float.NaN))));
    }
}
