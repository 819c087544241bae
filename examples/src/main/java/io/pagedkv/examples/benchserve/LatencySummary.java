package io.pagedkv.examples.benchserve;

import java.util.Arrays;

/**
 * Mean and percentiles of a latency sample in milliseconds; percentiles interpolate linearly between
 * the closest ranks (numpy's default, which vLLM's benchmark reports). {@code NaN} values are
 * ignored; an empty sample gives {@code NaN} everywhere.
 *
 * @param mean arithmetic mean
 * @param p50 median
 * @param p90 90th percentile
 * @param p99 99th percentile
 * @param count values summarised
 */
public record LatencySummary(double mean, double p50, double p90, double p99, int count) {

    /** Summarises {@code values} (not modified). */
    public static LatencySummary of(double[] values) {
        double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return new LatencySummary(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
        }
        return new LatencySummary(Arrays.stream(v).average().orElse(Double.NaN), percentile(v, 50), percentile(v, 90),
                percentile(v, 99), v.length);
    }

    /** The {@code p}-th percentile of sorted {@code v}, linear between closest ranks. */
    static double percentile(double[] v, double p) {
        double rank = p / 100.0 * (v.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return v[lo] + (v[hi] - v[lo]) * (rank - lo);
    }
}
