package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pagedkv.testkit.FloatSpecials;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Properties of every codec on the testkit's generators (with their special floats): the round
 * trip stays within the dtype's {@link ErrorBound}, every float (NaN, infinities, overflow)
 * encodes to its documented value, and the Vector API codecs write the scalar reference's bytes
 * on random inputs of many lengths.
 */
class KvCodecProperties {

    /** Largest magnitude given to the block quantizers: well inside both fp16-scale limits. */
    private static final float BLOCK_RANGE = 1f;

    /** Vectors of whole groups: up to 12 groups, elementwise dtypes up to 300 values. */
    private static Gen<float[]> vectors(KvDType dtype, Gen<Float> elements) {
        int g = dtype.groupSize();
        return Gens.ints(1, g > 1 ? 12 : 300).flatMap(k -> Gens.floatArrays(elements, k * g, k * g));
    }

    /** Finite inputs within the dtype's range; block types at magnitudes from 2^-40 to 2^16. */
    private static Gen<float[]> finiteInputs(KvDType dtype) {
        return switch (dtype) {
            case F32 -> vectors(dtype, Gens.finiteFloats(-Float.MAX_VALUE, Float.MAX_VALUE));
            case F16 -> vectors(dtype, Gens.finiteFloats(-FloatSpecials.FP16_MAX, FloatSpecials.FP16_MAX));
            case BF16 -> vectors(dtype, Gens.finiteFloats(-FloatSpecials.BF16_MAX, FloatSpecials.BF16_MAX));
            case FP8_E4M3 -> vectors(dtype, Gens.finiteFloats(-448f, 448f));
            case FP8_E5M2 -> vectors(dtype, Gens.finiteFloats(-57344f, 57344f));
            case Q8_0, Q4_0 -> Gens.zip(Gens.ints(-40, 16),
                    vectors(dtype, Gens.finiteFloats(-BLOCK_RANGE, BLOCK_RANGE)), (e, x) -> {
                        for (int i = 0; i < x.length; i++) {
                            x[i] = Math.scalb(x[i], e);
                        }
                        return x;
                    });
        };
    }

    private static byte[] encode(KvCodec codec, float[] x, Arena arena) {
        MemorySegment dst = arena.allocate(codec.dtype().bytesFor(x.length));
        codec.encode(x, 0, x.length, dst, 0);
        return dst.toArray(LeLayouts.BYTE);
    }

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void decodeOfEncodeIsWithinTheDtypeBoundForEveryElement(KvDType dtype) {
        Property.forAll(finiteInputs(dtype)).check(x -> {
            for (KvCodec codec : Hex.implementations(dtype)) {
                try (Arena arena = Arena.ofConfined()) {
                    byte[] bytes = encode(codec, x, arena);
                    float[] back = Hex.decode(codec, bytes, x.length);
                    for (int i = 0; i < x.length; i++) {
                        double err = Math.abs((double) x[i] - back[i]);
                        double bound = ErrorBound.of(dtype, x, i, bytes, back[i]);
                        assertTrue(err <= bound, codec.getClass().getSimpleName() + " [" + i + "] " + x[i]
                                + " -> " + back[i] + ": error " + err + " > bound " + bound);
                    }
                }
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"F32", "F16", "BF16", "FP8_E4M3", "FP8_E5M2"})
    void everyFloatIncludingNanInfinityAndOverflowDecodesToItsDocumentedValue(KvDType dtype) {
        Property.forAll(vectors(dtype, Gens.floats())).check(x -> {
            for (KvCodec codec : Hex.implementations(dtype)) {
                try (Arena arena = Arena.ofConfined()) {
                    byte[] bytes = encode(codec, x, arena);
                    float[] back = Hex.decode(codec, bytes, x.length);
                    for (int i = 0; i < x.length; i++) {
                        String what = codec.getClass().getSimpleName() + " [" + i + "] " + x[i] + " -> " + back[i];
                        float v = x[i];
                        float max = switch (dtype) {
                            case F16 -> FloatSpecials.FP16_MAX;
                            case BF16 -> FloatSpecials.BF16_MAX;
                            case FP8_E4M3 -> 448f;
                            case FP8_E5M2 -> 57344f;
                            default -> Float.MAX_VALUE;
                        };
                        if (Float.isNaN(v)) {
                            assertTrue(Float.isNaN(back[i]), what);
                        } else if (Float.isInfinite(v)) {
                            if (dtype == KvDType.FP8_E4M3) {
                                assertTrue(Float.isNaN(back[i]), what + " (E4M3FN has no infinity: NaN)");
                            } else {
                                assertEquals(v, back[i], what);
                            }
                        } else if (Math.abs(v) > max) {
                            if (dtype == KvDType.FP8_E4M3 || dtype == KvDType.FP8_E5M2) {
                                assertEquals(Math.copySign(max, v), back[i], what + " saturates");
                            } else {
                                // IEEE: rounds to the largest finite value or overflows to infinity.
                                assertTrue(back[i] == Math.copySign(max, v)
                                        || back[i] == Math.copySign(Float.POSITIVE_INFINITY, v), what);
                            }
                        } else {
                            double err = Math.abs((double) v - back[i]);
                            assertTrue(err <= ErrorBound.of(dtype, x, i, bytes, back[i]), what);
                            assertEquals(Math.copySign(1f, v), Math.copySign(1f, back[i]), what + " keeps the sign");
                        }
                    }
                }
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0", "F16", "BF16", "FP8_E4M3", "FP8_E5M2"})
    void vectorAndScalarCodecsWriteIdenticalBytesOnRandomInputsOfManyLengths(KvDType dtype) {
        KvCodec scalar = KvCodecs.scalar(dtype);
        KvCodec vector = KvCodecs.vector(dtype).orElseThrow(() -> new AssertionError("no vector codec for " + dtype));
        Gen<float[]> inputs = dtype.isBlockQuantized() ? finiteInputs(dtype) : vectors(dtype, Gens.floats());
        Property.forAll(inputs, Gens.ints(0, 7)).check((x, at) -> {
            try (Arena arena = Arena.ofConfined()) {
                long bytes = dtype.bytesFor(x.length);
                MemorySegment a = arena.allocate(bytes + at);
                MemorySegment b = arena.allocate(bytes + at);
                scalar.encode(x, 0, x.length, a, at);
                vector.encode(x, 0, x.length, b, at);
                assertArrayEquals(a.toArray(LeLayouts.BYTE), b.toArray(LeLayouts.BYTE), "float[] source");
                MemorySegment floats = arena.allocate(4L * x.length + at);
                MemorySegment.copy(x, 0, floats, LeLayouts.FLOAT, at, x.length);
                b.fill((byte) 0);
                vector.encode(floats, at, x.length, b, at);
                assertArrayEquals(a.toArray(LeLayouts.BYTE), b.toArray(LeLayouts.BYTE), "segment source");
                float[] da = new float[x.length];
                float[] db = new float[x.length];
                scalar.decode(a, at, x.length, da, 0);
                vector.decode(a, at, x.length, db, 0);
                assertArrayEquals(da, db, "decode to float[]");
                MemorySegment ds = arena.allocate(4L * x.length);
                vector.decode(a, at, x.length, ds, 0);
                assertArrayEquals(da, ds.toArray(LeLayouts.FLOAT), "decode to segment");
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0"})
    void blockQuantizersRejectAnyNonFiniteValueAndLeaveTheDestinationUntouched(KvDType dtype) {
        Gen<Float> bad = Gens.oneOf(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0x7F80_0001), Float.intBitsToFloat(0xFFC0_1234));
        Property.forAll(finiteInputs(dtype), Gens.ints(0, Integer.MAX_VALUE), bad).check((x, where, value) -> {
            int index = where % x.length;
            x[index] = value;
            for (KvCodec codec : Hex.implementations(dtype)) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment dst = arena.allocate(dtype.bytesFor(x.length));
                    dst.fill((byte) 0xA5);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> codec.encode(x, 0, x.length, dst, 0));
                    assertTrue(e.getMessage().startsWith("src[" + index + "]: NaN")
                            || e.getMessage().startsWith("src[" + index + "]: " + value), e.getMessage());
                    for (byte b : dst.toArray(LeLayouts.BYTE)) {
                        assertEquals((byte) 0xA5, b, codec.getClass().getSimpleName() + " wrote before rejecting");
                    }
                }
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"FP8_E4M3", "FP8_E5M2"})
    void fp8EncodesTheNearestOfAll256CodesWithTiesToTheEvenCode(KvDType dtype) {
        // Oracle independent of the encoder: decode every code, pick the nearest by brute force.
        KvCodec scalar = KvCodecs.scalar(dtype);
        float[] values = new float[256];
        for (int c = 0; c < 256; c++) {
            values[c] = Hex.decode(scalar, new byte[] {(byte) c}, 1)[0];
        }
        float max = dtype == KvDType.FP8_E4M3 ? 448f : 57344f;
        Property.forAll(vectors(dtype, Gens.finiteFloats(-max, max))).check(x -> {
            for (KvCodec codec : Hex.implementations(dtype)) {
                byte[] bytes = Hex.encode(codec, x);
                for (int i = 0; i < x.length; i++) {
                    int best = -1;
                    double bestErr = Double.POSITIVE_INFINITY;
                    for (int c = 0; c < 256; c++) {
                        if (Float.isNaN(values[c]) || Float.isInfinite(values[c])
                                || (values[c] == 0f && Math.copySign(1f, values[c]) != Math.copySign(1f, x[i]))) {
                            continue;
                        }
                        double err = Math.abs((double) x[i] - values[c]);
                        if (err < bestErr || (err == bestErr && (c & 1) == 0)) {
                            best = c;
                            bestErr = err;
                        }
                    }
                    assertEquals(best, bytes[i] & 0xFF, codec + " [" + i + "] " + x[i]);
                }
            }
        });
    }

    @org.junit.jupiter.api.Test
    void bf16EncodesTheNearestOfItsTwoNeighboursWithTiesToEven() {
        // Oracle: the two bf16 candidates around x are its truncation and the next value up in
        // magnitude; pick the nearer in double arithmetic, the even one on a tie.
        Property.forAll(vectors(KvDType.BF16, Gens.finiteFloats(-FloatSpecials.BF16_MAX, FloatSpecials.BF16_MAX)))
                .check(x -> {
                    for (KvCodec codec : Hex.implementations(KvDType.BF16)) {
                        byte[] bytes = Hex.encode(codec, x);
                        for (int i = 0; i < x.length; i++) {
                            int lo = Float.floatToRawIntBits(x[i]) >>> 16;
                            int hi = lo + 1;
                            double dLo = Math.abs((double) x[i] - Bf16.toFloat((short) lo));
                            double dHi = Math.abs((double) x[i] - Bf16.toFloat((short) hi));
                            int want = dLo < dHi ? lo : dHi < dLo ? hi : ((lo & 1) == 0 ? lo : hi);
                            int got = (bytes[2 * i] & 0xFF) | (bytes[2 * i + 1] & 0xFF) << 8;
                            assertEquals(want & 0xFFFF, got, codec + " [" + i + "] " + x[i]);
                        }
                    }
                });
    }
}
