package io.pagedkv.tier;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Test payloads: a block's bytes made from a seed, so that equal seeds mean equal bytes. */
final class Blocks {

    private Blocks() {
    }

    /** A heap segment of {@code bytes} bytes from {@code seed}. */
    static MemorySegment payload(long seed, int bytes) {
        MemorySegment s = MemorySegment.ofArray(new byte[bytes]);
        fill(s, seed);
        return s;
    }

    /** An off-heap segment of {@code bytes} from {@code seed} in {@code arena}. */
    static MemorySegment payload(Arena arena, long seed, int bytes) {
        MemorySegment s = arena.allocate(bytes, 64);
        fill(s, seed);
        return s;
    }

    static void fill(MemorySegment s, long seed) {
        long x = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        for (long i = 0; i < s.byteSize(); i++) {
            x ^= x >>> 31;
            x *= 0xBF58476D1CE4E5B9L;
            x ^= x >>> 29;
            s.set(ValueLayout.JAVA_BYTE, i, (byte) x);
        }
    }

    /** Whether {@code s} holds exactly the bytes of {@code seed}. */
    static boolean holds(MemorySegment s, long seed) {
        return s.mismatch(payload(seed, (int) s.byteSize())) == -1;
    }

    /** Token ids of a block, from a seed. */
    static int[] tokens(long seed, int count) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            t[i] = (int) ((seed * 31 + i * 7919L) % 32000);
        }
        return t;
    }
}
