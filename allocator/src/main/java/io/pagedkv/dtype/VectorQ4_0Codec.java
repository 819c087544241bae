package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.B;
import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 with the Vector API: the same bytes as {@link Q4_0Codec} (the reference). The signed
 * maximum is the first value whose magnitude equals the (exact, order-free) largest magnitude, as
 * the scalar scan keeps the first; {@code x * id + 8.5f} is the same two fp32 operations; the
 * {@code (int8)} cast is {@code F2I} truncation; values j and j + 16 are packed lane-wise into
 * one byte vector.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
final class VectorQ4_0Codec implements KvCodec {

    private static final int QK = Q4_0Codec.QK;
    private static final int HALF = QK / 2;
    private static final int BLOCK_BYTES = Q4_0Codec.BLOCK_BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public KvDType dtype() {
        return KvDType.Q4_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q4_0Codec.DIVISOR, src, null, srcOffset, length)) {
            BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(src, null, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q4_0Codec.DIVISOR, null, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    private static void encodeChecked(float[] array, MemorySegment seg, long srcOffset, int length,
            MemorySegment dst, long dstOffset) {
        for (int g = 0; g < length / QK; g++) {
            long first = (long) g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            FloatVector acc = FloatVector.zero(F);
            for (int k = 0; k < QK; k += L) {
                acc = acc.max(VectorLoads.load(array, seg, srcOffset, first + k).abs());
            }
            float amax = acc.reduceLanes(VectorOperators.MAX);
            float max = 0f;
            if (amax != 0f) {
                for (int k = 0; k < QK; k += L) {
                    VectorMask<Float> hit = VectorLoads.load(array, seg, srcOffset, first + k).abs()
                            .compare(VectorOperators.EQ, amax);
                    if (hit.anyTrue()) {
                        max = VectorLoads.get(array, seg, srcOffset, first + k + hit.firstTrue());
                        break;
                    }
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int k = 0; k < HALF; k += L) {
                IntVector lo = quant(VectorLoads.load(array, seg, srcOffset, first + k), id);
                IntVector hi = quant(VectorLoads.load(array, seg, srcOffset, first + HALF + k), id);
                IntVector packed = lo.or(hi.lanewise(VectorOperators.LSHL, 4));
                ((ByteVector) packed.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, out + 2 + k, LE);
            }
        }
    }

    private static IntVector quant(FloatVector x, float id) {
        return ((IntVector) x.mul(id).add(8.5f).convert(VectorOperators.F2I, 0)).min(15);
    }

    @Override
    public void checkEncodable(float[] src, int srcOffset, int length) {
        KvCodec.super.checkEncodable(src, srcOffset, length);
        BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, dst, null, dstOffset);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private static void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long first = (long) g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int k = 0; k < HALF; k += L) {
                ByteVector b = ByteVector.fromMemorySegment(B, src, in + 2 + k, LE);
                ByteVector lo = b.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = b.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                FloatVector xlo = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                FloatVector xhi = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                VectorLoads.store(xlo, array, seg, dstOffset, first + k);
                VectorLoads.store(xhi, array, seg, dstOffset, first + HALF + k);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q4_0 vector x" + VectorShapes.L;
    }
}
