package io.pagedkv.eviction;

/**
 * PyramidKV's per-layer budgets (Cai et al., 2024): lower layers, whose attention is spread widely,
 * keep more tokens than upper ones, whose attention is concentrated, with the same total as a uniform
 * budget.
 *
 * <p>The schedule (the paper's arithmetic one, facts checked against its abstract and its reference
 * code's defaults, code not copied): every layer keeps the {@code protect} newest tokens (SnapKV's
 * observation window); of the rest, {@code r = uniform - protect} per layer on average, the top layer
 * gets {@code top = max(1, r / beta)}, the bottom layer {@code bottom = 2r - top}, and the layers
 * between lie on the straight line from bottom to top. Rounded down, the missing tokens go one each to
 * the lowest layers, so the budgets never increase with depth and sum to exactly {@code layers x
 * uniform}. {@link #DEFAULT_BETA} is the reference code's 20. Stateless; thread-safe.
 */
public final class PyramidBudgets {

    /** The ratio of the average to the top layer's share, PyramidKV's {@code beta}. */
    public static final int DEFAULT_BETA = 20;

    private PyramidBudgets() {
    }

    /**
     * The budgets of {@code layers} layers, bottom (layer 0) first, averaging {@code uniform} tokens, each
     * at least {@code protect + 1}.
     *
     * @throws IllegalArgumentException if {@code layers < 1}, {@code protect < 0}, {@code uniform <=
     *     protect}, or {@code beta < 1}
     */
    public static int[] schedule(int uniform, int layers, int protect, int beta) {
        if (layers < 1 || protect < 0 || beta < 1) {
            throw new IllegalArgumentException("layers, protect, beta: " + layers + ", " + protect + ", " + beta
                    + " (expected: >= 1, >= 0, >= 1)");
        }
        if (uniform <= protect) {
            throw new IllegalArgumentException("uniform: " + uniform + " (expected: > protect " + protect
                    + ", so every layer keeps a token besides its window)");
        }
        int[] out = new int[layers];
        long rest = uniform - protect;
        if (layers == 1) {
            out[0] = uniform;
            return out;
        }
        long top = Math.max(1, rest / beta);
        long bottom = 2 * rest - top;
        long sum = 0;
        for (int l = 0; l < layers; l++) {
            // bottom - (bottom - top) * l / (layers - 1), rounded down
            long share = bottom - ((bottom - top) * l + layers - 2) / (layers - 1);
            out[l] = (int) share;
            sum += share;
        }
        long missing = rest * layers - sum;
        for (int l = 0; l < missing; l++) {
            out[l]++;
        }
        for (int l = 0; l < layers; l++) {
            out[l] += protect;
        }
        return out;
    }
}
