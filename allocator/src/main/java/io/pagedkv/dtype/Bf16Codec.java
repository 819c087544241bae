package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * bfloat16 storage: {@link Bf16#fromFloat} (round to nearest even, NaN stays NaN, infinities kept),
 * two little-endian bytes per value. Stateless and thread-safe.
 */
final class Bf16Codec implements KvCodec {

    @Override
    public KvDType dtype() {
        return KvDType.BF16;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst.set(LeLayouts.SHORT, dstOffset + 2L * i, Bf16.fromFloat(src[srcOffset + i]));
        }
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            float v = src.get(LeLayouts.FLOAT, srcOffset + 4L * i);
            dst.set(LeLayouts.SHORT, dstOffset + 2L * i, Bf16.fromFloat(v));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = Bf16.toFloat(src.get(LeLayouts.SHORT, srcOffset + 2L * i));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.BF16, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst.set(LeLayouts.FLOAT, dstOffset + 4L * i, Bf16.toFloat(src.get(LeLayouts.SHORT, srcOffset + 2L * i)));
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "bf16 scalar";
    }
}
