package io.pagedkv.dtype;

import java.lang.foreign.MemorySegment;

/**
 * llama.cpp's Q4_0, byte for byte as {@code quantize_row_q4_0_ref} / {@code dequantize_row_q4_0}
 * in ggml-quants.c. Per group of 32 values, 18 bytes:
 *
 * <pre>
 *   max          the value of largest magnitude, with its sign (the first one on a tie)
 *   bytes 0..1   d = max / -8 (fp32), stored as fp16 (round to nearest even), LE
 *   q[j]         min(15, (int8)(x[j] * id + 8.5f)), id = d != 0 ? 1/d : 0 (fp32), cast truncates
 *   bytes 2..17  byte j = q[j] | q[j + 16] &lt;&lt; 4  (low nibble value j, high nibble value j+16)
 *   decode       x[j] = (q[j] - 8) * fp16(d)
 * </pre>
 *
 * <p>The value {@code max} itself maps to q = 0 (decodes to -8 d = max); its opposite would map to
 * 16 and is clamped to 15 (decodes to 7 d), which is why Q4_0's error can reach one full d there.
 * An all-zero group stores d = -0.0 (bytes {@code 00 80}) and every nibble 8, as llama.cpp does.
 * NaN and infinity are rejected (see {@link BlockInput}) before anything is written. This is the
 * scalar reference; a vector path must produce identical bytes. Stateless and thread-safe.
 */
final class Q4_0Codec implements KvCodec {

    static final int QK = 32;
    static final int BLOCK_BYTES = 18;
    static final float DIVISOR = 8f;

    @Override
    public KvDType dtype() {
        return KvDType.Q4_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        BlockInput.check(KvDType.Q4_0, DIVISOR, src, srcOffset, length);
        for (int g = 0; g < length / QK; g++) {
            int base = srcOffset + g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src[base + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int j = 0; j < QK / 2; j++) {
                int lo = Math.min(15, (int) (src[base + j] * id + 8.5f));
                int hi = Math.min(15, (int) (src[base + QK / 2 + j] * id + 8.5f));
                dst.set(LeLayouts.BYTE, out + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        BlockInput.check(KvDType.Q4_0, DIVISOR, src, srcOffset, length);
        for (int g = 0; g < length / QK; g++) {
            long base = srcOffset + (long) g * QK * Float.BYTES;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src.get(LeLayouts.FLOAT, base + 4L * j);
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            for (int j = 0; j < QK / 2; j++) {
                float x0 = src.get(LeLayouts.FLOAT, base + 4L * j);
                float x1 = src.get(LeLayouts.FLOAT, base + 4L * (QK / 2 + j));
                int lo = Math.min(15, (int) (x0 * id + 8.5f));
                int hi = Math.min(15, (int) (x1 * id + 8.5f));
                dst.set(LeLayouts.BYTE, out + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    @Override
    public void checkEncodable(float[] src, int srcOffset, int length) {
        KvCodec.super.checkEncodable(src, srcOffset, length);
        BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            int base = dstOffset + g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int j = 0; j < QK / 2; j++) {
                int b = src.get(LeLayouts.BYTE, in + 2 + j);
                dst[base + j] = ((b & 0x0F) - 8) * d;
                dst[base + QK / 2 + j] = (((b >> 4) & 0x0F) - 8) * d;
            }
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long base = dstOffset + (long) g * QK * Float.BYTES;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int j = 0; j < QK / 2; j++) {
                int b = src.get(LeLayouts.BYTE, in + 2 + j);
                dst.set(LeLayouts.FLOAT, base + 4L * j, ((b & 0x0F) - 8) * d);
                dst.set(LeLayouts.FLOAT, base + 4L * (QK / 2 + j), (((b >> 4) & 0x0F) - 8) * d);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q4_0 scalar";
    }
}
