package io.pagedkv.eviction.harness;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.LayerwiseEvictor;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;

/**
 * A per-layer line-up replaying a trace through a real {@link LayerwiseEvictor}: one F32 page layout
 * of one layer (the trace's heads and head dim), one group and one policy per trace layer over one
 * pool, each policy shown only its layer's keys, values and rows (restricted to what that layer keeps,
 * renormalised), each layer measured against its own full rows and its own kept tokens. Not
 * thread-safe; close it.
 */
final class LayerwiseRun implements AutoCloseable {

    final String name;
    final Metrics metrics = new Metrics();
    final boolean[][] kept;
    final LayerwiseEvictor ev;

    private final SyntheticTrace trace;
    private final PagedKvCache cache;
    private final float[] keys;
    private final float[] values;
    private final float[] slotRow;

    LayerwiseRun(SyntheticTrace trace, String name, EvictionPolicy[] policies, int blockSize) {
        TraceSpec spec = trace.spec();
        if (policies.length != spec.layers()) {
            throw new IllegalArgumentException("policies: " + policies.length + " (expected: one per trace layer, "
                    + spec.layers() + ")");
        }
        this.trace = trace;
        this.name = name;
        int n = spec.totalTokens();
        int heads = spec.heads();
        CacheLayout layout = new CacheLayout(ModelShape.of("trace-layer", 1, heads, heads, spec.headDim()), KvDType.F32,
                blockSize);
        this.cache = new PagedKvCache(layout, Math.toIntExact(spec.layers() * (layout.blocksFor(n) + 1)));
        this.ev = new LayerwiseEvictor(cache, policies);
        this.kept = new boolean[spec.layers()][n];
        this.keys = new float[heads * spec.headDim()];
        this.values = new float[heads * spec.headDim()];
        this.slotRow = new float[n];
    }

    /** Places token {@code t} in every layer: a prompt token with no eviction, or a decode token after each layer made room. */
    void place(int t, boolean prompt) {
        int pos = prompt ? ev.prefillWithoutIds(1) : ev.appendWithoutId();
        if (pos != t) {
            throw new IllegalStateException("position: " + pos + " (expected: " + t + ")");
        }
        int d = trace.spec().headDim();
        for (int l = 0; l < trace.spec().layers(); l++) {
            for (int h = 0; h < trace.spec().heads(); h++) {
                trace.key(t, l, h, keys, h * d);
                for (int k = 0; k < d; k++) {
                    values[h * d + k] = trace.value(t, l, h, k);
                }
            }
            ev.write(l, t, keys, values);
        }
    }

    /** Compresses every layer to its budget. */
    void compress() {
        ev.compress();
    }

    /** Measures step {@code t}: each layer's rows against that layer's kept tokens. */
    void measure(int t, float[][][] rows) {
        for (int l = 0; l < rows.length; l++) {
            boolean[] k = kept[l];
            Arrays.fill(k, 0, t + 1, false);
            for (int s = 0, n = ev.slots(l); s < n; s++) {
                int p = ev.positionOf(l, s);
                if (p >= 0) {
                    k[p] = true;
                }
            }
            int live = ev.liveTokens(l);
            for (int h = 0; h < rows[l].length; h++) {
                metrics.measure(trace, t, l, h, rows[l][h], k, live);
            }
        }
    }

    /** Shows each layer's policy its own rows over its own slots, restricted to what it keeps, renormalised. */
    void observe(float[][][] rows) {
        for (int l = 0; l < rows.length; l++) {
            if (!ev.usesAttention(l)) {
                continue;
            }
            int slots = ev.slots(l);
            for (int h = 0; h < rows[l].length; h++) {
                float[] row = rows[l][h];
                double mass = 0;
                for (int s = 0; s < slots; s++) {
                    int p = ev.positionOf(l, s);
                    if (p >= 0) {
                        mass += row[p];
                    }
                }
                float inv = mass > 0 ? (float) (1.0 / mass) : 0f;
                for (int s = 0; s < slots; s++) {
                    int p = ev.positionOf(l, s);
                    slotRow[s] = p >= 0 ? row[p] * inv : 0f;
                }
                ev.attention(l, h, slotRow, 0);
            }
        }
    }

    @Override
    public void close() {
        ev.close();
        cache.close();
    }
}
