package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pagedkv.testkit.Choices;
import io.pagedkv.testkit.Gen;
import io.pagedkv.testkit.Gens;
import io.pagedkv.testkit.Property;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vector block quantizers (Q8_0, Q4_0) against the scalar reference, on groups built to hit
 * their edges rather than on uniform noise: groups of zeros of either sign, values exactly at a
 * rounding boundary (Q4_0's {@code x * id + 8.5} an integer, Q8_0's {@code x * id} a half) and one
 * ulp either side, the largest magnitude with both signs (the first one names Q4_0's scale), lone
 * outliers up to the fp16-scale limit, subnormals. Lengths of 1 to 12 groups reach the head path
 * (up to four groups), the four-group loop and its remainder; source and destination offsets
 * vary. A NaN, an infinity or a value whose scale overflows fp16, anywhere, makes both codecs throw
 * the same message and write nothing.
 */
class BlockQuantizerVectorProperties {

    private static final int QK = 32;

    /** One group of 32 values of a kind drawn from {@code in}, for a dtype whose scale divisor is {@code divisor}. */
    private static float[] group(Choices in, float divisor) {
        float[] x = new float[QK];
        // the group's unit: a power of two, so that d = max / divisor and 1 / d are exact where max = divisor * unit
        float unit = Math.scalb(1f, in.drawInt(55) - 40); // 2^-40 .. 2^15: divisor * unit keeps the fp16 scale finite
        switch (in.drawInt(5)) {
            case 0 -> { // zeros, each +0 or -0
                for (int j = 0; j < QK; j++) {
                    x[j] = in.drawBoolean() ? -0f : 0f;
                }
            }
            case 1 -> { // rounding boundaries: (k + 1/2) units (Q4_0: x * id + 8.5 is an integer; Q8_0: a half), +-1 ulp
                int top = (int) divisor;
                for (int j = 0; j < QK; j++) {
                    float v = (in.drawInt(2 * top - 1) - top + 0.5f) * unit; // within (-max, max)
                    x[j] = switch (in.drawInt(2)) {
                        case 1 -> Math.nextUp(v);
                        case 2 -> Math.nextDown(v);
                        default -> v;
                    };
                }
                x[in.drawInt(QK - 1)] = (in.drawBoolean() ? -divisor : divisor) * unit; // the scale is exact
            }
            case 2 -> { // +-max: the largest magnitude with both signs, in either order, among smaller values
                float max = divisor * unit;
                for (int j = 0; j < QK; j++) {
                    x[j] = (in.drawInt(2 * (int) divisor) - divisor) * unit * 0.999f;
                }
                int a = in.drawInt(QK - 1);
                int b = in.drawInt(QK - 1);
                x[a] = in.drawBoolean() ? -max : max;
                x[b] = -x[a];
            }
            case 3 -> { // one outlier, up to the largest that keeps the fp16 scale finite (65504 * divisor)
                for (int j = 0; j < QK; j++) {
                    x[j] = (in.drawInt(2000) - 1000) * unit / 1000f;
                }
                float outlier = in.drawBoolean() ? 65504f * divisor : Math.min(65504f * divisor, 1000f * unit);
                x[in.drawInt(QK - 1)] = in.drawBoolean() ? -outlier : outlier;
            }
            case 4 -> { // subnormals and the smallest normals
                for (int j = 0; j < QK; j++) {
                    x[j] = Float.intBitsToFloat(in.drawInt(0x0100_0000)) * (in.drawBoolean() ? -1f : 1f);
                }
            }
            default -> { // plain values of the group's unit
                for (int j = 0; j < QK; j++) {
                    x[j] = (float) ((in.drawUniform(2_000_000) - 1_000_000) * 1e-6) * divisor * unit;
                }
            }
        }
        return x;
    }

    /** 1 to 12 groups of {@link #group} kinds, end to end. */
    private static Gen<float[]> vectors(KvDType dtype) {
        float divisor = dtype == KvDType.Q4_0 ? Q4_0Codec.DIVISOR : Q8_0Codec.DIVISOR;
        return in -> {
            int groups = 1 + in.drawInt(11);
            float[] x = new float[groups * QK];
            for (int g = 0; g < groups; g++) {
                System.arraycopy(group(in, divisor), 0, x, g * QK, QK);
            }
            return x;
        };
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0"})
    void vectorEncodeWritesTheScalarReferenceBytesOnZerosTiesSignTiesOutliersAndSubnormals(KvDType dtype) {
        KvCodec scalar = KvCodecs.scalar(dtype);
        KvCodec vector = KvCodecs.vector(dtype).orElseThrow();
        Property.forAll(vectors(dtype), Gens.ints(0, 7), Gens.ints(0, 7)).check((x, srcAt, dstAt) -> {
            float[] src = new float[srcAt + x.length];
            System.arraycopy(x, 0, src, srcAt, x.length);
            try (Arena arena = Arena.ofConfined()) {
                long bytes = dtype.bytesFor(x.length);
                MemorySegment want = arena.allocate(bytes + dstAt);
                MemorySegment got = arena.allocate(bytes + dstAt);
                scalar.encode(src, srcAt, x.length, want, dstAt);
                vector.encode(src, srcAt, x.length, got, dstAt);
                assertEquals(Hex.of(want.toArray(LeLayouts.BYTE)), Hex.of(got.toArray(LeLayouts.BYTE)), "float[] source");
                MemorySegment floats = arena.allocate(4L * (srcAt + x.length));
                MemorySegment.copy(src, 0, floats, LeLayouts.FLOAT, 0, src.length);
                got.fill((byte) 0);
                vector.encode(floats, 4L * srcAt, x.length, got, dstAt);
                assertEquals(Hex.of(want.toArray(LeLayouts.BYTE)), Hex.of(got.toArray(LeLayouts.BYTE)), "segment source");
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0"})
    void headsOfFourAndBlocksOfEightGroupsWriteTheScalarReferenceBytes(KvDType dtype) {
        // exactly the four-group head kernel (128 values, the usual call) and two of its blocks in the long path,
        // each group of its own kind: zeros, ties, +-max, outliers, subnormals (a reciprocal that overflows)
        KvCodec scalar = KvCodecs.scalar(dtype);
        KvCodec vector = KvCodecs.vector(dtype).orElseThrow();
        float divisor = dtype == KvDType.Q4_0 ? Q4_0Codec.DIVISOR : Q8_0Codec.DIVISOR;
        Gen<float[]> fourOrEight = in -> {
            int groups = in.drawBoolean() ? 8 : 4;
            float[] x = new float[groups * QK];
            for (int g = 0; g < groups; g++) {
                System.arraycopy(group(in, divisor), 0, x, g * QK, QK);
            }
            return x;
        };
        Property.forAll(fourOrEight, Gens.ints(0, 7)).check((x, srcAt) -> {
            float[] src = new float[srcAt + x.length];
            System.arraycopy(x, 0, src, srcAt, x.length);
            try (Arena arena = Arena.ofConfined()) {
                long bytes = dtype.bytesFor(x.length);
                MemorySegment want = arena.allocate(bytes);
                MemorySegment got = arena.allocate(bytes);
                scalar.encode(src, srcAt, x.length, want, 0);
                vector.encode(src, srcAt, x.length, got, 0);
                assertEquals(Hex.of(want.toArray(LeLayouts.BYTE)), Hex.of(got.toArray(LeLayouts.BYTE)));
            }
        });
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0"})
    void theVectorRejectionLimitIsTheFirstMagnitudeWhoseScaleOverflowsFp16(KvDType dtype) {
        float divisor = dtype == KvDType.Q4_0 ? Q4_0Codec.DIVISOR : Q8_0Codec.DIVISOR;
        int limit = VectorBlockInput.limitBits(divisor);
        assertEquals(false, BlockInput.scaleOverflows(Float.intBitsToFloat(limit - 1), divisor));
        assertEquals(true, BlockInput.scaleOverflows(Float.intBitsToFloat(limit), divisor));
        // a head of four groups whose largest magnitude is just under the limit encodes like the reference; at it, both throw
        KvCodec scalar = KvCodecs.scalar(dtype);
        KvCodec vector = KvCodecs.vector(dtype).orElseThrow();
        float[] x = new float[4 * QK];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7 - 3) * 1000f;
        }
        x[77] = -Float.intBitsToFloat(limit - 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment want = arena.allocate(dtype.bytesFor(x.length));
            MemorySegment got = arena.allocate(dtype.bytesFor(x.length));
            scalar.encode(x, 0, x.length, want, 0);
            vector.encode(x, 0, x.length, got, 0);
            assertEquals(Hex.of(want.toArray(LeLayouts.BYTE)), Hex.of(got.toArray(LeLayouts.BYTE)));
        }
        x[77] = -Float.intBitsToFloat(limit);
        assertEquals(message(scalar, x), message(vector, x));
    }

    @ParameterizedTest
    @EnumSource(value = KvDType.class, names = {"Q8_0", "Q4_0"})
    void aNanInfinityOrScaleOverflowAnywhereMakesVectorAndScalarThrowTheSameMessageAndWriteNothing(KvDType dtype) {
        KvCodec scalar = KvCodecs.scalar(dtype);
        KvCodec vector = KvCodecs.vector(dtype).orElseThrow();
        float divisor = dtype == KvDType.Q4_0 ? Q4_0Codec.DIVISOR : Q8_0Codec.DIVISOR;
        // 65520 * divisor: the scale rounds to fp16 infinity (65504 is the largest finite, 65520 the tie above it)
        Gen<Float> bad = Gens.oneOf(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0x7F80_0001), Float.intBitsToFloat(0xFFC0_1234), 65520f * divisor,
                -65520f * divisor, Float.MAX_VALUE);
        Property.forAll(vectors(dtype), Gens.ints(0, Integer.MAX_VALUE), bad).check((x, where, value) -> {
            x[where % x.length] = value;
            String want = message(scalar, x);
            assertEquals(want, message(vector, x));
        });
    }

    /** The message of the exception {@code codec} throws on {@code x}, after checking it wrote nothing. */
    private static String message(KvCodec codec, float[] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(codec.dtype().bytesFor(x.length));
            dst.fill((byte) 0xA5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> codec.encode(x, 0, x.length, dst, 0), codec.toString());
            byte[] untouched = new byte[(int) dst.byteSize()];
            java.util.Arrays.fill(untouched, (byte) 0xA5);
            assertArrayEquals(untouched, dst.toArray(LeLayouts.BYTE), codec + " wrote before rejecting");
            return e.getMessage();
        }
    }
}
