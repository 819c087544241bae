package io.pagedkv.examples.llama;

import io.pagedkv.eviction.EvictionPolicy;

/**
 * The mask-only reference of per-layer eviction: a decoder over a {@link LayerMaskedKvStore} whose
 * per-layer policies are driven by hand in the library's step order, each fed only its own layer
 * (as layer 0 of its group): every layer's policy evicts to make room, the token runs, each policy
 * sees its layer's keys and values (per KV head) and its layer's attention rows (per query head). The
 * paged per-layer path ({@link LayerwiseKvStore}) must make the same decisions and give the same
 * logits up to float rounding ({@code LayerwiseTieTest}). Not thread-safe.
 */
public final class LayerwiseReference implements AutoCloseable {

    private final LlamaConfig c;
    private final EvictionPolicy[] policies;
    private final LayerMaskedKvStore store;
    private final LlamaDecoder decoder;
    private final int[] victims;
    private final float[][][] window;

    /** A reference for up to {@code capacity} tokens, layer {@code l} evicted by {@code policies[l]} (fresh). */
    public LayerwiseReference(LlamaWeights weights, EvictionPolicy[] policies, int capacity) {
        this.c = weights.config();
        if (policies.length != c.layers()) {
            throw new IllegalArgumentException("policies: " + policies.length + " (expected: " + c.layers() + ")");
        }
        this.policies = policies.clone();
        this.store = new LayerMaskedKvStore(c, capacity);
        this.decoder = new LlamaDecoder(weights, store);
        this.victims = new int[capacity];
        this.window = new float[c.layers()][][];
    }

    /** The store (its kept tokens per layer, its weights of the last step). */
    public LayerMaskedKvStore store() {
        return store;
    }

    /** One decode step: every layer evicts to make room for one token, the token runs, the policies see it. */
    public float[] step(int token) {
        int t = store.length();
        evict(1);
        for (EvictionPolicy p : policies) {
            p.onAppend(t, t);
        }
        float[] logits = decoder.forward(token);
        showKeysAndValues(t);
        for (int l = 0; l < c.layers(); l++) {
            showRows(l, store.weights(l), store.capacity(), t + 1);
        }
        return logits;
    }

    private void evict(int incoming) {
        for (int l = 0; l < c.layers(); l++) {
            int n = policies[l].evict(incoming, victims);
            for (int i = 0; i < n; i++) {
                store.evict(l, victims[i]);
            }
        }
    }

    /**
     * A prompt placed whole and compressed, SnapKV's way: the tokens run one by one with no eviction,
     * each layer's policy sees their keys and values and, at the end, the rows of the last {@code
     * observed} queries (query by query), then every layer compresses to its budget.
     *
     * @return the logits after the last prompt token (the decoder's buffer)
     */
    public float[] prefillAndCompress(int[] tokens, int off, int n, int observed) {
        int start = store.length();
        for (int l = 0; l < c.layers(); l++) {
            window[l] = new float[observed][];
        }
        float[] logits = null;
        for (int i = 0; i < n; i++) {
            int t = start + i;
            for (EvictionPolicy p : policies) {
                p.onAppend(t, t);
            }
            logits = decoder.forward(tokens[off + i]);
            showKeysAndValues(t);
            int j = i - (n - observed);
            if (j >= 0) {
                for (int l = 0; l < c.layers(); l++) {
                    window[l][j] = store.weights(l).clone();
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            for (float[] rows : window[l]) {
                if (rows != null) {
                    showRows(l, rows, store.capacity(), start + n);
                }
            }
        }
        evict(0);
        return logits;
    }

    private void showKeysAndValues(int t) {
        int kvDim = c.kvDim();
        int hs = c.headSize();
        for (int l = 0; l < c.layers(); l++) {
            EvictionPolicy p = policies[l];
            for (int h = 0; h < c.kvHeads(); h++) {
                if (p.usesKeys()) {
                    p.onKey(0, h, t, store.keys(l), t * kvDim + h * hs, hs);
                }
                if (p.usesValues()) {
                    p.onValue(0, h, t, store.values(l), t * kvDim + h * hs, hs);
                }
            }
        }
    }

    private void showRows(int l, float[] w, int stride, int slots) {
        EvictionPolicy p = policies[l];
        if (p.usesAttention()) {
            for (int h = 0; h < c.heads(); h++) {
                p.onAttention(0, h, w, h * stride, slots);
            }
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
