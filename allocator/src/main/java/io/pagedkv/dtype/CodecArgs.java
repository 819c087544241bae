package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * Argument checks shared by every codec, run before a single byte is written so that a rejected
 * call leaves the destination exactly as it was. Messages name the value and the limit.
 */
final class CodecArgs {

    private CodecArgs() {
    }

    /** Checks an encode from a float array; returns the number of bytes that will be written. */
    static long checkEncode(KvDType dtype, float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        if (src == null) {
            throw new NullPointerException("src: null (expected: a float array)");
        }
        checkLength(dtype, length);
        if (srcOffset < 0 || srcOffset > src.length - length) {
            throw new IndexOutOfBoundsException("srcOffset: " + srcOffset + " + length: " + length
                    + " (expected: within a float array of length " + src.length + ")");
        }
        return checkDst(dtype, length, dst, dstOffset);
    }

    /** Checks an encode from a binary32 segment; returns the number of bytes that will be written. */
    static long checkEncode(KvDType dtype, MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        if (src == null) {
            throw new NullPointerException("src: null (expected: a MemorySegment of binary32 values)");
        }
        checkLength(dtype, length);
        checkRange("srcOffset", srcOffset, (long) length * Float.BYTES, src.byteSize());
        return checkDst(dtype, length, dst, dstOffset);
    }

    /** Checks a decode into a float array. */
    static void checkDecode(KvDType dtype, MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        checkSrc(dtype, src, srcOffset, length);
        if (dst == null) {
            throw new NullPointerException("dst: null (expected: a float array)");
        }
        if (dstOffset < 0 || dstOffset > dst.length - length) {
            throw new IndexOutOfBoundsException("dstOffset: " + dstOffset + " + length: " + length
                    + " (expected: within a float array of length " + dst.length + ")");
        }
    }

    /** Checks a decode into a binary32 segment. */
    static void checkDecode(KvDType dtype, MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        checkSrc(dtype, src, srcOffset, length);
        if (dst == null) {
            throw new NullPointerException("dst: null (expected: a MemorySegment for binary32 values)");
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only segment (expected: writable)");
        }
        checkRange("dstOffset", dstOffset, (long) length * Float.BYTES, dst.byteSize());
    }

    private static void checkSrc(KvDType dtype, MemorySegment src, long srcOffset, int length) {
        if (src == null) {
            throw new NullPointerException("src: null (expected: a MemorySegment of " + dtype + " bytes)");
        }
        checkLength(dtype, length);
        checkRange("srcOffset", srcOffset, bytes(dtype, length), src.byteSize());
    }

    private static long checkDst(KvDType dtype, int length, MemorySegment dst, long dstOffset) {
        if (dst == null) {
            throw new NullPointerException("dst: null (expected: a MemorySegment for " + dtype + " bytes)");
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only segment (expected: writable)");
        }
        long bytes = bytes(dtype, length);
        checkRange("dstOffset", dstOffset, bytes, dst.byteSize());
        return bytes;
    }

    static void checkLength(KvDType dtype, int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 0)");
        }
        if ((length & (dtype.groupSize() - 1)) != 0) { // group sizes are powers of two (1, 32): no idiv per call
            throw new IllegalArgumentException("length: " + length + " (expected: a multiple of the "
                    + dtype.label() + " group size " + dtype.groupSize() + ")");
        }
    }

    private static long bytes(KvDType dtype, int length) {
        return (long) (length >>> Integer.numberOfTrailingZeros(dtype.groupSize())) * dtype.bytesPerGroup();
    }

    private static void checkRange(String name, long offset, long bytes, long size) {
        if (offset < 0 || offset > size - bytes) {
            throw new IndexOutOfBoundsException(name + ": " + offset + " + " + bytes
                    + " bytes (expected: within a segment of " + size + " bytes)");
        }
    }
}
