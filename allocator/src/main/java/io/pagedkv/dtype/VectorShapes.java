package io.pagedkv.dtype;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species the fast-path codecs use: 16 float lanes where the platform prefers vectors of
 * 512 bits or more (AVX-512), otherwise 8 lanes (256 bits), with the int, short and byte species of
 * the same lane count. A lane count of 8 or 16 divides a Q4_0 block's 16 nibble bytes and gives
 * byte vectors of a legal shape (64 or 128 bits).
 *
 * <p>Part of the Vector API fast path: only loaded when {@code jdk.incubator.vector} is in the boot
 * layer (see {@link KvCodecs}). On a platform whose preferred vectors are narrower than 256 bits
 * the 256-bit species would be emulated, so {@link #PROFITABLE} is false there and the scalar
 * codecs are used. Constants only.
 */
final class VectorShapes {

    /** Float lanes. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Lane count of {@link #F}: 16 or 8. */
    static final int L = F.length();
    /** Ints, same lane count. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Shorts, same lane count. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    /** Bytes, same lane count. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** Whether the platform runs these species in hardware (preferred vectors of 256 bits or more). */
    static final boolean PROFITABLE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    private VectorShapes() {
    }
}
