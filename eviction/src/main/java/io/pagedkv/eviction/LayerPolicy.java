package io.pagedkv.eviction;

import java.util.Locale;

/**
 * The per-layer line-up: one independent policy per layer (group), each fed only its layer's
 * attention, for a {@link LayerwiseEvictor}, beside the shared-decision {@link StandardPolicy} ones.
 * Built for a uniform budget of B tokens per layer; every line-up holds {@code layers x B} tokens in
 * all.
 *
 * <table>
 *   <caption>What each layer keeps at a budget of B tokens</caption>
 *   <tr><th>label</th><th>per layer</th></tr>
 *   <tr><td>h2o-layer</td><td>{@code new HeavyHitters(B, B / 2, SUM)} on the layer's rows</td></tr>
 *   <tr><td>tova-layer</td><td>{@code new Tova(B)} on the layer's rows</td></tr>
 *   <tr><td>snapkv</td><td>{@code new SnapKv(B, w, 5)}, {@code w = }{@link #snapWindow(int) snapWindow(B)}</td></tr>
 *   <tr><td>pyramidkv</td><td>SnapKV with the budgets of {@link PyramidBudgets#schedule(int, int, int, int)
 *       PyramidBudgets.schedule(B, layers, w, 20)}: more tokens in lower layers, fewer in upper ones</td></tr>
 * </table>
 *
 * Immutable and thread-safe.
 */
public enum LayerPolicy {
    /** H2O per layer. */
    H2O_LAYER,
    /** TOVA per layer. */
    TOVA_LAYER,
    /** SnapKV per layer, uniform budgets. */
    SNAPKV,
    /** SnapKV per layer with PyramidKV's budgets. */
    PYRAMIDKV;

    /** SnapKV's pooling width in these line-ups (kvpress's default). */
    public static final int KERNEL = 5;

    /** The command-line spelling, e.g. {@code h2o-layer}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** SnapKV's observation window for a budget: a quarter of it, at most 32 (the paper's window), at least 1. */
    public static int snapWindow(int budget) {
        return Math.max(1, Math.min(32, budget / 4));
    }

    /** The budget of each of {@code layers} layers, bottom first, at a uniform budget of {@code budget}. */
    public int[] budgets(int budget, int layers) {
        check(budget, layers);
        if (this == PYRAMIDKV) {
            return PyramidBudgets.schedule(budget, layers, snapWindow(budget), PyramidBudgets.DEFAULT_BETA);
        }
        int[] b = new int[layers];
        java.util.Arrays.fill(b, budget);
        return b;
    }

    /**
     * Fresh policies, one per layer (bottom first), at a uniform budget of {@code budget} tokens per layer.
     *
     * @throws IllegalArgumentException if {@code budget < StandardPolicy.MIN_BUDGET} or {@code layers < 1}
     */
    public EvictionPolicy[] create(int budget, int layers) {
        int[] b = budgets(budget, layers);
        EvictionPolicy[] out = new EvictionPolicy[layers];
        int w = snapWindow(budget);
        for (int l = 0; l < layers; l++) {
            out[l] = switch (this) {
                case H2O_LAYER -> new HeavyHitters(b[l], b[l] / 2, HeavyHitters.Accumulation.SUM);
                case TOVA_LAYER -> new Tova(b[l]);
                case SNAPKV, PYRAMIDKV -> new SnapKv(b[l], w, KERNEL);
            };
        }
        return out;
    }

    /**
     * A table name: the uniform budget, SnapKV's window {@code w} and, for PyramidKV, the bottom and top
     * layers' budgets, e.g. {@code h2o-layer(16)}, {@code snapkv(16,w=4)}, {@code pyramidkv(16,w=4,28..5)}.
     */
    public String name(int budget, int layers) {
        int[] b = budgets(budget, layers);
        return switch (this) {
            case H2O_LAYER, TOVA_LAYER -> label() + "(" + budget + ")";
            case SNAPKV -> label() + "(" + budget + ",w=" + snapWindow(budget) + ")";
            case PYRAMIDKV -> label() + "(" + budget + ",w=" + snapWindow(budget) + "," + b[0] + ".." + b[layers - 1] + ")";
        };
    }

    private static void check(int budget, int layers) {
        if (budget < StandardPolicy.MIN_BUDGET || layers < 1) {
            throw new IllegalArgumentException("budget, layers: " + budget + ", " + layers + " (expected: budget >= "
                    + StandardPolicy.MIN_BUDGET + " tokens, layers >= 1)");
        }
    }

    /**
     * Parses a label or constant name, case-insensitively.
     *
     * @throws IllegalArgumentException naming the text and the labels
     */
    public static LayerPolicy parse(String text) {
        for (LayerPolicy p : values()) {
            if (p.label().equalsIgnoreCase(text) || p.name().equalsIgnoreCase(text)) {
                return p;
            }
        }
        StringBuilder labels = new StringBuilder();
        for (LayerPolicy p : values()) {
            labels.append(labels.isEmpty() ? "" : ", ").append(p.label());
        }
        throw new IllegalArgumentException("layer policy: '" + text + "' (expected: one of " + labels + ")");
    }
}
