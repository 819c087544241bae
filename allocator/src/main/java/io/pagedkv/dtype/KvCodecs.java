package io.pagedkv.dtype;

/**
 * Finds the codec of a {@link KvDType}. Codecs are shared, stateless singletons (scaled FP8 codecs
 * are small immutable objects); this class is thread-safe.
 *
 * <p>Every dtype has a scalar codec, the reference. {@link #of(KvDType)} returns it.
 */
public final class KvCodecs {

    private static final KvCodec F32 = new F32Codec();
    private static final KvCodec F16 = new F16Codec();
    private static final KvCodec BF16 = new Bf16Codec();
    private static final KvCodec FP8_E4M3 = new Fp8Codec(KvDType.FP8_E4M3, 1f);
    private static final KvCodec FP8_E5M2 = new Fp8Codec(KvDType.FP8_E5M2, 1f);
    private static final KvCodec Q8_0 = new Q8_0Codec();
    private static final KvCodec Q4_0 = new Q4_0Codec();

    private KvCodecs() {
    }

    /** The codec for {@code dtype}. */
    public static KvCodec of(KvDType dtype) {
        return scalar(dtype);
    }

    /**
     * The codec for {@code dtype} with a per-tensor scale, as vLLM's FP8 KV cache
     * ({@code k_scale}/{@code v_scale}): stores {@code x / scale}, decodes {@code q * scale}.
     *
     * @throws IllegalArgumentException if {@code scale} is not finite and positive, or if it is not 1
     *     for a dtype other than FP8 (only the FP8 dtypes take a scale)
     */
    public static KvCodec of(KvDType dtype, float scale) {
        if (!(scale > 0f && scale <= Float.MAX_VALUE)) {
            throw new IllegalArgumentException("scale: " + scale + " (expected: finite and > 0)");
        }
        if (scale == 1f) {
            return of(requireDtype(dtype));
        }
        return switch (requireDtype(dtype)) {
            case FP8_E4M3, FP8_E5M2 -> new Fp8Codec(dtype, scale);
            default -> throw new IllegalArgumentException("scale: " + scale + " for " + dtype
                    + " (expected: 1; only fp8_e4m3 and fp8_e5m2 take a scale)");
        };
    }

    /** The scalar reference codec for {@code dtype}. */
    public static KvCodec scalar(KvDType dtype) {
        return switch (requireDtype(dtype)) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case FP8_E4M3 -> FP8_E4M3;
            case FP8_E5M2 -> FP8_E5M2;
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
        };
    }

    private static KvDType requireDtype(KvDType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: null (expected: a KvDType)");
        }
        return dtype;
    }
}
