package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * IEEE binary16 via {@link Float#floatToFloat16} (round to nearest, ties to even) and
 * {@link Float#float16ToFloat}; two little-endian bytes per value.
 *
 * <p>Special values: NaN encodes as a binary16 NaN (sign kept), infinities as infinities, and a
 * finite value whose magnitude rounds past 65504 overflows to infinity as IEEE 754 rounding says.
 * Values below the smallest subnormal (2^-24) round to signed zero. Stateless and thread-safe.
 */
final class F16Codec implements KvCodec {

    @Override
    public KvDType dtype() {
        return KvDType.F16;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.F16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst.set(LeLayouts.SHORT, dstOffset + 2L * i, Float.floatToFloat16(src[srcOffset + i]));
        }
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.F16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            float v = src.get(LeLayouts.FLOAT, srcOffset + 4L * i);
            dst.set(LeLayouts.SHORT, dstOffset + 2L * i, Float.floatToFloat16(v));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.F16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(src.get(LeLayouts.SHORT, srcOffset + 2L * i));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.F16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            float v = Float.float16ToFloat(src.get(LeLayouts.SHORT, srcOffset + 2L * i));
            dst.set(LeLayouts.FLOAT, dstOffset + 4L * i, v);
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "f16 scalar";
    }
}
