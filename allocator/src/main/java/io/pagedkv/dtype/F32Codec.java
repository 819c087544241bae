package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The identity codec: little-endian binary32. Stateless and thread-safe. */
final class F32Codec implements KvCodec {

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public KvDType dtype() {
        return KvDType.F32;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        MemorySegment.copy(src, srcOffset, dst, LE_FLOAT, dstOffset, length);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        MemorySegment.copy(src, srcOffset, dst, dstOffset, (long) length * Float.BYTES);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        MemorySegment.copy(src, LE_FLOAT, srcOffset, dst, dstOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        MemorySegment.copy(src, srcOffset, dst, dstOffset, (long) length * Float.BYTES);
    }
}
