package io.pagedkv.workload;

import java.util.SplittableRandom;

/**
 * A long-tailed length distribution: a log-normal rounded to whole tokens and clamped to
 * {@code [1, cap]}, whose location is fitted so the <em>clamped</em> mean equals a target.
 *
 * <p>A draw is {@code clamp(round(exp(mu + sigma * z)), 1, cap)} with {@code z} standard normal. The
 * shape {@code sigma} is given; {@code mu} is solved by bisection on the closed form of the mean of
 * {@code min(X, cap)} for a log-normal {@code X}:
 *
 * <pre>
 *   E[min(X, c)] = exp(mu + sigma^2/2) * Phi((ln c - mu - sigma^2) / sigma) + c * (1 - Phi((ln c - mu) / sigma))
 * </pre>
 *
 * <p>so clamping the tail at the model's context does not drag the mean below the target (rounding
 * and the floor at 1 move it by well under 1%). Immutable and thread-safe; the random source is the
 * caller's.
 *
 * @param targetMean the mean of the clamped distribution, in tokens
 * @param sigma the log-space standard deviation (the tail weight), e.g. 1.0
 * @param cap the largest value drawn, in tokens
 * @param mu the fitted log-space location
 */
public record ClampedLogNormal(double targetMean, double sigma, int cap, double mu) {

    /** Validates the parameters: {@code 1 < targetMean < cap}, {@code sigma > 0}. */
    public ClampedLogNormal {
        if (!(sigma > 0) || sigma > 4) {
            throw new IllegalArgumentException("sigma: " + sigma + " (expected: 0 < sigma <= 4)");
        }
        if (cap < 2) {
            throw new IllegalArgumentException("cap: " + cap + " (expected: >= 2 tokens)");
        }
        if (!(targetMean > 1) || targetMean >= cap) {
            throw new IllegalArgumentException("targetMean: " + targetMean + " (expected: 1 < mean < cap " + cap + ")");
        }
    }

    /** The distribution with clamped mean {@code targetMean}, shape {@code sigma}, clamped at {@code cap}. */
    public static ClampedLogNormal fitted(double targetMean, double sigma, int cap) {
        // Validate through the canonical constructor first (mu is a placeholder).
        new ClampedLogNormal(targetMean, sigma, cap, 0);
        double lo = -20;
        double hi = Math.log(cap) + 20;
        for (int i = 0; i < 200; i++) {
            double mid = (lo + hi) / 2;
            if (clampedMean(mid, sigma, cap) < targetMean) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return new ClampedLogNormal(targetMean, sigma, cap, (lo + hi) / 2);
    }

    /** One draw, in tokens, in {@code [1, cap]}. */
    public int sample(SplittableRandom random) {
        double x = Math.exp(mu + sigma * gaussian(random));
        long v = Math.round(x);
        if (v < 1) {
            return 1;
        }
        return v > cap ? cap : (int) v;
    }

    /** The mean of {@code min(X, cap)} for {@code X} log-normal with these parameters (before rounding). */
    public double mean() {
        return clampedMean(mu, sigma, cap);
    }

    static double clampedMean(double mu, double sigma, double cap) {
        double lc = Math.log(cap);
        double s2 = sigma * sigma;
        return Math.exp(mu + s2 / 2) * phi((lc - mu - s2) / sigma) + cap * (1 - phi((lc - mu) / sigma));
    }

    /** A standard normal draw (Box-Muller; one of the pair is discarded to keep draws independent of call order). */
    static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        // 1 - u1 is in (0, 1]: log never sees zero.
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Standard normal CDF through erf (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7). */
    static double phi(double x) {
        return 0.5 * (1 + erf(x / Math.sqrt(2)));
    }

    private static double erf(double x) {
        double sign = Math.signum(x);
        double a = Math.abs(x);
        double t = 1 / (1 + 0.3275911 * a);
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                * t * Math.exp(-a * a);
        return sign * y;
    }
}
