package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.B;
import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.I;
import static io.pagedkv.dtype.VectorShapes.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 with the Vector API: the same bytes as {@link Q8_0Codec} (the reference), computed a vector
 * of lanes at a time. Every step is lane-wise the scalar step: the absolute maximum is exact in any
 * order, {@code x * id} is one fp32 multiply, and {@code roundf} is truncation plus one where the
 * (exact) fraction is at least one half, with the sign put back.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
final class VectorQ8_0Codec implements KvCodec {

    private static final int QK = Q8_0Codec.QK;
    private static final int BLOCK_BYTES = Q8_0Codec.BLOCK_BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public KvDType dtype() {
        return KvDType.Q8_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q8_0Codec.DIVISOR, src, null, srcOffset, length)) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(src, null, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q8_0Codec.DIVISOR, null, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    /** Source is {@code array} (offset in elements) or else {@code seg} (offset in bytes). */
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
            float d = amax / Q8_0Codec.DIVISOR;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int k = 0; k < QK; k += L) {
                FloatVector x = VectorLoads.load(array, seg, srcOffset, first + k).mul(id);
                FloatVector a = x.abs();
                IntVector q = (IntVector) a.convert(VectorOperators.F2I, 0);
                FloatVector frac = a.sub((FloatVector) q.convert(VectorOperators.I2F, 0));
                q = q.add(1, frac.compare(VectorOperators.GE, 0.5f).cast(I));
                VectorMask<Integer> negative = x.compare(VectorOperators.LT, 0f).cast(I);
                q = q.lanewise(VectorOperators.NEG, negative);
                ((ByteVector) q.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, out + 2 + k, LE);
            }
        }
    }

    @Override
    public void checkEncodable(float[] src, int srcOffset, int length) {
        KvCodec.super.checkEncodable(src, srcOffset, length);
        BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, src, srcOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, dst, null, dstOffset);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private static void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long first = (long) g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int k = 0; k < QK; k += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, in + 2 + k, LE);
                FloatVector x = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                VectorLoads.store(x, array, seg, dstOffset, first + k);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q8_0 vector x" + VectorShapes.L;
    }
}
