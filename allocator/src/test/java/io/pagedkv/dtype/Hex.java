package io.pagedkv.dtype;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;

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

    /** Decodes {@code bytes} holding {@code length} values with {@code codec} into a float array. */
    static float[] decode(KvCodec codec, byte[] bytes, int length) {
        float[] out = new float[length];
        codec.decode(MemorySegment.ofArray(bytes), 0, length, out, 0);
        return out;
    }
}
