package io.pagedkv.dtype;

import java.util.Optional;

/**
 * Finds the codec of a {@link KvDType}.
 *
 * <p>Every dtype has a scalar codec, the reference ({@link #scalar}). Some dtypes also have a
 * Vector API codec ({@link #vector}) that writes identical bytes faster. The Vector API is an
 * incubator module in JDK 25: it is used only when {@code jdk.incubator.vector} is in the boot
 * module layer (the application was started with {@code --add-modules jdk.incubator.vector}) and
 * the system property {@value #VECTOR_PROP_NAME} is not {@code false}; that choice is made once,
 * when this class initialises, and {@link #of(KvDType)} returns the fast codec where there is one.
 * Without the module no class that names the Vector API is ever loaded.
 *
 * <pre>{@code
 * KvCodec codec = KvCodecs.of(KvDType.Q8_0);          // vector if enabled, else scalar
 * MemorySegment slot = ...;                            // KvDType.Q8_0.bytesFor(128) = 136 bytes
 * codec.encode(key, 0, 128, slot, 0);                  // float[] -> llama.cpp block_q8_0 x 4
 * codec.decode(slot, 0, 128, out, 0);                  // and back, within d/2 per value
 * KvCodec fp8 = KvCodecs.of(KvDType.FP8_E4M3, kScale); // vLLM k_scale; one codec per scale,
 *                                                      // so a per-head scale is a codec per head
 * }</pre>
 *
 * <p>Codecs are shared, stateless singletons (scaled FP8 codecs are small immutable objects); this
 * class is thread-safe.
 */
public final class KvCodecs {

    /** System property: {@code false} keeps the scalar codecs even when the Vector API is present. */
    public static final String VECTOR_PROP_NAME = "pagedkv.codec.vector";
    /** Whether {@code jdk.incubator.vector} is in the boot layer. */
    private static final boolean VECTOR_MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    /** Whether {@link #of(KvDType)} hands out vector codecs. */
    private static final boolean USE_VECTOR = VECTOR_MODULE
            && !"false".equalsIgnoreCase(System.getProperty(VECTOR_PROP_NAME, "true"));

    private static final KvCodec F32 = new F32Codec();
    private static final KvCodec F16 = new F16Codec();
    private static final KvCodec BF16 = new Bf16Codec();
    private static final KvCodec FP8_E4M3 = new Fp8Codec(KvDType.FP8_E4M3, 1f);
    private static final KvCodec FP8_E5M2 = new Fp8Codec(KvDType.FP8_E5M2, 1f);
    private static final KvCodec Q8_0 = new Q8_0Codec();
    private static final KvCodec Q4_0 = new Q4_0Codec();

    private KvCodecs() {
    }

    /** The fastest codec for {@code dtype}: the vector one if enabled and present, else the scalar. */
    public static KvCodec of(KvDType dtype) {
        if (USE_VECTOR) {
            KvCodec v = VectorCodecs.of(requireDtype(dtype));
            if (v != null) {
                return v;
            }
        }
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
        checkScale(scale);
        if (scale == 1f) {
            return of(requireDtype(dtype));
        }
        Fp8Codec scaled = scalarScaled(dtype, scale);
        if (USE_VECTOR) {
            KvCodec v = VectorCodecs.scaled(scaled);
            if (v != null) {
                return v;
            }
        }
        return scaled;
    }

    /** The scalar reference form of {@link #of(KvDType, float)}; same checks. */
    public static KvCodec scalar(KvDType dtype, float scale) {
        checkScale(scale);
        return scale == 1f ? scalar(dtype) : scalarScaled(dtype, scale);
    }

    /** The Vector API form of {@link #of(KvDType, float)}, whatever {@value #VECTOR_PROP_NAME} says; see {@link #vector(KvDType)}. */
    public static Optional<KvCodec> vector(KvDType dtype, float scale) {
        KvCodec s = scalar(dtype, scale);
        if (!VECTOR_MODULE) {
            return Optional.empty();
        }
        return Optional.ofNullable(s instanceof Fp8Codec f && scale != 1f ? VectorCodecs.scaled(f) : VectorCodecs.of(dtype));
    }

    private static void checkScale(float scale) {
        if (!(scale > 0f && scale <= Float.MAX_VALUE)) {
            throw new IllegalArgumentException("scale: " + scale + " (expected: finite and > 0)");
        }
    }

    private static Fp8Codec scalarScaled(KvDType dtype, float scale) {
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

    /**
     * The Vector API codec for {@code dtype}, whatever {@value #VECTOR_PROP_NAME} says; empty when
     * {@code jdk.incubator.vector} is absent, the platform's vectors are narrower than 256 bits, or
     * the dtype has no vector path (F32 is a plain copy).
     */
    public static Optional<KvCodec> vector(KvDType dtype) {
        requireDtype(dtype);
        return VECTOR_MODULE ? Optional.ofNullable(VectorCodecs.of(dtype)) : Optional.empty();
    }

    /** Whether {@link #of(KvDType)} hands out Vector API codecs in this JVM. */
    public static boolean vectorEnabled() {
        return USE_VECTOR;
    }

    private static KvDType requireDtype(KvDType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: null (expected: a KvDType)");
        }
        return dtype;
    }
}
