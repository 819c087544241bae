package io.pagedkv.redis;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Test payloads and token ids made from seeds: equal seeds, equal bytes. */
final class TestBlocks {

    private TestBlocks() {
    }

    static MemorySegment payload(long seed, int bytes) {
        MemorySegment s = MemorySegment.ofArray(new byte[bytes]);
        long x = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        for (long i = 0; i < bytes; i++) {
            x ^= x >>> 31;
            x *= 0xBF58476D1CE4E5B9L;
            x ^= x >>> 29;
            s.set(ValueLayout.JAVA_BYTE, i, (byte) x);
        }
        return s;
    }

    static boolean holds(MemorySegment s, long seed) {
        return s.mismatch(payload(seed, (int) s.byteSize())) == -1;
    }

    static int[] tokens(long seed, int count) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            t[i] = (int) ((seed * 31 + i * 7919L) % 32000);
        }
        return t;
    }
}
