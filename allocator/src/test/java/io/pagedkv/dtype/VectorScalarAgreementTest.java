package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vector codecs are what the test forks get, and agree with the scalar reference on the cases
 * the generic property ({@code KvCodecProperties}) does not reach: scaled FP8 and BF16 NaN
 * payloads. Needs the Vector API, which the build's test forks add with
 * {@code --add-modules jdk.incubator.vector}.
 */
class VectorScalarAgreementTest {

    @Test
    void theTestForksHaveTheVectorPathForQ8Q4F16Bf16AndFp8() {
        assertTrue(KvCodecs.vectorEnabled(), "tests run with --add-modules jdk.incubator.vector");
        for (KvDType dtype : new KvDType[] {KvDType.Q8_0, KvDType.Q4_0, KvDType.F16, KvDType.BF16, KvDType.FP8_E4M3,
                KvDType.FP8_E5M2}) {
            assertTrue(KvCodecs.vector(dtype).isPresent(), dtype.label());
            assertEquals(KvCodecs.vector(dtype).get(), KvCodecs.of(dtype));
        }
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"FP8_E4M3", "FP8_E5M2"})
    void scaledFp8VectorAndScalarAgreeByteForByte(KvDType dtype) {
        Random r = new Random(42);
        for (float scale : new float[] {0.01f, 0.37f, 3f, 1e-20f}) {
            KvCodec scalar = KvCodecs.scalar(dtype, scale);
            KvCodec vector = KvCodecs.vector(dtype, scale).orElseThrow();
            for (int trial = 0; trial < 20; trial++) {
                int n = 1 + r.nextInt(100);
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(12) - 4));
                }
                assertArrayEquals(Hex.encode(scalar, x), Hex.encode(vector, x), dtype + " scale " + scale);
                byte[] b = Hex.encode(scalar, x);
                assertArrayEquals(Hex.decode(scalar, b, n), Hex.decode(vector, b, n), "decode, scale " + scale);
            }
        }
    }

    /**
     * Q4_0 heads of 128 values (four groups: the head path a cache's writes take): the same bytes as
     * the scalar reference, including all-zero and all-negative-zero groups (scale -0), a group whose
     * largest magnitude appears with both signs (the first one wins), and a group of one outlier.
     */
    @Test
    void q4_0HeadsOf128AgreeByteForByteWithTheScalar() {
        Random r = new Random(7);
        KvCodec scalar = KvCodecs.scalar(KvDType.Q4_0);
        KvCodec vector = KvCodecs.vector(KvDType.Q4_0).orElseThrow();
        for (int trial = 0; trial < 200; trial++) {
            float[] x = new float[128];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8) - 4));
            }
            switch (trial % 5) {
                case 0 -> Arrays.fill(x, 32, 64, 0f);
                case 1 -> Arrays.fill(x, 64, 96, -0f);
                case 2 -> {
                    x[3] = -5f;
                    x[20] = 5f; // same magnitude, other sign, later: the first one names the scale
                    x[40] = 7f;
                    x[41] = -7f;
                }
                case 3 -> x[96 + r.nextInt(32)] = 1e4f;
                default -> { }
            }
            assertArrayEquals(Hex.encode(scalar, x), Hex.encode(vector, x), "trial " + trial);
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
