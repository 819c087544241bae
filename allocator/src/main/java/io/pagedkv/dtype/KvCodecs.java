package io.pagedkv.dtype;

/**
 * Finds the codec of a {@link KvDType}. Thread-safe; codecs are shared singletons.
 */
public final class KvCodecs {

    private static final KvCodec F32 = new F32Codec();

    private KvCodecs() {
    }

    /**
     * The codec for {@code dtype}.
     *
     * @throws UnsupportedOperationException for a dtype whose codec is not built yet
     */
    public static KvCodec of(KvDType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            default -> throw new UnsupportedOperationException("kv dtype " + dtype + ": no codec yet");
        };
    }
}
