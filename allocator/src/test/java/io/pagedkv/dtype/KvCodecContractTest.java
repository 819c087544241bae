package io.pagedkv.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The contract every codec keeps, run against every implementation of every dtype. */
class KvCodecContractTest {

    /** Every implementation of every dtype (scalar, and vector where present). */
    static Stream<KvCodec> allCodecs() {
        return Arrays.stream(KvDType.values()).flatMap(d -> Hex.implementations(d).stream());
    }

    static Stream<KvCodec> blockCodecs() {
        return allCodecs().filter(c -> c.dtype().isBlockQuantized());
    }

    static Stream<KvCodec> elementwiseCodecs() {
        return allCodecs().filter(c -> !c.dtype().isBlockQuantized());
    }

    private static float[] randomValues(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 3);
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(KvDType.class)
    void ofReturnsACodecOfThatDtype(KvDType dtype) {
        assertEquals(dtype, KvCodecs.of(dtype).dtype());
        assertEquals(dtype, KvCodecs.scalar(dtype).dtype());
    }

    @ParameterizedTest
    @MethodSource("allCodecs")
    void arrayAndSegmentEntryPointsWriteAndReadTheSameBytes(KvCodec codec) {
        KvDType dtype = codec.dtype();
        int n = 128;
        float[] x = randomValues(n + 3, 7);
        int bytes = dtype.bytesFor(n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(bytes + 5);
            MemorySegment b = arena.allocate(bytes + 5);
            codec.encode(x, 3, n, a, 5);
            MemorySegment floats = arena.allocate(4L * (n + 1));
            for (int i = 0; i < n; i++) {
                floats.set(LeLayouts.FLOAT, 4 + 4L * i, x[3 + i]);
            }
            codec.encode(floats, 4, n, b, 5);
            assertArrayEquals(a.toArray(LeLayouts.BYTE), b.toArray(LeLayouts.BYTE));

            float[] out = new float[n + 2];
            codec.decode(a, 5, n, out, 2);
            MemorySegment outSeg = arena.allocate(4L * n + 1);
            codec.decode(a, 5, n, outSeg, 1);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(out[2 + i]),
                        Float.floatToRawIntBits(outSeg.get(LeLayouts.FLOAT, 1 + 4L * i)), "value " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("allCodecs")
    void badArgumentsThrowAndLeaveTheDestinationUntouched(KvCodec codec) {
        KvDType dtype = codec.dtype();
        int g = dtype.groupSize();
        int n = 4 * g;
        float[] x = randomValues(n, 3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(dtype.bytesFor(n));
            dst.fill((byte) 0x5A);
            byte[] before = dst.toArray(LeLayouts.BYTE);
            assertThrows(IndexOutOfBoundsException.class, () -> codec.encode(x, 1, n, dst, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> codec.encode(x, -1, g, dst, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> codec.encode(x, 0, n, dst, 1));
            assertThrows(IllegalArgumentException.class, () -> codec.encode(x, 0, -g, dst, 0));
            assertThrows(IllegalArgumentException.class, () -> codec.encode(x, 0, n, dst.asReadOnly(), 0));
            if (g > 1) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> codec.encode(x, 0, g + 1, dst, 0));
                assertTrue(e.getMessage().contains(String.valueOf(g + 1)), e.getMessage());
            }
            assertArrayEquals(before, dst.toArray(LeLayouts.BYTE));
            float[] out = new float[n];
            assertThrows(IndexOutOfBoundsException.class, () -> codec.decode(dst, 1, n, out, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> codec.decode(dst, 0, n, out, 1));
        }
    }

    @ParameterizedTest
    @MethodSource("blockCodecs")
    void blockQuantizersRejectNanAndInfinityBeforeWritingAnything(KvCodec codec) {
        KvDType dtype = codec.dtype();
        int n = 96;
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = randomValues(n, 11);
            x[70] = bad;  // in the third group: the first two must not be written either
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(dtype.bytesFor(n));
                dst.fill((byte) 0x5A);
                byte[] before = dst.toArray(LeLayouts.BYTE);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> codec.encode(x, 0, n, dst, 0));
                assertTrue(e.getMessage().contains("src[70]") && e.getMessage().contains(String.valueOf(bad)),
                        e.getMessage());
                MemorySegment floats = arena.allocate(4L * n);
                MemorySegment.copy(x, 0, floats, LeLayouts.FLOAT, 0, n);
                e = assertThrows(IllegalArgumentException.class, () -> codec.encode(floats, 0, n, dst, 0));
                assertTrue(e.getMessage().contains("src value 70"), e.getMessage());
                assertArrayEquals(before, dst.toArray(LeLayouts.BYTE));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("blockCodecs")
    void blockQuantizersRejectAGroupWhoseScaleOverflowsFp16(KvCodec codec) {
        KvDType dtype = codec.dtype();
        float divisor = dtype == KvDType.Q8_0 ? 127f : 8f;
        float[] x = new float[64];
        x[40] = -65520f * divisor;  // scale rounds to fp16 infinity
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(dtype.bytesFor(64));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> codec.encode(x, 0, 64, dst, 0));
            assertTrue(e.getMessage().contains("src[40]"), e.getMessage());
            assertEquals(0L, countNonZero(dst), "nothing written");
            x[40] = -65504f * divisor;  // largest fp16 scale: accepted
            codec.encode(x, 0, 64, dst, 0);
            float[] back = new float[64];
            codec.decode(dst, 0, 64, back, 0);
            assertEquals(x[40], back[40], Math.abs(x[40]) * 1e-3f);
        }
    }

    private static long countNonZero(MemorySegment s) {
        long n = 0;
        for (byte b : s.toArray(LeLayouts.BYTE)) {
            n += b != 0 ? 1 : 0;
        }
        return n;
    }

    @ParameterizedTest
    @MethodSource("elementwiseCodecs")
    void elementwiseCodecsEncodeSpecialsWithoutTouchingNeighbours(KvCodec codec) {
        KvDType dtype = codec.dtype();
        float[] x = {1f, Float.NaN, 2f, Float.POSITIVE_INFINITY, -3f, Float.NEGATIVE_INFINITY, 0.5f, -0f};
        float[] back = Hex.decode(codec, Hex.encode(codec, x), x.length);
        assertEquals(1f, back[0]);
        assertEquals(2f, back[2]);
        assertEquals(-3f, back[4]);
        assertEquals(0.5f, back[6]);
        assertTrue(Float.isNaN(back[1]));
        if (dtype == KvDType.FP8_E4M3) {
            assertTrue(Float.isNaN(back[3]) && Float.isNaN(back[5]), "E4M3FN has no infinity: NaN");
        } else {
            assertEquals(Float.POSITIVE_INFINITY, back[3]);
            assertEquals(Float.NEGATIVE_INFINITY, back[5]);
        }
    }

    @ParameterizedTest
    @MethodSource("allCodecs")
    void checkEncodableThrowsExactlyWhatEncodeWouldAndWritesNothing(KvCodec codec) {
        KvDType dtype = codec.dtype();
        int n = 2 * dtype.groupSize() * (dtype.isBlockQuantized() ? 1 : 16);
        for (float bad : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 3e38f}) {
            float[] x = randomValues(n, 5);
            x[n - 3] = bad;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(dtype.bytesFor(n));
                Throwable fromEncode = null;
                try {
                    codec.encode(x, 0, n, dst, 0);
                } catch (IllegalArgumentException e) {
                    fromEncode = e;
                }
                Throwable fromCheck = null;
                try {
                    codec.checkEncodable(x, 0, n);
                } catch (IllegalArgumentException e) {
                    fromCheck = e;
                }
                assertEquals(fromEncode == null, fromCheck == null, codec + " with " + bad);
                if (fromEncode != null) {
                    assertEquals(fromEncode.getMessage(), fromCheck.getMessage());
                }
                assertEquals(dtype.isBlockQuantized(), fromCheck != null, codec + " rejects " + bad);
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> codec.checkEncodable(new float[n], 1, n));
        assertThrows(IllegalArgumentException.class, () -> codec.checkEncodable(new float[n], 0, -1));
    }
}
