package io.pagedkv.eviction.harness;

import java.util.SplittableRandom;

/**
 * A seeded synthetic attention trace: for every step t (the token at position t was just appended)
 * and head h, the newest query's softmax row over positions 0..t; plus each token's key and value
 * vectors per head.
 *
 * <p>Rows are regenerated on demand from {@code (seed, layer, t, h)}, so they are identical in every
 * run and in any call order; persistent per-token properties (power-law boosts, keys, values) are
 * drawn once at construction, per layer. A one-layer spec draws exactly what the trace drew before it
 * had layers; with several, every layer has the same kind and parameters, drawn apart (their heavy
 * hitters differ; the sinks and the needle are the same tokens). Nothing makes lower
 * layers' attention broader than upper ones': the trace has no depth structure. Key norms are made to correlate inversely with a token's persistent importance
 * (heavy hitters and sinks get smaller keys, the needle a larger one), which is what key-norm eviction
 * assumes; this is a modelling choice of the trace, stated here so nobody mistakes it for a finding.
 * Immutable after construction; {@link #row} is thread-safe.
 */
public final class SyntheticTrace {

    /** Number of sink tokens in the SINKS, POWER_LAW traces. */
    public static final int SINK_TOKENS = 4;
    private static final double[] SINK_SPLIT = {0.55, 0.2, 0.15, 0.1};
    private static final double RECENCY_TAU = 32.0;

    private final TraceSpec spec;
    private final float[] boost;
    private final float[] keys;
    private final float[] values;
    private final int needle;
    private final int[] needleSteps;

    /** Draws the persistent per-token properties of {@code spec}. */
    public SyntheticTrace(TraceSpec spec) {
        this.spec = spec;
        int n = spec.totalTokens();
        int heads = spec.heads();
        int layers = spec.layers();
        int d = spec.headDim();
        SplittableRandom rnd = new SplittableRandom(spec.seed());
        this.boost = new float[n * layers * heads];
        if (spec.kind() == TraceKind.POWER_LAW) {
            for (int i = 0; i < n; i++) {
                double shared = pareto(rnd);
                for (int lh = 0; lh < layers * heads; lh++) {
                    boost[i * layers * heads + lh] = (float) Math.sqrt(shared * pareto(rnd));
                }
            }
        } else {
            java.util.Arrays.fill(boost, 1f);
        }
        this.needle = spec.kind() == TraceKind.NEEDLE ? spec.promptTokens() / 4 : -1;
        int p = spec.promptTokens();
        int dec = spec.decodeTokens();
        this.needleSteps = spec.kind() == TraceKind.NEEDLE
                ? new int[] {p + dec / 4, p + dec / 2, p + (3 * dec) / 4}
                : new int[0];
        this.keys = new float[n * layers * heads * d];
        this.values = new float[n * layers * heads * d];
        for (int i = 0; i < n; i++) {
            for (int lh = 0; lh < layers * heads; lh++) {
                double scale = keyScale(i, lh);
                int base = (i * layers * heads + lh) * d;
                for (int k = 0; k < d; k++) {
                    keys[base + k] = (float) (rnd.nextGaussian() * scale);
                    values[base + k] = (float) rnd.nextGaussian();
                }
            }
        }
    }

    private static double pareto(SplittableRandom rnd) {
        double u = 1.0 - rnd.nextDouble();
        return Math.min(1e4, Math.pow(u, -1.0 / 0.8));
    }

    /** The key scale of token {@code i} in (layer, head) {@code lh = layer * heads + head}. */
    private double keyScale(int i, int lh) {
        if (i == needle) {
            return 3.0;
        }
        if ((spec.kind() == TraceKind.SINKS || spec.kind() == TraceKind.POWER_LAW) && i < SINK_TOKENS) {
            return 0.3;
        }
        if (spec.kind() == TraceKind.POWER_LAW) {
            return Math.pow(boost[i * spec.layers() * spec.heads() + lh], -0.15);
        }
        return 1.0;
    }

    /** The spec this trace was drawn from. */
    public TraceSpec spec() {
        return spec;
    }

    /** The needle's position, or -1 if this is not a needle trace. */
    public int needlePosition() {
        return needle;
    }

    /** Whether step {@code t} is one of the steps where the needle matters. */
    public boolean isNeedleStep(int t) {
        for (int s : needleSteps) {
            if (s == t) {
                return true;
            }
        }
        return false;
    }

    /** The steps where the needle matters (empty unless NEEDLE). */
    public int[] needleSteps() {
        return needleSteps.clone();
    }

    /** Copies the key of token {@code position}, head {@code head} of layer 0 into {@code out[offset ..]}. */
    public void key(int position, int head, float[] out, int offset) {
        key(position, 0, head, out, offset);
    }

    /** Copies the key of token {@code position}, head {@code head} of {@code layer} into {@code out[offset ..]}. */
    public void key(int position, int layer, int head, float[] out, int offset) {
        System.arraycopy(keys, index(position, layer, head) * spec.headDim(), out, offset, spec.headDim());
    }

    /** Element {@code k} of the value vector of token {@code position}, head {@code head} of layer 0. */
    public float value(int position, int head, int k) {
        return value(position, 0, head, k);
    }

    /** Element {@code k} of the value vector of token {@code position}, head {@code head} of {@code layer}. */
    public float value(int position, int layer, int head, int k) {
        return values[index(position, layer, head) * spec.headDim() + k];
    }

    private int index(int position, int layer, int head) {
        return (position * spec.layers() + layer) * spec.heads() + head;
    }

    /** The row of step {@code t}, head {@code head} of layer 0; see {@link #row(int, int, int, float[])}. */
    public void row(int t, int head, float[] out) {
        row(t, 0, head, out);
    }

    /**
     * Writes the attention row of step {@code t}, head {@code head} of {@code layer}, into {@code out[0 ..
     * t]}: non-negative weights summing to 1 (within float rounding).
     */
    public void row(int t, int layer, int head, float[] out) {
        if (layer < 0 || layer >= spec.layers()) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0 <= layer < " + spec.layers() + ")");
        }
        if (t < 0 || t >= spec.totalTokens()) {
            throw new IndexOutOfBoundsException("t: " + t + " (expected: 0 <= t < " + spec.totalTokens() + ")");
        }
        if (head < 0 || head >= spec.heads()) {
            throw new IndexOutOfBoundsException("head: " + head + " (expected: 0 <= head < " + spec.heads() + ")");
        }
        SplittableRandom rnd = new SplittableRandom(mix(spec.seed() + 0x632BE59BD9B4E019L * layer, t, head));
        int n = t + 1;
        switch (spec.kind()) {
            case UNIFORM -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) Math.exp(0.1 * rnd.nextGaussian());
                }
                normalize(out, 0, n, 1.0);
            }
            case RECENCY -> {
                recency(rnd, t, out, 0, n);
                normalize(out, 0, n, 1.0);
            }
            case SINKS -> {
                double share = 0.2 + 0.4 * rnd.nextDouble();
                withSinks(rnd, share, t, layer * spec.heads() + head, out, false);
            }
            case POWER_LAW -> {
                double share = 0.2 + 0.2 * rnd.nextDouble();
                withSinks(rnd, share, t, layer * spec.heads() + head, out, true);
            }
            case NEEDLE -> {
                recency(rnd, t, out, 0, n);
                boolean needleStep = isNeedleStep(t) && needle <= t;
                if (needle >= 0 && needle <= t) {
                    out[needle] = 0f;
                }
                normalize(out, 0, n, needleStep ? 0.5 : 1.0);
                if (needle >= 0 && needle <= t) {
                    out[needle] = needleStep ? 0.5f : 1e-7f;
                }
            }
            default -> throw new IllegalStateException("kind: " + spec.kind());
        }
    }

    /** Sinks plus the rest, for (layer, head) {@code lh = layer * heads + head}. */
    private void withSinks(SplittableRandom rnd, double share, int t, int lh, float[] out, boolean powerLaw) {
        int n = t + 1;
        if (n <= SINK_TOKENS) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) SINK_SPLIT[i];
            }
            normalize(out, 0, n, 1.0);
            return;
        }
        for (int i = 0; i < SINK_TOKENS; i++) {
            out[i] = (float) (share * SINK_SPLIT[i]);
        }
        int stride = spec.layers() * spec.heads();
        for (int i = SINK_TOKENS; i < n; i++) {
            double w = Math.exp(0.3 * rnd.nextGaussian());
            if (powerLaw) {
                w *= boost[i * stride + lh] * (1.0 + 2.0 * Math.exp(-(t - i) / 16.0));
            }
            out[i] = (float) w;
        }
        normalize(out, SINK_TOKENS, n, 1.0 - share);
    }

    private static void recency(SplittableRandom rnd, int t, float[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            out[i] = (float) ((Math.exp(-(t - i) / RECENCY_TAU) + 0.002) * Math.exp(0.3 * rnd.nextGaussian()));
        }
    }

    private static void normalize(float[] out, int from, int to, double mass) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += out[i];
        }
        double scale = sum > 0 ? mass / sum : 0;
        for (int i = from; i < to; i++) {
            out[i] = (float) (out[i] * scale);
        }
    }

    private static long mix(long seed, int t, int head) {
        long z = seed ^ (0x9E3779B97F4A7C15L * (t + 1L)) ^ (0xC2B2AE3D27D4EB4FL * (head + 1L));
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
