package io.pagedkv.dtype;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Test helpers: hex strings to bytes and back, and encoding into a fresh segment. */
final class Hex {

    private Hex() {
    }

    /** Bytes of a hex string; spaces are ignored, e.g. {@code "00 3c ff"}. */
    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", "").replace("\n", ""));
    }

    /** Space-separated lower-case hex of {@code bytes}. */
    static String of(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }

    /** Encodes {@code values} with {@code codec} through the float[] entry point. */
    static byte[] encode(KvCodec codec, float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(codec.dtype().bytesFor(values.length));
            codec.encode(values, 0, values.length, dst, 0);
            return dst.toArray(LeLayouts.BYTE);
        }
    }

    /** Every implementation of {@code dtype}'s codec in this JVM: the scalar one, then the vector one if any. */
    static List<KvCodec> implementations(KvDType dtype) {
        List<KvCodec> all = new ArrayList<>();
        all.add(KvCodecs.scalar(dtype));
        KvCodecs.vector(dtype).ifPresent(all::add);
        return all;
    }

    /** Asserts that every implementation encodes {@code values} to {@code expected}, through both entry points. */
    static void assertEncodes(KvDType dtype, float[] values, byte[] expected) {
        for (KvCodec codec : implementations(dtype)) {
            String name = codec.getClass().getSimpleName();
            org.junit.jupiter.api.Assertions.assertEquals(of(expected), of(encode(codec, values)), name + " float[]");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocate(4L * values.length);
                MemorySegment.copy(values, 0, src, LeLayouts.FLOAT, 0, values.length);
                MemorySegment dst = arena.allocate(expected.length);
                codec.encode(src, 0, values.length, dst, 0);
                org.junit.jupiter.api.Assertions.assertEquals(of(expected), of(dst.toArray(LeLayouts.BYTE)),
                        name + " segment");
            }
        }
    }

    /** Asserts that every implementation decodes {@code bytes} to the same floats and returns them. */
    static float[] decodeAll(KvDType dtype, byte[] bytes, int length) {
        float[] first = null;
        for (KvCodec codec : implementations(dtype)) {
            float[] out = decode(codec, bytes, length);
            if (first == null) {
                first = out;
            } else {
                org.junit.jupiter.api.Assertions.assertArrayEquals(first, out, codec.getClass().getSimpleName());
            }
        }
        return first;
    }

    /** Decodes {@code bytes} holding {@code length} values with {@code codec} into a float array. */
    static float[] decode(KvCodec codec, byte[] bytes, int length) {
        float[] out = new float[length];
        codec.decode(MemorySegment.ofArray(bytes), 0, length, out, 0);
        return out;
    }
}
