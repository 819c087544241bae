package io.pagedkv.examples.llama;

/**
 * A mean over independent units (prompts) with its two-sided 95% confidence interval from Student's
 * t distribution: {@code mean +- t(0.975, n - 1) * sd / sqrt(n)}, {@code sd} the sample standard
 * deviation. The unit must be the independent one: the steps of one prompt are correlated, so they
 * are averaged within the prompt first and the prompts are the sample. Immutable.
 *
 * @param mean the sample mean
 * @param low the interval's lower end ({@code mean} when {@code n == 1})
 * @param high the interval's upper end
 * @param n the number of units
 */
public record MeanInterval(double mean, double low, double high, int n) {

    /** Standard normal 0.975 quantile. */
    private static final double Z = 1.959963984540054;

    /**
     * The mean of {@code xs} and its 95% t-interval.
     *
     * @throws IllegalArgumentException if {@code xs} is empty or holds a NaN
     */
    public static MeanInterval of(double[] xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("xs: 0 values (expected: >= 1)");
        }
        double sum = 0;
        for (double x : xs) {
            if (Double.isNaN(x)) {
                throw new IllegalArgumentException("xs: NaN (expected: numbers)");
            }
            sum += x;
        }
        double mean = sum / xs.length;
        if (xs.length == 1) {
            return new MeanInterval(mean, mean, mean, 1);
        }
        double ss = 0;
        for (double x : xs) {
            ss += (x - mean) * (x - mean);
        }
        double half = tQuantile975(xs.length - 1) * Math.sqrt(ss / (xs.length - 1)) / Math.sqrt(xs.length);
        return new MeanInterval(mean, mean - half, mean + half, xs.length);
    }

    /** Half the interval's width. */
    public double halfWidth() {
        return (high - low) / 2;
    }

    /** Student's t 0.975 quantiles for 1 to 9 degrees of freedom (the published table values). */
    private static final double[] T975 = {12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
        2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166, 2.262157162798205};

    /**
     * Student's t 0.975 quantile for {@code df} degrees of freedom: the table for 1 to 9, else the
     * Cornish-Fisher expansion around the normal quantile to the fourth order (within 1e-5 of the exact
     * value at 10 degrees of freedom, 1e-7 from 30).
     *
     * @throws IllegalArgumentException if {@code df < 1}
     */
    static double tQuantile975(int df) {
        if (df < 1) {
            throw new IllegalArgumentException("df: " + df + " (expected: >= 1)");
        }
        if (df <= T975.length) {
            return T975[df - 1];
        }
        double z = Z;
        double z2 = z * z;
        double v = df;
        double g1 = (z2 + 1) * z / 4;
        double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
        double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
        double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
        return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
    }
}
