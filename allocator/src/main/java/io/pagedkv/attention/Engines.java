package io.pagedkv.attention;

import io.pagedkv.dtype.KvDType;
import io.pagedkv.model.ModelShape;

/**
 * Picks an {@link AttentionEngine}: the Vector API one when module {@code jdk.incubator.vector} is in
 * the boot layer, the platform's preferred vectors are at least 256 bits wide, and
 * {@value #VECTOR_PROP_NAME} is not {@code false}; else the scalar reference. The vector class is
 * loaded only after the module is found, so an application without it never loads a class that
 * names the Vector API. Stateless.
 */
final class Engines {

    /** System property: {@code false} forces the scalar engine even when the Vector API is present. */
    static final String VECTOR_PROP_NAME = "pagedkv.attention.vector";

    private Engines() {
    }

    /** The fastest engine for this shape and dtype over contiguous head vectors (slot stride: one head vector). */
    static AttentionEngine best(ModelShape shape, KvDType dtype) {
        return best(shape, dtype, dtype.bytesFor(shape.headDim()));
    }

    /** The fastest engine for this shape and dtype, its drivers passing slots {@code slotStride} bytes apart. */
    static AttentionEngine best(ModelShape shape, KvDType dtype, long slotStride) {
        if (!Boolean.parseBoolean(System.getProperty(VECTOR_PROP_NAME, "true"))) {
            return new ScalarAttentionEngine(shape, slotStride);
        }
        return vectorIfPresent(shape, dtype, slotStride);
    }

    /** The vector engine whenever the module is present and vectors pay (tests use it directly). */
    static AttentionEngine vectorIfPresent(ModelShape shape, KvDType dtype, long slotStride) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty() || !VectorHolder.profitable()) {
            return new ScalarAttentionEngine(shape, slotStride);
        }
        return VectorHolder.create(shape, dtype, slotStride);
    }

    /** Defers loading the Vector API classes until the module is known to be present. */
    private static final class VectorHolder {
        static boolean profitable() {
            return VectorLanes.PROFITABLE;
        }

        static AttentionEngine create(ModelShape shape, KvDType dtype, long slotStride) {
            return new VectorAttentionEngine(shape, dtype, slotStride);
        }
    }
}
