package io.pagedkv.dtype;

import static io.pagedkv.dtype.VectorShapes.B;
import static io.pagedkv.dtype.VectorShapes.F;
import static io.pagedkv.dtype.VectorShapes.I;
import static io.pagedkv.dtype.VectorShapes.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * FP8 (E4M3FN or E5M2, optionally scaled) with the Vector API: the same bytes as {@link Fp8Codec}
 * (the reference) by the same integer algorithm of {@link Fp8Format#encode}, lane-wise with masks
 * for NaN, infinity, saturation and subnormals. The subnormal rounding {@code Math.rint(y)} for
 * {@code 0 <= y <= 2^manBits} is {@code (y + 2^23) - 2^23}, which rounds to nearest even exactly
 * the same way. Decoding rebuilds the binary32 bits arithmetically (exact for every code) instead
 * of the scalar table lookup; both give the same floats.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Immutable and thread-safe.
 */
final class VectorFp8Codec implements KvCodec {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float TWO_23 = 0x1p23f;

    private final KvDType dtype;
    private final float scale;
    private final Fp8Format fmt;
    private final Fp8Codec scalar;
    private final int shift;
    private final int rebias;
    private final int expMask;
    private final float subnormalValue;

    VectorFp8Codec(Fp8Codec scalar) {
        this.scalar = scalar;
        this.dtype = scalar.dtype();
        this.scale = scalar.scale();
        this.fmt = scalar.format();
        this.shift = 23 - fmt.manBits();
        this.rebias = (127 - fmt.bias()) << 23;
        this.expMask = (0x7F >> fmt.manBits()) << fmt.manBits();
        this.subnormalValue = Math.scalb(1f, 1 - fmt.bias() - fmt.manBits());
    }

    @Override
    public KvDType dtype() {
        return dtype;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(dtype, src, srcOffset, length, dst, dstOffset);
        encodeChecked(src, null, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(dtype, src, srcOffset, length, dst, dstOffset);
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    private void encodeChecked(float[] array, MemorySegment seg, long srcOffset, int length,
            MemorySegment dst, long dstOffset) {
        int i = 0;
        for (int bound = length - L + 1; i < bound; i += L) {
            FloatVector x = VectorLoads.load(array, seg, srcOffset, i);
            FloatVector y = x.div(scale);
            VectorMask<Float> overflowed = y.test(VectorOperators.IS_INFINITE)
                    .andNot(x.test(VectorOperators.IS_INFINITE));
            FloatVector signedMax = x.reinterpretAsInts().and(0x8000_0000).or(0x7F7F_FFFF).reinterpretAsFloats();
            y = y.blend(signedMax, overflowed);
            IntVector codes = encode(y);
            ((ByteVector) codes.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, dstOffset + i, LE);
        }
        if (i < length) {
            tail(array, seg, srcOffset, i, length, dst, dstOffset);
        }
    }

    private void tail(float[] array, MemorySegment seg, long srcOffset, int from, int length,
            MemorySegment dst, long dstOffset) {
        if (array != null) {
            scalar.encode(array, (int) srcOffset + from, length - from, dst, dstOffset + from);
        } else {
            scalar.encode(seg, srcOffset + 4L * from, length - from, dst, dstOffset + from);
        }
    }

    /** {@link Fp8Format#encode} lane-wise. */
    private IntVector encode(FloatVector y) {
        IntVector bits = y.reinterpretAsInts();
        IntVector sign = bits.lanewise(VectorOperators.LSHR, 24).and(0x80);
        IntVector abs = bits.and(0x7FFF_FFFF);
        // Normal range: rebias and round the mantissa to nearest even with carry into the exponent.
        IntVector r = abs.sub(rebias);
        IntVector normal = r.add((1 << (shift - 1)) - 1)
                .add(r.lanewise(VectorOperators.LSHR, shift).and(1))
                .lanewise(VectorOperators.LSHR, shift);
        // Subnormal range: units of the smallest subnormal, rounded to nearest even.
        FloatVector units = abs.reinterpretAsFloats().mul(fmt.subnormalScale()).add(TWO_23).sub(TWO_23);
        IntVector subnormal = (IntVector) units.convert(VectorOperators.F2I, 0);
        IntVector code = normal.blend(subnormal, abs.compare(VectorOperators.LT, fmt.minNormalBits()));
        code = code.blend(fmt.maxCode(), abs.compare(VectorOperators.GE, fmt.maxFiniteBits()));
        int infCode = fmt.hasInf() ? Fp8Format.E5M2_INF : Fp8Format.NAN;
        code = code.blend(infCode, abs.compare(VectorOperators.EQ, 0x7F80_0000));
        code = code.blend(Fp8Format.NAN, abs.compare(VectorOperators.GT, 0x7F80_0000));
        return code.or(sign);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, float[] dst, int dstOffset) {
        CodecArgs.checkDecode(dtype, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, dst, null, dstOffset);
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(dtype, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        int i = 0;
        for (int bound = length - L + 1; i < bound; i += L) {
            ByteVector b = ByteVector.fromMemorySegment(B, src, srcOffset + i, LE);
            IntVector code = (IntVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            VectorLoads.store(decode(code).mul(scale), array, seg, dstOffset, i);
        }
        if (i < length) {
            if (array != null) {
                scalar.decode(src, srcOffset + i, length - i, array, (int) dstOffset + i);
            } else {
                scalar.decode(src, srcOffset + i, length - i, seg, dstOffset + 4L * i);
            }
        }
    }

    /** The exact binary32 value of each 8-bit code. */
    private FloatVector decode(IntVector code) {
        IntVector mag = code.and(0x7F);
        IntVector signBit = code.and(0x80).lanewise(VectorOperators.LSHL, 24);
        // Normal: shift exponent and mantissa into place and rebias.
        IntVector normalBits = mag.lanewise(VectorOperators.LSHL, shift).add(rebias);
        // Subnormal (exponent field 0): mantissa times the smallest subnormal, exact.
        FloatVector sub = ((FloatVector) mag.convert(VectorOperators.I2F, 0)).mul(subnormalValue);
        IntVector bits = normalBits.blend(sub.reinterpretAsInts(), code.and(expMask).compare(VectorOperators.EQ, 0));
        if (fmt.hasInf()) {
            bits = bits.blend(0x7F80_0000, mag.compare(VectorOperators.EQ, Fp8Format.E5M2_INF));
            bits = bits.blend(0x7FC0_0000, mag.compare(VectorOperators.GT, Fp8Format.E5M2_INF));
        } else {
            bits = bits.blend(0x7FC0_0000, mag.compare(VectorOperators.EQ, Fp8Format.NAN));
        }
        return bits.or(signBit).reinterpretAsFloats();
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return dtype.label() + " vector x" + L + (scale == 1f ? "" : " scale " + scale);
    }
}
