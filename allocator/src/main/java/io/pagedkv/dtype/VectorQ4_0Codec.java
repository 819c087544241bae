package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.B;
import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 with the Vector API: the same bytes as {@link Q4_0Codec} (the reference). The signed
 * maximum is the first value whose magnitude equals the (exact, order-free) largest magnitude, as
 * the scalar scan keeps the first; {@code x * id + 8.5f} is the same two fp32 operations; the
 * {@code (int8)} cast is {@code F2I} truncation; values j and j + 16 are packed lane-wise into
 * one byte vector.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
final class VectorQ4_0Codec implements KvCodec {

    private static final int QK = Q4_0Codec.QK;
    private static final int HALF = QK / 2;
    private static final int BLOCK_BYTES = Q4_0Codec.BLOCK_BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Clears a binary32's sign bit. */
    private static final int ABS_MASK = 0x7FFF_FFFF;
    /** The bits of {@link Float#MAX_VALUE}: a larger {@code |x|} as bits is an infinity or a NaN. */
    private static final int FINITE_BITS = 0x7F7F_FFFF;

    @Override
    public KvDType dtype() {
        return KvDType.Q4_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        if (length <= 4 * QK) {
            encodeHead(src, srcOffset, length, dst, dstOffset);
            return;
        }
        if (!VectorBlockInput.ok(Q4_0Codec.DIVISOR, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeArray(src, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q4_0Codec.DIVISOR, null, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    /**
     * Groups go in blocks of four whose signed maxima and scales are independent scalars, so their
     * reductions and fp32 divisions overlap instead of forming one chain per group.
     */
    private static void encodeChecked(float[] array, MemorySegment seg, long srcOffset, int length,
            MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) {
            long first = (long) g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d0 = signedMax(array, seg, srcOffset, first) / -8f;
            float d1 = signedMax(array, seg, srcOffset, first + QK) / -8f;
            float d2 = signedMax(array, seg, srcOffset, first + 2 * QK) / -8f;
            float d3 = signedMax(array, seg, srcOffset, first + 3 * QK) / -8f;
            float i0 = d0 != 0f ? 1.0f / d0 : 0f;
            float i1 = d1 != 0f ? 1.0f / d1 : 0f;
            float i2 = d2 != 0f ? 1.0f / d2 : 0f;
            float i3 = d3 != 0f ? 1.0f / d3 : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d0));
            dst.set(LeLayouts.SHORT, out + BLOCK_BYTES, Float.floatToFloat16(d1));
            dst.set(LeLayouts.SHORT, out + 2 * BLOCK_BYTES, Float.floatToFloat16(d2));
            dst.set(LeLayouts.SHORT, out + 3 * BLOCK_BYTES, Float.floatToFloat16(d3));
            pack(array, seg, srcOffset, first, i0, dst, out + 2);
            pack(array, seg, srcOffset, first + QK, i1, dst, out + BLOCK_BYTES + 2);
            pack(array, seg, srcOffset, first + 2 * QK, i2, dst, out + 2 * BLOCK_BYTES + 2);
            pack(array, seg, srcOffset, first + 3 * QK, i3, dst, out + 3 * BLOCK_BYTES + 2);
        }
        for (; g < groups; g++) {
            long first = (long) g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d = signedMax(array, seg, srcOffset, first) / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            pack(array, seg, srcOffset, first, id, dst, out + 2);
        }
    }

    /**
     * At most four groups (a head of up to 128 values, the usual call): their largest magnitudes are
     * computed once, as the bits of {@code |x|} (see {@link #amaxBitsA}), checked (NaN, infinity, an
     * fp16-overflowing scale: nothing written, the scalar check names the value), then their signed
     * values found; no separate checking pass.
     */
    private static void encodeHead(float[] array, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        if (groups == 0) {
            return;
        }
        int a0 = amaxBitsA(array, srcOffset);
        int a1 = groups > 1 ? amaxBitsA(array, srcOffset + QK) : 0;
        int a2 = groups > 2 ? amaxBitsA(array, srcOffset + 2 * QK) : 0;
        int a3 = groups > 3 ? amaxBitsA(array, srcOffset + 3 * QK) : 0;
        int m = Math.max(Math.max(a0, a1), Math.max(a2, a3)); // above FINITE_BITS if any is NaN or infinite
        if (m > FINITE_BITS || BlockInput.scaleOverflows(Float.intBitsToFloat(m), Q4_0Codec.DIVISOR)) {
            BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, array, srcOffset, length); // throws, naming the value
        }
        float d0 = firstWithBitsA(array, srcOffset, a0) / -8f;
        float d1 = groups > 1 ? firstWithBitsA(array, srcOffset + QK, a1) / -8f : 0f;
        float d2 = groups > 2 ? firstWithBitsA(array, srcOffset + 2 * QK, a2) / -8f : 0f;
        float d3 = groups > 3 ? firstWithBitsA(array, srcOffset + 3 * QK, a3) / -8f : 0f;
        float i0 = d0 != 0f ? 1.0f / d0 : 0f;
        float i1 = d1 != 0f ? 1.0f / d1 : 0f;
        float i2 = d2 != 0f ? 1.0f / d2 : 0f;
        float i3 = d3 != 0f ? 1.0f / d3 : 0f;
        dst.set(LeLayouts.SHORT, dstOffset, Float.floatToFloat16(d0));
        packA(array, srcOffset, 0, i0, dst, dstOffset + 2);
        if (groups > 1) {
            dst.set(LeLayouts.SHORT, dstOffset + BLOCK_BYTES, Float.floatToFloat16(d1));
            packA(array, srcOffset, QK, i1, dst, dstOffset + BLOCK_BYTES + 2);
        }
        if (groups > 2) {
            dst.set(LeLayouts.SHORT, dstOffset + 2 * BLOCK_BYTES, Float.floatToFloat16(d2));
            packA(array, srcOffset, 2 * QK, i2, dst, dstOffset + 2 * BLOCK_BYTES + 2);
        }
        if (groups > 3) {
            dst.set(LeLayouts.SHORT, dstOffset + 3 * BLOCK_BYTES, Float.floatToFloat16(d3));
            packA(array, srcOffset, 3 * QK, i3, dst, dstOffset + 3 * BLOCK_BYTES + 2);
        }
    }

    /**
     * The bits of the largest magnitude of the group at {@code array[at]}: {@code |x|} as bits (sign
     * cleared) orders like the float for every non-NaN value, so a plain int maximum is exact, and a
     * NaN (bits above {@link #FINITE_BITS}, as infinity's) comes out on top. Java's float
     * {@code max}, NaN- and signed-zero-aware, costs a blend sequence per step on x86; the int one is
     * one instruction.
     */
    private static int amaxBitsA(float[] array, int at) {
        IntVector acc = absBits(array, at);
        for (int k = L; k < QK; k += L) {
            acc = acc.max(absBits(array, at + k));
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    /** The bits of {@code |x|} of {@link VectorShapes#L} floats at {@code array[at]}. */
    private static IntVector absBits(float[] array, int at) {
        return FloatVector.fromArray(F, array, at).reinterpretAsInts().and(ABS_MASK);
    }

    /**
     * The first value of the group at {@code array[at]} whose magnitude has the bits {@code amaxBits},
     * with its sign (+0 for a group of zeros, as the scalar scan leaves it): the lanes that match, as
     * bits in value order, and the lowest set bit, without a branch on which vector holds it (that
     * branch is a coin flip the CPU mispredicts). In a group of zeros every lane matches and the first
     * is a zero of either sign; adding +0 makes it +0 and leaves every other value as it is.
     */
    private static float firstWithBitsA(float[] array, int at, int amaxBits) {
        long bits = 0;
        for (int k = 0; k < QK; k += L) {
            bits |= absBits(array, at + k).compare(VectorOperators.EQ, amaxBits).toLong() << k;
        }
        return array[at + Long.numberOfTrailingZeros(bits)] + 0f;
    }

    /** {@link #encodeChecked} for a {@code float[]} source (the hot path: caches write from arrays), plain array loads. */
    private static void encodeArray(float[] array, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) {
            int first = g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d0 = signedMaxA(array, srcOffset, first) / -8f;
            float d1 = signedMaxA(array, srcOffset, first + QK) / -8f;
            float d2 = signedMaxA(array, srcOffset, first + 2 * QK) / -8f;
            float d3 = signedMaxA(array, srcOffset, first + 3 * QK) / -8f;
            float i0 = d0 != 0f ? 1.0f / d0 : 0f;
            float i1 = d1 != 0f ? 1.0f / d1 : 0f;
            float i2 = d2 != 0f ? 1.0f / d2 : 0f;
            float i3 = d3 != 0f ? 1.0f / d3 : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d0));
            dst.set(LeLayouts.SHORT, out + BLOCK_BYTES, Float.floatToFloat16(d1));
            dst.set(LeLayouts.SHORT, out + 2 * BLOCK_BYTES, Float.floatToFloat16(d2));
            dst.set(LeLayouts.SHORT, out + 3 * BLOCK_BYTES, Float.floatToFloat16(d3));
            packA(array, srcOffset, first, i0, dst, out + 2);
            packA(array, srcOffset, first + QK, i1, dst, out + BLOCK_BYTES + 2);
            packA(array, srcOffset, first + 2 * QK, i2, dst, out + 2 * BLOCK_BYTES + 2);
            packA(array, srcOffset, first + 3 * QK, i3, dst, out + 3 * BLOCK_BYTES + 2);
        }
        for (; g < groups; g++) {
            int first = g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d = signedMaxA(array, srcOffset, first) / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            packA(array, srcOffset, first, id, dst, out + 2);
        }
    }

    /**
     * The value of largest magnitude of the group at element {@code first}, with its sign: the first
     * whose magnitude equals the (exact, order-free) largest one, as the scalar scan keeps the first.
     */
    private static float signedMax(float[] array, MemorySegment seg, long srcOffset, long first) {
        FloatVector acc = VectorLoads.load(array, seg, srcOffset, first).abs();
        for (int k = L; k < QK; k += L) {
            acc = acc.max(VectorLoads.load(array, seg, srcOffset, first + k).abs());
        }
        float amax = acc.reduceLanes(VectorOperators.MAX);
        if (amax == 0f) {
            return 0f;
        }
        for (int k = 0; k < QK; k += L) {
            VectorMask<Float> hit = VectorLoads.load(array, seg, srcOffset, first + k).abs().compare(VectorOperators.EQ, amax);
            if (hit.anyTrue()) {
                return VectorLoads.get(array, seg, srcOffset, first + k + hit.firstTrue());
            }
        }
        return 0f; // unreachable: some value has the largest magnitude
    }

    /** {@link #signedMax} for a {@code float[]} source, by the bits of {@code |x|}. */
    private static float signedMaxA(float[] array, int srcOffset, int first) {
        int at = srcOffset + first;
        return firstWithBitsA(array, at, amaxBitsA(array, at));
    }

    /** Nibbles {@code min(15, (int)(x * id + 8.5))} of the group, value j with value j + 16, at byte {@code at}. */
    private static void pack(float[] array, MemorySegment seg, long srcOffset, long first, float id, MemorySegment dst,
            long at) {
        for (int k = 0; k < HALF; k += L) {
            IntVector lo = quant(VectorLoads.load(array, seg, srcOffset, first + k), id);
            IntVector hi = quant(VectorLoads.load(array, seg, srcOffset, first + HALF + k), id);
            IntVector packed = lo.or(hi.lanewise(VectorOperators.LSHL, 4));
            ((ByteVector) packed.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, at + k, LE);
        }
    }

    /** {@link #pack} for a {@code float[]} source. */
    private static void packA(float[] array, int srcOffset, int first, float id, MemorySegment dst,
            long at) {
        for (int k = 0; k < HALF; k += L) {
            IntVector lo = quant(FloatVector.fromArray(F, array, srcOffset + first + k), id);
            IntVector hi = quant(FloatVector.fromArray(F, array, srcOffset + first + HALF + k), id);
            IntVector packed = lo.or(hi.lanewise(VectorOperators.LSHL, 4));
            ((ByteVector) packed.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, at + k, LE);
        }
    }

    private static IntVector quant(FloatVector x, float id) {
        return ((IntVector) x.mul(id).add(8.5f).convert(VectorOperators.F2I, 0)).min(15);
    }

    @Override
    public void checkEncodable(float[] src, int srcOffset, int length) {
        KvCodec.super.checkEncodable(src, srcOffset, length);
        BlockInput.check(KvDType.Q4_0, Q4_0Codec.DIVISOR, src, srcOffset, length);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) { // four groups, their scales read first: independent work to overlap
            long in = srcOffset + (long) g * BLOCK_BYTES;
            int first = dstOffset + g * QK;
            float d0 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            float d1 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + BLOCK_BYTES));
            float d2 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + 2 * BLOCK_BYTES));
            float d3 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + 3 * BLOCK_BYTES));
            unpack(src, in, d0, dst, first);
            unpack(src, in + BLOCK_BYTES, d1, dst, first + QK);
            unpack(src, in + 2 * BLOCK_BYTES, d2, dst, first + 2 * QK);
            unpack(src, in + 3 * BLOCK_BYTES, d3, dst, first + 3 * QK);
        }
        for (; g < groups; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            unpack(src, in, Float.float16ToFloat(src.get(LeLayouts.SHORT, in)), dst, dstOffset + g * QK);
        }
    }

    /** The group at byte {@code in}: {@code (nibble - 8) * d}, low nibbles to values 0..15, high to 16..31. */
    private static void unpack(MemorySegment src, long in, float d, float[] dst, int first) {
        for (int k = 0; k < HALF; k += L) {
            ByteVector b = ByteVector.fromMemorySegment(B, src, in + 2 + k, LE);
            ((FloatVector) b.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d)
                    .intoArray(dst, first + k);
            ((FloatVector) b.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d)
                    .intoArray(dst, first + HALF + k);
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q4_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private static void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long first = (long) g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int k = 0; k < HALF; k += L) {
                ByteVector b = ByteVector.fromMemorySegment(B, src, in + 2 + k, LE);
                ByteVector lo = b.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = b.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                FloatVector xlo = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                FloatVector xhi = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                VectorLoads.store(xlo, array, seg, dstOffset, first + k);
                VectorLoads.store(xhi, array, seg, dstOffset, first + HALF + k);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q4_0 vector x" + VectorShapes.L;
    }
}
