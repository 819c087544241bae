package io.pagedkv.dtype;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A tiny program run in a child JVM by {@link VectorPathSelectionTest}: encodes and decodes a Q4_0
 * and a BF16 vector through {@link KvCodecs#of} and prints which path it got.
 */
public final class CodecPathProbe {

    private CodecPathProbe() {
    }

    /** Prints {@code vector=<bool> q4=<class> roundtrip=<value>}. */
    public static void main(String[] args) {
        float[] x = new float[32];
        for (int i = 0; i < x.length; i++) {
            x[i] = i - 16;
        }
        KvCodec q4 = KvCodecs.of(KvDType.Q4_0);
        KvCodec bf16 = KvCodecs.of(KvDType.BF16);
        float[] back = new float[32];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvDType.Q4_0.bytesFor(32));
            q4.encode(x, 0, 32, s, 0);
            q4.decode(s, 0, 32, back, 0);
            MemorySegment t = arena.allocate(KvDType.BF16.bytesFor(32));
            bf16.encode(x, 0, 32, t, 0);
        }
        System.out.println("vector=" + KvCodecs.vectorEnabled() + " q4=" + q4.getClass().getSimpleName()
                + " bf16=" + bf16.getClass().getSimpleName() + " roundtrip=" + back[0]);
    }
}
