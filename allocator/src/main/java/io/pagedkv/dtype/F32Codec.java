package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The identity codec: little-endian binary32; NaN, infinities and every payload bit are kept.
 * Stateless and thread-safe.
 */
final class F32Codec implements KvCodec {

    static final ValueLayout.OfFloat LE_FLOAT = LeLayouts.FLOAT;

    @Override
    public KvDType dtype() {
        return KvDType.F32;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.F32, src, srcOffset, length, dst, dstOffset);
        MemorySegment.copy(src, srcOffset, dst, LE_FLOAT, dstOffset, length);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.F32, src, srcOffset, length, dst, dstOffset);
        MemorySegment.copy(src, srcOffset, dst, dstOffset, (long) length * Float.BYTES);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.F32, src, srcOffset, length, dst, dstOffset);
        MemorySegment.copy(src, LE_FLOAT, srcOffset, dst, dstOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.F32, src, srcOffset, length, dst, dstOffset);
        MemorySegment.copy(src, srcOffset, dst, dstOffset, (long) length * Float.BYTES);
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "f32 scalar";
    }
}
