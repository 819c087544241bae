package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector F16 codec against {@link Float#floatToFloat16} / {@link Float#float16ToFloat} (the scalar
 * codec), bit for bit: every one of the 65,536 codes decodes to the same binary32 bits (NaN payloads
 * included), and encoding every code's exact value, every midpoint between neighbours (ties to even),
 * the overflow boundary and a million random bit patterns gives the same code.
 */
class F16VectorCodecTest {

    private static final KvCodec VECTOR = KvCodecs.vector(KvDType.F16).orElseThrow();

    @Test
    void everyCodeDecodesToTheBitsTheJdkGives() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment codes = arena.allocate(2 * 65536);
            for (int c = 0; c < 65536; c++) {
                codes.set(LeLayouts.SHORT, 2L * c, (short) c);
            }
            float[] out = new float[65536];
            VECTOR.decode(codes, 0, 65536, out, 0);
            for (int c = 0; c < 65536; c++) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat((short) c)), Float.floatToRawIntBits(out[c]),
                        "code 0x" + Integer.toHexString(c));
            }
        }
    }

    @Test
    void encodingValuesMidpointsBoundariesAndRandomBitsGivesTheJdksCodes() {
        float[] x = new float[4 * 65536 + (1 << 20)];
        int n = 0;
        for (int c = 0; c < 65536; c++) {
            float v = Float.float16ToFloat((short) c);
            x[n++] = v;
            float next = Float.float16ToFloat((short) (c + 1));
            x[n++] = (v + next) / 2; // the midpoint: ties to even (inf/NaN neighbours give specials)
            x[n++] = Math.nextUp(v);
            x[n++] = Math.nextDown(v);
        }
        SplittableRandom r = new SplittableRandom(16);
        while (n < x.length) {
            x[n++] = Float.intBitsToFloat(r.nextInt());
        }
        x[0] = 65519.996f;
        x[1] = 65520f;
        x[2] = Float.intBitsToFloat(0x7F80_0001);
        x[3] = Float.intBitsToFloat(0xFFBF_FFFF);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(2L * x.length);
            VECTOR.encode(x, 0, x.length, out, 0);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToFloat16(x[i]), out.get(LeLayouts.SHORT, 2L * i),
                        "x = " + x[i] + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ")");
            }
        }
    }
}
