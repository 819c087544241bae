package io.pagedkv.benchmarks.attention;

import java.util.Arrays;

/**
 * The paired reading of one fork of {@link DecodeAttentionBenchmark#alternating}: its measured
 * iterations split into the ones that ran {@code paged} and the ones that ran {@code contiguous}
 * (which one is fixed by the parity of the iteration's index counted from the first warmup), and
 * for every {@code paged} iteration the ratio of its time to the mean of the {@code contiguous}
 * iterations next to it (one or two). A change of the machine's speed that lasts longer than an
 * iteration or two falls on both sides of a ratio; {@link #ratio()} is the median of those ratios.
 *
 * <p>Immutable; the arrays it returns are copies.
 */
public final class AlternatingPairs {

    private final double[] paged;
    private final double[] contiguous;
    private final double[] ratios;

    private AlternatingPairs(double[] paged, double[] contiguous, double[] ratios) {
        this.paged = paged;
        this.contiguous = contiguous;
        this.ratios = ratios;
    }

    /**
     * Splits one fork's measured iterations.
     *
     * @param warmups warmup iterations the fork ran before {@code iterations} (each flipped the kernel)
     * @param iterations each measured iteration's time (any one statistic, in order)
     * @throws IllegalArgumentException if {@code warmups < 0} or there are fewer than two iterations
     *         (no pair)
     */
    public static AlternatingPairs of(int warmups, double[] iterations) {
        if (warmups < 0 || iterations == null || iterations.length < 2) {
            throw new IllegalArgumentException("warmups, iterations: " + warmups + ", "
                    + (iterations == null ? "null" : iterations.length)
                    + " (expected: warmups >= 0 and at least 2 measured iterations, one of each kernel)");
        }
        int first = warmups % 2; // index (among the measured) of the first paged iteration
        int nPaged = (iterations.length - first + 1) / 2;
        double[] paged = new double[nPaged];
        double[] contiguous = new double[iterations.length - nPaged];
        int p = 0;
        int c = 0;
        for (int i = 0; i < iterations.length; i++) {
            if (i % 2 == first) {
                paged[p++] = iterations[i];
            } else {
                contiguous[c++] = iterations[i];
            }
        }
        double[] ratios = new double[nPaged];
        for (int k = 0; k < nPaged; k++) {
            int i = first + 2 * k;
            double sum = 0;
            int n = 0;
            if (i > 0) {
                sum += iterations[i - 1];
                n++;
            }
            if (i + 1 < iterations.length) {
                sum += iterations[i + 1];
                n++;
            }
            ratios[k] = iterations[i] / (sum / n);
        }
        return new AlternatingPairs(paged, contiguous, ratios);
    }

    /** The median over the pairs of paged / the neighbouring contiguous iterations. */
    public double ratio() {
        return median(ratios);
    }

    /** The {@code paged} iterations' times, in order. */
    public double[] paged() {
        return paged.clone();
    }

    /** The {@code contiguous} iterations' times, in order. */
    public double[] contiguous() {
        return contiguous.clone();
    }

    /** Each pair's ratio, in order of the paged iterations. */
    public double[] ratios() {
        return ratios.clone();
    }

    /** The median of {@code values} (the mean of the middle two for an even count); NaN when empty. */
    public static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }
}
