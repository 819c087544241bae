package io.pagedkv.dtype;

/**
 * Entry point of the Vector API fast path: the vector codec of a dtype, or null where there is none
 * (or the platform's vectors are too narrow to pay). {@link KvCodecs} touches this class only after
 * checking that {@code jdk.incubator.vector} is in the boot layer, so an application without
 * {@code --add-modules jdk.incubator.vector} never loads it or any class that names the Vector API.
 * Thread-safe (immutable singletons).
 */
final class VectorCodecs {

    private static final KvCodec Q8_0 = new VectorQ8_0Codec();
    private static final KvCodec Q4_0 = new VectorQ4_0Codec();
    private static final KvCodec BF16 = new VectorBf16Codec();
    private static final KvCodec F16 = new VectorF16Codec();
    private static final KvCodec FP8_E4M3 = new VectorFp8Codec(new Fp8Codec(KvDType.FP8_E4M3, 1f));
    private static final KvCodec FP8_E5M2 = new VectorFp8Codec(new Fp8Codec(KvDType.FP8_E5M2, 1f));

    private VectorCodecs() {
    }

    /** The vector form of a scaled FP8 codec, or null if vectors do not pay here. */
    static KvCodec scaled(Fp8Codec scalar) {
        return VectorShapes.PROFITABLE ? new VectorFp8Codec(scalar) : null;
    }

    /** The vector codec of {@code dtype}, or null if it has none here. */
    static KvCodec of(KvDType dtype) {
        if (!VectorShapes.PROFITABLE) {
            return null;
        }
        return switch (dtype) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case BF16 -> BF16;
            case F16 -> F16;
            case FP8_E4M3 -> FP8_E4M3;
            case FP8_E5M2 -> FP8_E5M2;
            default -> null;
        };
    }
}
