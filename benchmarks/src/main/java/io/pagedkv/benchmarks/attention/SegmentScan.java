package io.pagedkv.benchmarks.attention;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The memory-bandwidth yardstick: reads every byte of a segment once with the widest vectors and
 * four independent accumulators (so neither the adder latency nor the loop bounds it), and returns
 * their sum so the reads are not dead code. A kernel that reads the same bytes cannot be faster.
 * Stateless.
 */
final class SegmentScan {

    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private SegmentScan() {
    }

    /** Sum of the segment's longs (wrapping); its size must be a multiple of 4 vectors. */
    static long sum(MemorySegment seg) {
        long step = S.vectorByteSize();
        long n = seg.byteSize();
        LongVector a0 = LongVector.zero(S);
        LongVector a1 = LongVector.zero(S);
        LongVector a2 = LongVector.zero(S);
        LongVector a3 = LongVector.zero(S);
        for (long off = 0; off + 4 * step <= n; off += 4 * step) {
            a0 = a0.add(LongVector.fromMemorySegment(S, seg, off, LE));
            a1 = a1.add(LongVector.fromMemorySegment(S, seg, off + step, LE));
            a2 = a2.add(LongVector.fromMemorySegment(S, seg, off + 2 * step, LE));
            a3 = a3.add(LongVector.fromMemorySegment(S, seg, off + 3 * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
