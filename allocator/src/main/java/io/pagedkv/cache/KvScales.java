package io.pagedkv.cache;

/**
 * Per-head FP8 scales of a KV cache: one K scale and one V scale for every (layer, KV head), the
 * finer-grained form of vLLM's per-tensor {@code k_scale}/{@code v_scale}. A cache built with them
 * stores {@code x / scale} of that head and decodes {@code q * scale}.
 *
 * <p>Invariants: {@code layers() >= 1}, {@code kvHeads() >= 1}, every scale is finite and {@code > 0}.
 * The arrays are copied in and never handed out, so a value is immutable and thread-safe.
 */
public final class KvScales {

    private final int layers;
    private final int kvHeads;
    private final float[] k;
    private final float[] v;

    private KvScales(int layers, int kvHeads, float[] k, float[] v) {
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.k = k;
        this.v = v;
    }

    /**
     * Scales from {@code k[layer][head]} and {@code v[layer][head]} (copied).
     *
     * @throws IllegalArgumentException if the arrays are null, ragged, empty, differ in shape, or hold
     *     a scale that is not finite and {@code > 0} (the message names its index and value)
     */
    public static KvScales of(float[][] k, float[][] v) {
        if (k == null || v == null) {
            throw new IllegalArgumentException("scales: " + (k == null ? "k" : "v") + " null (expected: float[layers][kvHeads])");
        }
        if (k.length == 0 || k.length != v.length) {
            throw new IllegalArgumentException("layers: k " + k.length + ", v " + v.length + " (expected: equal and >= 1)");
        }
        int heads = k[0] == null ? 0 : k[0].length;
        if (heads == 0) {
            throw new IllegalArgumentException("kvHeads: k[0] " + (k[0] == null ? "null" : "0") + " (expected: >= 1)");
        }
        float[] kf = flatten("k", k, heads);
        float[] vf = flatten("v", v, heads);
        return new KvScales(k.length, heads, kf, vf);
    }

    /**
     * The same K scale and V scale for every (layer, head): a per-tensor scale in per-head form.
     *
     * @throws IllegalArgumentException if a count is below 1 or a scale is not finite and {@code > 0}
     */
    public static KvScales uniform(int layers, int kvHeads, float kScale, float vScale) {
        if (layers < 1 || kvHeads < 1) {
            throw new IllegalArgumentException("layers: " + layers + ", kvHeads: " + kvHeads + " (expected: >= 1 each)");
        }
        float[][] k = new float[layers][kvHeads];
        float[][] v = new float[layers][kvHeads];
        for (int l = 0; l < layers; l++) {
            java.util.Arrays.fill(k[l], kScale);
            java.util.Arrays.fill(v[l], vScale);
        }
        return of(k, v);
    }

    private static float[] flatten(String name, float[][] a, int heads) {
        float[] out = new float[a.length * heads];
        for (int l = 0; l < a.length; l++) {
            if (a[l] == null || a[l].length != heads) {
                throw new IllegalArgumentException(name + "[" + l + "].length: " + (a[l] == null ? "null" : a[l].length)
                        + " (expected: " + heads + " kv heads)");
            }
            for (int h = 0; h < heads; h++) {
                float s = a[l][h];
                if (!(s > 0f && s <= Float.MAX_VALUE)) {
                    throw new IllegalArgumentException(name + "[" + l + "][" + h + "]: " + s + " (expected: finite and > 0)");
                }
                out[l * heads + h] = s;
            }
        }
        return out;
    }

    /** Number of layers. */
    public int layers() {
        return layers;
    }

    /** Number of KV heads per layer. */
    public int kvHeads() {
        return kvHeads;
    }

    /** The K scale of (layer, head). */
    public float k(int layer, int head) {
        return k[index(layer, head)];
    }

    /** The V scale of (layer, head). */
    public float v(int layer, int head) {
        return v[index(layer, head)];
    }

    /** The scale of (layer, {@link CacheLayout#K} or {@link CacheLayout#V}, head). */
    public float scale(int layer, int kv, int head) {
        if (kv != CacheLayout.K && kv != CacheLayout.V) {
            throw new IndexOutOfBoundsException("kv: " + kv + " (expected: 0 (K) or 1 (V))");
        }
        return kv == CacheLayout.K ? k(layer, head) : v(layer, head);
    }

    /** Whether every scale is exactly 1. */
    public boolean allOne() {
        for (int i = 0; i < k.length; i++) {
            if (k[i] != 1f || v[i] != 1f) {
                return false;
            }
        }
        return true;
    }

    private int index(int layer, int head) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer: " + layer + " (expected: 0.." + (layers - 1) + ")");
        }
        if (head < 0 || head >= kvHeads) {
            throw new IndexOutOfBoundsException("head: " + head + " (expected: 0.." + (kvHeads - 1) + ")");
        }
        return layer * kvHeads + head;
    }

    @Override
    public String toString() {
        return "KvScales[layers=" + layers + ", kvHeads=" + kvHeads + "]";
    }
}
