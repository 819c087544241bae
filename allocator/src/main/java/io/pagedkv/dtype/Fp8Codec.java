package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * FP8 storage (E4M3FN or E5M2, see {@link Fp8Format} for rounding, saturation, NaN and infinity)
 * with an optional scale as vLLM's FP8 KV cache uses ({@code k_scale}/{@code v_scale}): encode
 * stores {@code fp8(x / scale)}, decode returns {@code fp8value * scale}. With scale 1 the division
 * and multiplication are exact, so the plain codec is the scaled one with scale 1. A finite value
 * whose quotient overflows binary32 saturates like any other finite value too large for the format.
 * One byte per value. Immutable and thread-safe.
 */
final class Fp8Codec implements KvCodec {

    private final KvDType dtype;
    private final Fp8Format format;
    private final float scale;

    Fp8Codec(KvDType dtype, float scale) {
        this.dtype = dtype;
        this.format = switch (dtype) {
            case FP8_E4M3 -> Fp8Format.E4M3FN;
            case FP8_E5M2 -> Fp8Format.E5M2;
            default -> throw new IllegalArgumentException("dtype: " + dtype + " (expected: fp8_e4m3 or fp8_e5m2)");
        };
        this.scale = scale;
    }

    @Override
    public KvDType dtype() {
        return dtype;
    }

    /** The scale: stored values are {@code x / scale}. */
    float scale() {
        return scale;
    }

    /** The 8-bit format. */
    Fp8Format format() {
        return format;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(dtype, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst.set(LeLayouts.BYTE, dstOffset + i, (byte) encodeOne(src[srcOffset + i]));
        }
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(dtype, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            float v = src.get(LeLayouts.FLOAT, srcOffset + 4L * i);
            dst.set(LeLayouts.BYTE, dstOffset + i, (byte) encodeOne(v));
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(dtype, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst[dstOffset + i] = format.decode(src.get(LeLayouts.BYTE, srcOffset + i)) * scale;
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(dtype, src, srcOffset, length, dst, dstOffset);
        for (int i = 0; i < length; i++) {
            dst.set(LeLayouts.FLOAT, dstOffset + 4L * i, format.decode(src.get(LeLayouts.BYTE, srcOffset + i)) * scale);
        }
    }

    private int encodeOne(float x) {
        float y = x / scale;
        if (Float.isInfinite(y) && !Float.isInfinite(x)) {
            y = Math.copySign(Float.MAX_VALUE, x);
        }
        return format.encode(y);
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return dtype.label() + " scalar" + (scale == 1f ? "" : " scale " + scale);
    }
}
