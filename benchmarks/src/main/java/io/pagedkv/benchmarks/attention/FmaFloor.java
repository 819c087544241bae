package io.pagedkv.benchmarks.attention;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The compute yardstick: a given number of vector fused multiply-adds on eight independent
 * accumulators (enough to hide the FMA latency), no memory traffic, so the core runs them at its peak
 * throughput. A kernel that needs that many multiply-adds cannot be faster. Stateless.
 */
final class FmaFloor {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FmaFloor() {
    }

    /** Vector FMAs for {@code multiplyAdds} scalar multiply-adds. */
    static long vectorsFor(long multiplyAdds) {
        return (multiplyAdds + S.length() - 1) / S.length();
    }

    /** Runs {@code vectors} FMAs (rounded up to a multiple of 8); returns a value of the result. */
    static float run(long vectors, float[] seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999f);
        FloatVector c = FloatVector.broadcast(S, seed[0] * 1e-3f);
        FloatVector a0 = FloatVector.broadcast(S, seed[1]);
        FloatVector a1 = a0.add(1f);
        FloatVector a2 = a0.add(2f);
        FloatVector a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f);
        FloatVector a5 = a0.add(5f);
        FloatVector a6 = a0.add(6f);
        FloatVector a7 = a0.add(7f);
        for (long i = 0; i < vectors; i += 8) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }
}
