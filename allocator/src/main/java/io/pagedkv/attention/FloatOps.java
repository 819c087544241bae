package io.pagedkv.attention;

/**
 * The three vector loops attention spends its time in, over float arrays. One implementation is
 * plain Java (always available), the other uses the incubating Vector API and is loaded only when
 * module {@code jdk.incubator.vector} is present. Stateless and thread-safe.
 */
abstract class FloatOps {

    /** System property: {@code false} forces the scalar loops even when the Vector API is present. */
    static final String VECTOR_PROP_NAME = "pagedkv.attention.vector";

    /** The scalar loops. */
    static final FloatOps SCALAR = new ScalarFloatOps();

    /** {@code sum a[aOff+i] * b[bOff+i]} for {@code i < n}. */
    abstract float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff+i] += alpha * x[xOff+i]} for {@code i < n}. */
    abstract void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code y[yOff+i] *= alpha} for {@code i < n}. */
    abstract void scale(float alpha, float[] y, int yOff, int n);

    /**
     * The fastest loops for vectors of {@code length} floats: vectorised when the module is present,
     * not disabled, and a vector holds at least two full registers (shorter loops, e.g. head dim 8 or
     * 16 on AVX-512, spend more in lane reduction and, before C2 compiles them, in boxing than they gain).
     */
    static FloatOps best(int length) {
        if (!Boolean.parseBoolean(System.getProperty(VECTOR_PROP_NAME, "true"))) {
            return SCALAR;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return SCALAR;
        }
        return length >= 2 * VectorHolder.LANES ? VectorHolder.VECTOR : SCALAR;
    }

    /** The Vector API loops whatever the length, or the scalar ones without the module (for tests). */
    static FloatOps vectorIfPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? VectorHolder.VECTOR : SCALAR;
    }

    /** Defers loading the Vector API class until it is known to be present. */
    private static final class VectorHolder {
        static final FloatOps VECTOR = new VectorFloatOps();
        static final int LANES = VectorFloatOps.lanes();
    }

    /** Plain loops. */
    static final class ScalarFloatOps extends FloatOps {
        @Override
        float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        @Override
        void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
            for (int i = 0; i < n; i++) {
                y[yOff + i] += alpha * x[xOff + i];
            }
        }

        @Override
        void scale(float alpha, float[] y, int yOff, int n) {
            for (int i = 0; i < n; i++) {
                y[yOff + i] *= alpha;
            }
        }

        @Override
        public String toString() {
            return "scalar";
        }
    }
}
