package io.pagedkv.eviction.harness;

/**
 * Running sums of the per-step measurements of one policy, and the row statistics they need
 * (top-k mass by selection, never by a full sort). Not thread-safe.
 */
final class Metrics {

    double recall;
    double oracle;
    double top10;
    double outputError;
    long rows;
    int needleHits;
    int needleChecks;

    private float[] scratch = new float[0];
    private final int[] topIndex = new int[10];
    private final float[] topWeight = new float[10];

    /**
     * Measures one row of {@code layer}, {@code head}: {@code row[0 .. n-1]} over positions, {@code
     * kept[position]}, {@code liveCount} tokens kept.
     */
    void measure(SyntheticTrace trace, int t, int layer, int head, float[] row, boolean[] kept, int liveCount) {
        int n = t + 1;
        double mass = 0;
        for (int i = 0; i < n; i++) {
            if (kept[i]) {
                mass += row[i];
            }
        }
        recall += mass;
        oracle += topMass(row, n, liveCount);
        top10 += topTenKept(row, n, kept);
        outputError += outputError(trace, layer, head, row, n, kept, mass);
        rows++;
        if (trace.isNeedleStep(t)) {
            needleChecks++;
            if (kept[trace.needlePosition()]) {
                needleHits++;
            }
        }
    }

    private double topMass(float[] row, int n, int k) {
        if (k >= n) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += row[i];
            }
            return s;
        }
        if (scratch.length < n) {
            scratch = new float[Math.max(n, scratch.length * 2)];
        }
        System.arraycopy(row, 0, scratch, 0, n);
        // Quickselect: move the k largest to scratch[0 .. k-1].
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            float pivot = scratch[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (scratch[i] > pivot) {
                    i++;
                }
                while (scratch[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    float tmp = scratch[i];
                    scratch[i] = scratch[j];
                    scratch[j] = tmp;
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) {
                hi = j;
            } else if (k - 1 >= i) {
                lo = i;
            } else {
                break;
            }
        }
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += scratch[i];
        }
        return s;
    }

    private double topTenKept(float[] row, int n, boolean[] kept) {
        int m = Math.min(10, n);
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float w = row[i];
            if (filled < m) {
                int p = filled++;
                while (p > 0 && topWeight[p - 1] < w) {
                    topWeight[p] = topWeight[p - 1];
                    topIndex[p] = topIndex[p - 1];
                    p--;
                }
                topWeight[p] = w;
                topIndex[p] = i;
            } else if (w > topWeight[m - 1]) {
                int p = m - 1;
                while (p > 0 && topWeight[p - 1] < w) {
                    topWeight[p] = topWeight[p - 1];
                    topIndex[p] = topIndex[p - 1];
                    p--;
                }
                topWeight[p] = w;
                topIndex[p] = i;
            }
        }
        int hits = 0;
        for (int i = 0; i < m; i++) {
            if (kept[topIndex[i]]) {
                hits++;
            }
        }
        return (double) hits / m;
    }

    private double[] full = new double[0];
    private double[] part = new double[0];

    private double outputError(SyntheticTrace trace, int layer, int head, float[] row, int n, boolean[] kept,
            double keptMass) {
        int d = trace.spec().headDim();
        if (full.length < d) {
            full = new double[d];
            part = new double[d];
        }
        java.util.Arrays.fill(full, 0, d, 0);
        java.util.Arrays.fill(part, 0, d, 0);
        for (int i = 0; i < n; i++) {
            double w = row[i];
            boolean k0 = kept[i];
            for (int k = 0; k < d; k++) {
                double wv = w * trace.value(i, layer, head, k);
                full[k] += wv;
                if (k0) {
                    part[k] += wv;
                }
            }
        }
        double err = 0;
        double norm = 0;
        for (int k = 0; k < d; k++) {
            double approx = keptMass > 0 ? part[k] / keptMass : 0;
            err += (full[k] - approx) * (full[k] - approx);
            norm += full[k] * full[k];
        }
        return norm > 0 ? Math.sqrt(err / norm) : 0;
    }
}
