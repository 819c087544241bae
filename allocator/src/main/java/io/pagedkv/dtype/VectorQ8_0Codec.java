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
import jdk.incubator.vector.VectorShuffle;

/**
 * Q8_0 with the Vector API: the same bytes as {@link Q8_0Codec} (the reference), computed a vector
 * of lanes at a time. Every step is lane-wise the scalar step: the absolute maximum is exact in any
 * order, {@code x * id} is one fp32 multiply, and {@code roundf} is truncation plus one where the
 * (exact) fraction is at least one half, with the sign put back.
 *
 * <p>A head of exactly four groups (128 values, the usual call) takes {@link #encodeFour}: one method
 * with no vector crossing a call (a vector argument or result of a call that is not inlined is boxed,
 * and C2 left three of four per-group helper calls un-inlined), the four maxima folded into one
 * vector, the scales as vector divisions, and {@code roundf} as {@code trunc(y + copysign(0.49999997f, y))}.
 *
 * <p>Only loaded when {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
final class VectorQ8_0Codec implements KvCodec {

    private static final int QK = Q8_0Codec.QK;
    private static final int BLOCK_BYTES = Q8_0Codec.BLOCK_BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Clears a binary32's sign bit. */
    private static final int ABS_MASK = 0x7FFF_FFFF;
    /** A binary32's sign bit. */
    private static final int SIGN_BIT = 0x8000_0000;
    /**
     * The bits of 0.49999997f, the float just below one half: for {@code 0 <= a < 2^23},
     * {@code (int) (a + 0.49999997f)} is {@code roundf(a)} (the sum rounds up to the next integer exactly
     * when a's fraction is at least one half), and the same holds for negative values with the sign.
     */
    private static final int HALF_DOWN_BITS = Float.floatToRawIntBits(0.49999997f);
    /** Lanes per group after {@link #encodeFour}'s fold: {@code L / 4} (4 or 2). */
    private static final int QL = L / 4;
    /** The upper half of the lanes. */
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));
    /** Blocks 1 and 3 of four blocks of {@link #QL} lanes. */
    private static final VectorMask<Integer> ODD_QUARTERS = VectorMask.fromLong(I,
            (((1L << QL) - 1) << QL) | (((1L << QL) - 1) << (3 * QL)));
    /** Swaps the two halves of the lanes. */
    private static final VectorShuffle<Integer> SWAP_HALVES = VectorShuffle.fromOp(I, i -> (i + L / 2) % L);
    /** Swaps blocks 0 and 1, and 2 and 3, of {@link #QL} lanes. */
    private static final VectorShuffle<Integer> SWAP_QUARTERS = VectorShuffle.fromOp(I, i -> i ^ QL);
    /** Swaps lanes two apart within blocks of four (used when {@link #QL} is 4). */
    private static final VectorShuffle<Integer> SWAP_2 = VectorShuffle.fromOp(I, i -> i ^ 2);
    /** Swaps neighbouring lanes. */
    private static final VectorShuffle<Integer> SWAP_1 = VectorShuffle.fromOp(I, i -> i ^ 1);
    /** A group maximum's bits at or above this are NaN, infinite or give an fp16-overflowing scale. */
    private static final int LIMIT_BITS = VectorBlockInput.limitBits(Q8_0Codec.DIVISOR);

    @Override
    public KvDType dtype() {
        return KvDType.Q8_0;
    }

    @Override
    public void encode(float[] src, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        if (length == 4 * QK) {
            encodeFour(src, srcOffset, dst, dstOffset);
            return;
        }
        if (length < 4 * QK) {
            encodeHead(src, srcOffset, length, dst, dstOffset);
            return;
        }
        if (!VectorBlockInput.ok(Q8_0Codec.DIVISOR, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeArray(src, srcOffset, length, dst, dstOffset);
    }

    @Override
    public void encode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkEncode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        if (!VectorBlockInput.ok(Q8_0Codec.DIVISOR, null, src, srcOffset, length)) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, src, srcOffset, length);
        }
        encodeChecked(null, src, srcOffset, length, dst, dstOffset);
    }

    /**
     * Source is {@code array} (offset in elements) or else {@code seg} (offset in bytes). Groups go in
     * blocks of four whose maxima and scales are independent scalars, so the four reductions and the
     * eight fp32 divisions overlap instead of forming one chain per group (1.5x here).
     */
    private static void encodeChecked(float[] array, MemorySegment seg, long srcOffset, int length,
            MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) {
            long first = (long) g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float a0 = amax(array, seg, srcOffset, first);
            float a1 = amax(array, seg, srcOffset, first + QK);
            float a2 = amax(array, seg, srcOffset, first + 2 * QK);
            float a3 = amax(array, seg, srcOffset, first + 3 * QK);
            float d0 = a0 / Q8_0Codec.DIVISOR;
            float d1 = a1 / Q8_0Codec.DIVISOR;
            float d2 = a2 / Q8_0Codec.DIVISOR;
            float d3 = a3 / Q8_0Codec.DIVISOR;
            float i0 = d0 != 0f ? 1.0f / d0 : 0f;
            float i1 = d1 != 0f ? 1.0f / d1 : 0f;
            float i2 = d2 != 0f ? 1.0f / d2 : 0f;
            float i3 = d3 != 0f ? 1.0f / d3 : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d0));
            dst.set(LeLayouts.SHORT, out + BLOCK_BYTES, Float.floatToFloat16(d1));
            dst.set(LeLayouts.SHORT, out + 2 * BLOCK_BYTES, Float.floatToFloat16(d2));
            dst.set(LeLayouts.SHORT, out + 3 * BLOCK_BYTES, Float.floatToFloat16(d3));
            quantise(array, seg, srcOffset, first, i0, dst, out + 2);
            quantise(array, seg, srcOffset, first + QK, i1, dst, out + BLOCK_BYTES + 2);
            quantise(array, seg, srcOffset, first + 2 * QK, i2, dst, out + 2 * BLOCK_BYTES + 2);
            quantise(array, seg, srcOffset, first + 3 * QK, i3, dst, out + 3 * BLOCK_BYTES + 2);
        }
        for (; g < groups; g++) {
            long first = (long) g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d = amax(array, seg, srcOffset, first) / Q8_0Codec.DIVISOR;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            quantise(array, seg, srcOffset, first, id, dst, out + 2);
        }
    }

    /**
     * One to three groups (a head of 32 to 96 values; four take {@link #encodeFour}): their maxima are computed once,
     * checked (NaN, infinity, an fp16-overflowing scale: nothing written, the scalar check names the
     * value), then used; no separate checking pass.
     */
    private static void encodeHead(float[] array, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        if (groups == 0) {
            return;
        }
        float a0 = amaxA(array, srcOffset, 0);
        float a1 = groups > 1 ? amaxA(array, srcOffset, QK) : 0f;
        float a2 = groups > 2 ? amaxA(array, srcOffset, 2 * QK) : 0f;
        float a3 = groups > 3 ? amaxA(array, srcOffset, 3 * QK) : 0f;
        float m = Math.max(Math.max(a0, a1), Math.max(a2, a3)); // NaN if any is NaN
        if (!(m <= Float.MAX_VALUE) || BlockInput.scaleOverflows(m, Q8_0Codec.DIVISOR)) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, array, srcOffset, length); // throws, naming the value
        }
        float d0 = a0 / Q8_0Codec.DIVISOR;
        float d1 = a1 / Q8_0Codec.DIVISOR;
        float d2 = a2 / Q8_0Codec.DIVISOR;
        float d3 = a3 / Q8_0Codec.DIVISOR;
        float i0 = d0 != 0f ? 1.0f / d0 : 0f;
        float i1 = d1 != 0f ? 1.0f / d1 : 0f;
        float i2 = d2 != 0f ? 1.0f / d2 : 0f;
        float i3 = d3 != 0f ? 1.0f / d3 : 0f;
        dst.set(LeLayouts.SHORT, dstOffset, Float.floatToFloat16(d0));
        quantiseA(array, srcOffset, 0, i0, dst, dstOffset + 2);
        if (groups > 1) {
            dst.set(LeLayouts.SHORT, dstOffset + BLOCK_BYTES, Float.floatToFloat16(d1));
            quantiseA(array, srcOffset, QK, i1, dst, dstOffset + BLOCK_BYTES + 2);
        }
        if (groups > 2) {
            dst.set(LeLayouts.SHORT, dstOffset + 2 * BLOCK_BYTES, Float.floatToFloat16(d2));
            quantiseA(array, srcOffset, 2 * QK, i2, dst, dstOffset + 2 * BLOCK_BYTES + 2);
        }
        if (groups > 3) {
            dst.set(LeLayouts.SHORT, dstOffset + 3 * BLOCK_BYTES, Float.floatToFloat16(d3));
            quantiseA(array, srcOffset, 3 * QK, i3, dst, dstOffset + 3 * BLOCK_BYTES + 2);
        }
    }

    /** {@link #encodeChecked} for a {@code float[]} source (the hot path: caches write from arrays), plain array loads. */
    private static void encodeArray(float[] array, int srcOffset, int length, MemorySegment dst, long dstOffset) {
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) {
            encodeFour(array, srcOffset + g * QK, dst, dstOffset + (long) g * BLOCK_BYTES);
        }
        for (; g < groups; g++) {
            int first = g * QK;
            long out = dstOffset + (long) g * BLOCK_BYTES;
            float d = amaxA(array, srcOffset, first) / Q8_0Codec.DIVISOR;
            float id = d != 0f ? 1.0f / d : 0f;
            dst.set(LeLayouts.SHORT, out, Float.floatToFloat16(d));
            quantiseA(array, srcOffset, first, id, dst, out + 2);
        }
    }

    /**
     * Four groups from {@code array[at]} into {@code dst} at byte {@code out}, checked first (a NaN, an
     * infinity or an fp16-overflowing scale: nothing written, the scalar check throws naming the value).
     * All in one method, so that no vector is boxed at a call. The four groups' {@code |x|} bits (they
     * order like the floats, NaN above infinity) are maximised lane-wise, then folded into one vector:
     * halves of two groups side by side and maximised, then quarters, then within a block; group 0, 2, 1
     * and 3 end in blocks 0, 1, 2 and 3 of {@link #QL} lanes. The scales {@code d = max / 127} and
     * {@code 1 / d} are two vector divisions; a reciprocal that overflows (d below 2^-128, or 0) is taken
     * as 0, where the reference's {@code x * inf} (or {@code 0 * inf}, NaN) also gives code 0.
     */
    private static void encodeFour(float[] array, int at, MemorySegment dst, long out) {
        IntVector m0 = FloatVector.fromArray(F, array, at).reinterpretAsInts().and(ABS_MASK);
        IntVector m1 = FloatVector.fromArray(F, array, at + QK).reinterpretAsInts().and(ABS_MASK);
        IntVector m2 = FloatVector.fromArray(F, array, at + 2 * QK).reinterpretAsInts().and(ABS_MASK);
        IntVector m3 = FloatVector.fromArray(F, array, at + 3 * QK).reinterpretAsInts().and(ABS_MASK);
        for (int k = L; k < QK; k += L) {
            m0 = m0.max(FloatVector.fromArray(F, array, at + k).reinterpretAsInts().and(ABS_MASK));
            m1 = m1.max(FloatVector.fromArray(F, array, at + QK + k).reinterpretAsInts().and(ABS_MASK));
            m2 = m2.max(FloatVector.fromArray(F, array, at + 2 * QK + k).reinterpretAsInts().and(ABS_MASK));
            m3 = m3.max(FloatVector.fromArray(F, array, at + 3 * QK + k).reinterpretAsInts().and(ABS_MASK));
        }
        // halves: group 0 in the lower half, group 1 in the upper (and 2, 3)
        IntVector p01 = m0.blend(m1, UPPER_HALF).max(m1.blend(m0, UPPER_HALF).rearrange(SWAP_HALVES));
        IntVector p23 = m2.blend(m3, UPPER_HALF).max(m3.blend(m2, UPPER_HALF).rearrange(SWAP_HALVES));
        // quarters: groups 0, 2, 1, 3 in blocks 0..3
        IntVector q = p01.blend(p23, ODD_QUARTERS).max(p23.blend(p01, ODD_QUARTERS).rearrange(SWAP_QUARTERS));
        if (QL == 4) {
            q = q.max(q.rearrange(SWAP_2));
        }
        q = q.max(q.rearrange(SWAP_1));
        if (q.compare(VectorOperators.GE, LIMIT_BITS).anyTrue()) {
            BlockInput.check(KvDType.Q8_0, Q8_0Codec.DIVISOR, array, at, 4 * QK); // throws, naming the value
        }
        FloatVector d = q.reinterpretAsFloats().div(Q8_0Codec.DIVISOR);
        FloatVector r = FloatVector.broadcast(F, 1f).div(d);
        FloatVector id = r.blend(0f, r.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
        float i0 = id.lane(0);
        float i1 = id.lane(2 * QL);
        float i2 = id.lane(QL);
        float i3 = id.lane(3 * QL);
        short h0 = Float.floatToFloat16(d.lane(0));
        short h1 = Float.floatToFloat16(d.lane(2 * QL));
        short h2 = Float.floatToFloat16(d.lane(QL));
        short h3 = Float.floatToFloat16(d.lane(3 * QL));
        for (int g = 0; g < 4; g++) { // a loop, not four copies: C2 compiles this body once
            float ig = g == 0 ? i0 : g == 1 ? i1 : g == 2 ? i2 : i3;
            dst.set(LeLayouts.SHORT, out, g == 0 ? h0 : g == 1 ? h1 : g == 2 ? h2 : h3);
            FloatVector idg = FloatVector.broadcast(F, ig);
            for (int k = 0; k < QK; k += L) {
                FloatVector y = FloatVector.fromArray(F, array, at + k).mul(idg);
                IntVector half = y.reinterpretAsInts().and(SIGN_BIT).or(HALF_DOWN_BITS); // copysign(0.49999997f, y)
                IntVector v = (IntVector) y.add(half.reinterpretAsFloats()).convert(VectorOperators.F2I, 0);
                ((ByteVector) v.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, out + 2 + k, LE);
            }
            out += BLOCK_BYTES;
            at += QK;
        }
    }

    /** The largest magnitude of the group starting at element {@code first} (exact in any order). */
    private static float amax(float[] array, MemorySegment seg, long srcOffset, long first) {
        FloatVector acc = VectorLoads.load(array, seg, srcOffset, first).abs();
        for (int k = L; k < QK; k += L) {
            acc = acc.max(VectorLoads.load(array, seg, srcOffset, first + k).abs());
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link #amax} for a {@code float[]} source, on the bits of {@code |x|}: with the sign cleared
     * they order like the floats for every non-NaN value, and NaN's bits lie above infinity's, so an
     * int maximum (one instruction, where Java's NaN- and signed-zero-aware float maximum is a blend
     * sequence on x86) gives the same float, a NaN if any value is NaN.
     */
    private static float amaxA(float[] array, int srcOffset, int first) {
        IntVector acc = FloatVector.fromArray(F, array, srcOffset + first).reinterpretAsInts().and(0x7FFF_FFFF);
        for (int k = L; k < QK; k += L) {
            acc = acc.max(FloatVector.fromArray(F, array, srcOffset + first + k).reinterpretAsInts().and(0x7FFF_FFFF));
        }
        return Float.intBitsToFloat(acc.reduceLanes(VectorOperators.MAX));
    }

    /** {@code roundf(x * id)} of the group's 32 values as int8 at byte {@code at} of {@code dst}. */
    private static void quantise(float[] array, MemorySegment seg, long srcOffset, long first, float id,
            MemorySegment dst, long at) {
        for (int k = 0; k < QK; k += L) {
            FloatVector x = VectorLoads.load(array, seg, srcOffset, first + k).mul(id);
            FloatVector a = x.abs();
            IntVector q = (IntVector) a.convert(VectorOperators.F2I, 0);
            FloatVector frac = a.sub((FloatVector) q.convert(VectorOperators.I2F, 0));
            q = q.add(1, frac.compare(VectorOperators.GE, 0.5f).cast(I));
            VectorMask<Integer> negative = x.compare(VectorOperators.LT, 0f).cast(I);
            q = q.lanewise(VectorOperators.NEG, negative);
            ((ByteVector) q.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, at + k, LE);
        }
    }

    /** {@link #quantise} for a {@code float[]} source. */
    private static void quantiseA(float[] array, int srcOffset, int first, float id,
            MemorySegment dst, long at) {
        for (int k = 0; k < QK; k += L) {
            FloatVector x = FloatVector.fromArray(F, array, srcOffset + first + k).mul(id);
            FloatVector a = x.abs();
            IntVector q = (IntVector) a.convert(VectorOperators.F2I, 0);
            FloatVector frac = a.sub((FloatVector) q.convert(VectorOperators.I2F, 0));
            q = q.add(1, frac.compare(VectorOperators.GE, 0.5f).cast(I));
            VectorMask<Integer> negative = x.compare(VectorOperators.LT, 0f).cast(I);
            q = q.lanewise(VectorOperators.NEG, negative);
            ((ByteVector) q.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, at + k, LE);
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
        int groups = length / QK;
        int g = 0;
        for (; g + 4 <= groups; g += 4) { // four groups, their scales read first: independent work to overlap
            long in = srcOffset + (long) g * BLOCK_BYTES;
            int first = dstOffset + g * QK;
            float d0 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            float d1 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + BLOCK_BYTES));
            float d2 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + 2 * BLOCK_BYTES));
            float d3 = Float.float16ToFloat(src.get(LeLayouts.SHORT, in + 3 * BLOCK_BYTES));
            dequantise(src, in, d0, dst, first);
            dequantise(src, in + BLOCK_BYTES, d1, dst, first + QK);
            dequantise(src, in + 2 * BLOCK_BYTES, d2, dst, first + 2 * QK);
            dequantise(src, in + 3 * BLOCK_BYTES, d3, dst, first + 3 * QK);
        }
        for (; g < groups; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            dequantise(src, in, Float.float16ToFloat(src.get(LeLayouts.SHORT, in)), dst, dstOffset + g * QK);
        }
    }

    /** The 32 codes of the group at byte {@code in} times {@code d}, into {@code dst[first ..]}. */
    private static void dequantise(MemorySegment src, long in, float d, float[] dst, int first) {
        for (int k = 0; k < QK; k += L) {
            ((FloatVector) ByteVector.fromMemorySegment(B, src, in + 2 + k, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(dst, first + k);
        }
    }

    @Override
    public void decode(MemorySegment src, long srcOffset, int length, MemorySegment dst, long dstOffset) {
        CodecArgs.checkDecode(KvDType.Q8_0, src, srcOffset, length, dst, dstOffset);
        decodeChecked(src, srcOffset, length, null, dst, dstOffset);
    }

    private static void decodeChecked(MemorySegment src, long srcOffset, int length, float[] array,
            MemorySegment seg, long dstOffset) {
        for (int g = 0; g < length / QK; g++) {
            long in = srcOffset + (long) g * BLOCK_BYTES;
            long first = (long) g * QK;
            float d = Float.float16ToFloat(src.get(LeLayouts.SHORT, in));
            for (int k = 0; k < QK; k += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, in + 2 + k, LE);
                FloatVector x = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
                VectorLoads.store(x, array, seg, dstOffset, first + k);
            }
        }
    }

    /** The dtype and path, e.g. {@code q8_0 vector x16}. */
    @Override
    public String toString() {
        return "q8_0 vector x" + VectorShapes.L;
    }
}
