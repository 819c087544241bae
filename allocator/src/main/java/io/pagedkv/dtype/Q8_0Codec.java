package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * llama.cpp's Q8_0, byte for byte as {@code quantize_row_q8_0_ref} / {@code dequantize_row_q8_0}
 * in ggml-quants.c. Per group of 32 values, 34 bytes:
 *
 * <pre>
 *   bytes 0..1   d = max|x| / 127 (fp32 division), stored as fp16 (round to nearest even), LE
 *   bytes 2..33  q[j] = roundf(x[j] * id) as int8, where id = d != 0 ? 1/d : 0 (fp32, from the
 *                fp32 d, not from the rounded fp16), roundf rounding halves away from zero
 *   decode       x[j] = q[j] * fp16(d)
 * </pre>
 *
 * <p>NaN and infinity are rejected (see {@link BlockInput}) before anything is written. This is
 * the scalar reference; a vector path must produce identical bytes. Stateless and thread-safe.
 */
final class Q8_0Codec implements KvCodec {

    static final int QK = 32;
    static final int BLOCK_BYTES = 34;
    static final float DIVISOR = 127f;

    @Override
    public KvDType dtype() {
        return KvDType.Q8_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        BlockInput.check(KvDType.Q8_0, DIVISOR, src, srcOffset, length);
        for (int g = 0; g < length / QK; g++) {
            int base = srcOffset + g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) {
                amax = Math.max(amax, Math.abs(src[base + j]));
            }
            float d = amax / DIVISOR;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int j = 0; j < QK; j++) {
                dst.set(LeLayouts.BYTE, out + 2 + j, (byte) roundHalfAway(src[base + j] * id));
            }
        }
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        BlockInput.check(KvDType.Q8_0, DIVISOR, src, srcOffset, length);
        for (int g = 0; g < length / QK; g++) {
            long base = srcOffset + (long) g * QK * Float.BYTES;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) {
                amax = Math.max(amax, Math.abs(src.get(LeLayouts.FLOAT, base + 4L * j)));
            }
            float d = amax / DIVISOR;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int j = 0; j < QK; j++) {
                float x = src.get(LeLayouts.FLOAT, base + 4L * j);
                dst.set(LeLayouts.BYTE, out + 2 + j, (byte) roundHalfAway(x * id));
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
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            int base = dstOffset + g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int j = 0; j < QK; j++) {
                dst[base + j] = src.get(LeLayouts.BYTE, in + 2 + j) * d;
            }
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long base = dstOffset + (long) g * QK * Float.BYTES;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int j = 0; j < QK; j++) {
                dst.set(LeLayouts.FLOAT, base + 4L * j, src.get(LeLayouts.BYTE, in + 2 + j) * d);
            }
        }
    }

    /** C's {@code roundf}: nearest integer, halves away from zero (|x| well inside int range). */
    static int roundHalfAway(float x) {
        float a = Math.abs(x);
        int q = (int) a;
        if (a - q >= 0.5f) {
            q++;
        }
        return x < 0f ? -q : q;
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q8_0 scalar";
    }
}
