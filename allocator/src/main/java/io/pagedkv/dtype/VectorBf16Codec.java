package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.I;
import static io.pagedkv.dtype.VectorShapes.L;
import static io.pagedkv.dtype.VectorShapes.S;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * bfloat16 with the Vector API: the same bytes as {@link Bf16Codec} (the reference), by the same
 * integer rounding on the float bits, NaN lanes blended in as in {@link Bf16#fromFloat}. Vectors
 * of {@link VectorShapes#L} values, then a scalar tail.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
final class VectorBf16Codec implements KvCodec {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public KvDType dtype() {
        return KvDType.BF16;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        encodeChecked(src, null, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    private static void encodeChecked(float[] array, MemorySegment seg, long srcOffset, int length,
            MemorySegment dst, long dstOffset) {
        int i = 0;
        for (int bound = length - L + 1; i < bound; i += L) {
            IntVector bits = VectorLoads.load(array, seg, srcOffset, i).reinterpretAsInts();
            IntVector rounded = bits.add(0x7FFF)
                    .add(bits.lanewise(VectorOperators.LSHR, 16).and(1))
                    .lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = bits.and(0x7FFF_FFFF).compare(VectorOperators.GT, 0x7F80_0000);
            IntVector quietNan = bits.lanewise(VectorOperators.LSHR, 16).or(0x0040);
            IntVector out = rounded.blend(quietNan, nan);
            ((ShortVector) out.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(dst, dstOffset + 2L * i, LE);
        }
        for (; i < length; i++) {
            dst.set(LeLayouts.SHORT, dstOffset + 2L * i, Bf16.fromFloat(VectorLoads.get(array, seg, srcOffset, i)));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, dst, null, dstOffset);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private static void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        int i = 0;
        for (int bound = length - L + 1; i < bound; i += L) {
            ShortVector s = ShortVector.fromMemorySegment(S, src, srcOffset + 2L * i, LE);
            IntVector bits = ((IntVector) s.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16);
            VectorLoads.store(bits.reinterpretAsFloats(), array, seg, dstOffset, i);
        }
        for (; i < length; i++) {
            float v = Bf16.toFloat(src.get(LeLayouts.SHORT, srcOffset + 2L * i));
            if (array != null) {
                array[(int) (dstOffset + i)] = v;
            } else {
                seg.set(LeLayouts.FLOAT, dstOffset + 4L * i, v);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "bf16 vector x" + VectorShapes.L;
    }
}
