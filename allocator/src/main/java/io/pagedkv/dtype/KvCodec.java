package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * Encodes float vectors into a {@link KvDType}'s bytes and decodes them back.
 *
 * <p>A call handles one vector of {@code length} values (typically one head of one token);
 * {@code length} must be a multiple of the dtype's group size. Offsets into segments are in bytes,
 * offsets into arrays in elements. Float {@code MemorySegment} sources and destinations hold
 * little-endian binary32 values. Encoded bytes are little-endian as llama.cpp writes them.
 *
 * <p>Implementations allocate nothing per call, keep no mutable state and are thread-safe: many
 * threads may encode into distinct destinations at once.
 */
public interface KvCodec {

    /** The dtype this codec writes. */
    KvDType dtype();

    /** Encodes {@code src[srcOffset .. srcOffset+length)} into {@code dst} at byte {@code dstOffset}. */
    void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset);

    /** Encodes {@code length} binary32 values of {@code src} at byte {@code srcOffset}. */
    void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset);

    /** Decodes {@code length} values at byte {@code srcOffset} of {@code src} into {@code dst}. */
    void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset);

    /** Decodes {@code length} values into binary32 values of {@code dst} at byte {@code dstOffset}. */
    void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset);

    /**
     * Throws exactly what {@link #encode(float[], int, int, MemorySegment, long)} would throw for
     * these values (e.g. Q8_0/Q4_0 reject NaN, infinity and an fp16-overflowing scale), writing
     * nothing; returns normally if they can be encoded. A caller that encodes several vectors as
     * one operation (K and V of every head of a token) checks them all first, so a rejected value
     * leaves none of them written. The default accepts every value (the elementwise dtypes encode
     * NaN and infinity).
     */
    default void checkEncodable(float[] src, int srcOffset, int length) {
        if (src == null) {
            throw new NullPointerException("src: null (expected: a float array)");
        }
        CodecArgs.checkLength(dtype(), length);
        if (srcOffset < 0 || srcOffset > src.length - length) {
            throw new IndexOutOfBoundsException("srcOffset: " + srcOffset + " + length: " + length
                    + " (expected: within a float array of length " + src.length + ")");
        }
    }
}
