package io.pagedkv.attention;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The species, constants and small vector steps of {@link VectorAttentionEngine}: loading {@link #L}
 * stored values of any fused dtype as floats, and the butterfly that turns {@code L} partial vectors
 * into one vector of their lane sums. Every method is small and static so that C2 inlines it into the
 * loop that calls it (a vector that crosses a call that is not inlined is boxed). Constants only;
 * loaded only when {@code jdk.incubator.vector} is present.
 */
final class VectorLanes {

    /** Float lanes: 512-bit vectors where the CPU prefers them, else 256-bit. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Lanes per vector, and slots per tile: 16 or 8. */
    static final int L = F.length();
    /** Whether the platform runs these species in hardware (preferred vectors of 256 bits or more). */
    static final boolean PROFITABLE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    /** Ints, same lane count. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Bytes (Q8_0 codes), same lane count. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** Slot indices 0..L-1. */
    static final IntVector IOTA = IntVector.zero(I).addIndex(1);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** How stored values are read. */
    static final int F32 = 0;
    static final int Q8_0 = 1;

    // Butterfly level h: the lanes with bit h set, and the swap of lane i with lane i ^ h.
    static final VectorMask<Float> M1 = bitMask(1);
    static final VectorMask<Float> M2 = bitMask(2);
    static final VectorMask<Float> M4 = bitMask(4);
    static final VectorMask<Float> M8 = L > 8 ? bitMask(8) : null;
    static final VectorShuffle<Float> S1 = swap(1);
    static final VectorShuffle<Float> S2 = swap(2);
    static final VectorShuffle<Float> S4 = swap(4);
    static final VectorShuffle<Float> S8 = L > 8 ? swap(8) : null;

    private VectorLanes() {
    }

    private static VectorMask<Float> bitMask(int h) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = (i & h) != 0;
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    private static VectorShuffle<Float> swap(int h) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) {
            idx[i] = i ^ h;
        }
        return VectorShuffle.fromArray(F, idx, 0);
    }

    /** {@link #L} binary32 values at byte {@code off}. */
    static FloatVector loadF32(MemorySegment seg, long off) {
        return FloatVector.fromMemorySegment(F, seg, off, LE);
    }

    /**
     * {@link #L} Q8_0 int8 codes at byte {@code off} as floats (exact, unscaled). Other dtypes are not
     * fused: a widening of more than a few operations, inlined at every load of a four-row loop, passes
     * C2's node-count inlining cutoff, and the loop's vectors are then boxed; their tiles are decoded by
     * their codecs instead.
     */
    static FloatVector loadQ8(MemorySegment seg, long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B, seg, off, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /** One butterfly step: lanes with bit h clear sum a's pairs (i, i^h), lanes with it set sum b's. */
    static FloatVector fold(FloatVector a, FloatVector b, VectorMask<Float> m, VectorShuffle<Float> sw) {
        return a.blend(b, m).add(b.blend(a, m).rearrange(sw));
    }

    /**
     * The first butterfly level of 16 partial vectors {@code part[at + k * 16]}: vectors 2k and 2k+1
     * fold into vector k (k < 8); levels 4, 2, 1 follow in the engine's per-row step. A leaf too big for
     * C2 to inline into its caller, so it is compiled alone and every fold in it is inlined (past C2's
     * node-count cutoff a fold would become a call, and its vectors boxed).
     */
    static void firstLevel16(float[] part, int at) {
        FloatVector a0 = fold(FloatVector.fromArray(F, part, at), FloatVector.fromArray(F, part, at + 16), M8, S8);
        FloatVector a1 = fold(FloatVector.fromArray(F, part, at + 32), FloatVector.fromArray(F, part, at + 48), M8, S8);
        FloatVector a2 = fold(FloatVector.fromArray(F, part, at + 64), FloatVector.fromArray(F, part, at + 80), M8, S8);
        FloatVector a3 = fold(FloatVector.fromArray(F, part, at + 96), FloatVector.fromArray(F, part, at + 112), M8, S8);
        FloatVector a4 = fold(FloatVector.fromArray(F, part, at + 128), FloatVector.fromArray(F, part, at + 144), M8, S8);
        FloatVector a5 = fold(FloatVector.fromArray(F, part, at + 160), FloatVector.fromArray(F, part, at + 176), M8, S8);
        FloatVector a6 = fold(FloatVector.fromArray(F, part, at + 192), FloatVector.fromArray(F, part, at + 208), M8, S8);
        FloatVector a7 = fold(FloatVector.fromArray(F, part, at + 224), FloatVector.fromArray(F, part, at + 240), M8, S8);
        a0.intoArray(part, at);
        a1.intoArray(part, at + L);
        a2.intoArray(part, at + 2 * L);
        a3.intoArray(part, at + 3 * L);
        a4.intoArray(part, at + 4 * L);
        a5.intoArray(part, at + 5 * L);
        a6.intoArray(part, at + 6 * L);
        a7.intoArray(part, at + 7 * L);
    }

    /** Which slot's sum the butterfly leaves in each lane, as the shuffle that brings slot j to lane j. */
    static VectorShuffle<Float> unpermute(int vectors, int slotsPerVector, int laneSpan) {
        int[][] slotOfLane = new int[vectors][L];
        for (int k = 0; k < vectors; k++) {
            for (int i = 0; i < L; i++) {
                slotOfLane[k][i] = k * slotsPerVector + i / laneSpan;
            }
        }
        for (int h = vectors / 2; h >= 1; h >>= 1) {
            int[][] next = new int[slotOfLane.length / 2][L];
            for (int j = 0; j < next.length; j++) {
                for (int i = 0; i < L; i++) {
                    next[j][i] = (i & h) == 0 ? slotOfLane[2 * j][i] : slotOfLane[2 * j + 1][i];
                }
            }
            slotOfLane = next;
        }
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) {
            idx[slotOfLane[0][i]] = i;
        }
        return VectorShuffle.fromArray(F, idx, 0);
    }
}
