package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vector codecs write the scalar reference's bytes and decode to its floats, on seeded random
 * inputs of many lengths and magnitudes (the testkit property versions live in
 * {@code KvCodecProperties}). Runs only where the Vector API is present, which the build's test
 * forks arrange with {@code --add-modules jdk.incubator.vector}.
 */
class VectorScalarAgreementTest {

    @Test
    void theTestForksHaveTheVectorPathForQ8Q4Bf16AndFp8() {
        assertTrue(KvCodecs.vectorEnabled(), "tests run with --add-modules jdk.incubator.vector");
        for (KvDType dtype : new KvDType[] {KvDType.Q8_0, KvDType.Q4_0, KvDType.BF16, KvDType.FP8_E4M3,
                KvDType.FP8_E5M2}) {
            assertTrue(KvCodecs.vector(dtype).isPresent(), dtype.label());
            assertEquals(KvCodecs.vector(dtype).get(), KvCodecs.of(dtype));
        }
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0", "BF16", "FP8_E4M3", "FP8_E5M2"})
    void vectorAndScalarAgreeByteForByteOnRandomInputs(KvDType dtype) {
        agree(dtype, KvCodecs.scalar(dtype), KvCodecs.vector(dtype).orElseThrow());
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"FP8_E4M3", "FP8_E5M2"})
    void scaledFp8VectorAndScalarAgreeByteForByte(KvDType dtype) {
        for (float scale : new float[] {0.01f, 0.37f, 3f, 1e-20f}) {
            agree(dtype, KvCodecs.scalar(dtype, scale), KvCodecs.vector(dtype, scale).orElseThrow());
        }
    }

    private static void agree(KvDType dtype, KvCodec scalar, KvCodec vector) {
        Random r = new Random(42);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 60; trial++) {
                int groups = 1 + r.nextInt(12);
                int n = dtype.isBlockQuantized() ? groups * dtype.groupSize() : 1 + r.nextInt(300);
                float scale = (float) Math.pow(10, r.nextInt(16) - 10);
                float[] x = new float[n + 1];
                for (int i = 0; i < x.length; i++) {
                    x[i] = switch (r.nextInt(8)) {
                        case 0 -> 0f;
                        case 1 -> (r.nextInt(64) - 32) * 0.125f * scale;  // ties and repeats
                        default -> (float) (r.nextGaussian() * scale);
                    };
                }
                MemorySegment a = arena.allocate(dtype.bytesFor(n));
                MemorySegment b = arena.allocate(dtype.bytesFor(n));
                scalar.encode(x, 1, n, a, 0);
                vector.encode(x, 1, n, b, 0);
                assertArrayEquals(a.toArray(LeLayouts.BYTE), b.toArray(LeLayouts.BYTE),
                        dtype + " n=" + n + " trial " + trial);
                MemorySegment floats = arena.allocate(4L * n);
                MemorySegment.copy(x, 1, floats, LeLayouts.FLOAT, 0, n);
                vector.encode(floats, 0, n, b, 0);
                assertArrayEquals(a.toArray(LeLayouts.BYTE), b.toArray(LeLayouts.BYTE), "segment source");
                float[] da = new float[n];
                float[] db = new float[n];
                scalar.decode(a, 0, n, da, 0);
                vector.decode(a, 0, n, db, 0);
                assertArrayEquals(da, db, dtype + " decode n=" + n);
                MemorySegment ds = arena.allocate(4L * n);
                vector.decode(a, 0, n, ds, 0);
                assertArrayEquals(da, ds.toArray(LeLayouts.FLOAT));
            }
        }
    }

    @Test
    void bf16VectorPathKeepsNanAndRoundsLikeTheScalar() {
        float[] x = new float[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.intBitsToFloat(0x3F80_8000 + i * 0x10000 + (i % 3 == 0 ? 0 : 1));
        }
        x[3] = Float.intBitsToFloat(0x7F80_0001);
        x[17] = Float.NEGATIVE_INFINITY;
        x[20] = Float.MAX_VALUE;
        KvCodec vector = KvCodecs.vector(KvDType.BF16).orElseThrow();
        assertArrayEquals(Hex.encode(KvCodecs.scalar(KvDType.BF16), x), Hex.encode(vector, x));
        assertTrue(Float.isNaN(Hex.decode(vector, Hex.encode(vector, x), 40)[3]));
    }
}
