package io.pagedkv.dtype;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The little-endian, unaligned value layouts every codec reads and writes. Constants only. */
final class LeLayouts {

    /** binary32, little-endian, any alignment. */
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** 16-bit word (fp16, bf16 bits), little-endian, any alignment. */
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** One byte. */
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private LeLayouts() {
    }
}
