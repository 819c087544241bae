package io.pagedkv.eviction.harness;

import io.pagedkv.cache.CacheLayout;
import io.pagedkv.cache.PagedKvCache;
import io.pagedkv.dtype.KvDType;
import io.pagedkv.eviction.EvictionPolicy;
import io.pagedkv.eviction.SequenceEvictor;
import io.pagedkv.model.ModelShape;
import java.util.Arrays;

/**
 * One policy replaying a trace through a real {@link SequenceEvictor} on a small F32 paged cache (the
 * trace's layers, heads and head dim, the run's block size): the trace's keys and values are
 * written by position (and so shown to the policy), its rows are shown per layer and head over the slots, and
 * the evictor's own step order, slot reuse, block release and compaction are what is measured. Sees
 * either all heads of all layers (one decision per sequence) or one head in every layer (the mask-only
 * per-head reference). Not
 * thread-safe; close it.
 */
final class PolicyRun implements AutoCloseable {

    final String name;
    final int head;
    final Metrics metrics = new Metrics();
    final boolean[] kept;

    private final SyntheticTrace trace;
    private final PagedKvCache cache;
    final SequenceEvictor ev;
    private final float[] keys;
    private final float[] values;
    private final float[] slotRow;

    PolicyRun(SyntheticTrace trace, EvictionPolicy policy, int head, int blockSize) {
        this.trace = trace;
        this.name = policy.name();
        this.head = head;
        TraceSpec spec = trace.spec();
        int n = spec.totalTokens();
        int heads = spec.heads();
        CacheLayout layout = new CacheLayout(ModelShape.of("trace", spec.layers(), heads, heads, spec.headDim()), KvDType.F32,
                blockSize);
        this.cache = new PagedKvCache(layout, Math.toIntExact(layout.blocksFor(n) + 1));
        this.ev = new SequenceEvictor(cache.openSequence(), policy);
        this.kept = new boolean[n];
        this.keys = new float[heads * spec.headDim()];
        this.values = new float[heads * spec.headDim()];
        this.slotRow = new float[n];
    }

    /** Places token {@code t}: a prompt token with no eviction, or a decode token after the policy made room. */
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

    /** Compresses the prefilled prompt to the budget. */
    void compress() {
        ev.compress();
    }

    /** Refreshes {@link #kept} from the sequence: position p is kept iff it has a slot. */
    void refreshKept(int t) {
        Arrays.fill(kept, 0, t + 1, false);
        for (int s = 0, n = ev.slots(); s < n; s++) {
            int p = ev.positionOf(s);
            if (p >= 0) {
                kept[p] = true;
            }
        }
    }

    /** Measures step {@code t} against the full rows {@code rows[layer][h][0 .. t]}. */
    void measure(int t, float[][][] rows) {
        refreshKept(t);
        int live = ev.liveTokens();
        for (int l = 0; l < rows.length; l++) {
            for (int h = 0; h < rows[l].length; h++) {
                if (head < 0 || h == head) {
                    metrics.measure(trace, t, l, h, rows[l][h], kept, live);
                }
            }
        }
    }

    /** Shows the policy each layer's and head's row restricted to the kept tokens, renormalised, over the slots. */
    void observe(float[][][] rows) {
        if (!ev.usesAttention()) {
            return;
        }
        int slots = ev.slots();
        for (int l = 0; l < rows.length; l++) {
            for (int h = 0; h < rows[l].length; h++) {
                if (head < 0 || h == head) {
                    show(l, h, rows[l][h], slots);
                }
            }
        }
    }

    private void show(int l, int h, float[] row, int slots) {
        double mass = 0;
        for (int s = 0; s < slots; s++) {
            int p = ev.positionOf(s);
            if (p >= 0) {
                mass += row[p];
            }
        }
        float inv = mass > 0 ? (float) (1.0 / mass) : 0f;
        for (int s = 0; s < slots; s++) {
            int p = ev.positionOf(s);
            slotRow[s] = p >= 0 ? row[p] * inv : 0f;
        }
        ev.attention(l, h, slotRow, 0);
    }

    @Override
    public void close() {
        ev.close();
        cache.close();
    }
}
