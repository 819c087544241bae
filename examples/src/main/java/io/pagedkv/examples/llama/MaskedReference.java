package io.pagedkv.examples.llama;

import io.pagedkv.eviction.EvictionPolicy;

/**
 * The masked reference of an evicting cache: a decoder over a {@link MaskedKvStore} (contiguous,
 * slot = position, evicted tokens masked out of attention, keys re-rotated from the key as written in
 * {@link RotaryMode#CACHE}) whose policy is driven by hand in the library's step order: evict to make
 * room, place, run the token, show the policy its keys and values (per layer and KV head), then the
 * step's attention rows (per layer and query head). The paged evicting path ({@link
 * EvictingKvStore}) must make the same decisions and give the same logits up to float rounding
 * ({@code PagedQualityTieTest}). Not thread-safe.
 */
public final class MaskedReference implements AutoCloseable {

    private final LlamaConfig c;
    private final EvictionPolicy policy;
    private final MaskedKvStore store;
    private final LlamaDecoder decoder;
    private final int[] victims;

    /** A reference for up to {@code capacity} tokens, evicted by {@code policy} (fresh), keys in rotary {@code mode}. */
    public MaskedReference(LlamaWeights weights, EvictionPolicy policy, int capacity, RotaryMode mode) {
        this.c = weights.config();
        this.policy = policy;
        this.store = new MaskedKvStore(c, capacity, mode);
        this.decoder = new LlamaDecoder(weights, store);
        this.victims = new int[capacity];
    }

    /** The store (its weights of the last step, its kept tokens). */
    public MaskedKvStore store() {
        return store;
    }

    /** The policy. */
    public EvictionPolicy policy() {
        return policy;
    }

    /**
     * One step: the policy evicts to make room for one token, the kept keys are re-placed ({@link
     * MaskedKvStore#reposition()}), the token runs at the next position and the policy sees its keys,
     * values and attention rows.
     *
     * @return the logits (the decoder's buffer, overwritten by the next step)
     */
    public float[] step(int token) {
        int t = store.length();
        int n = policy.evict(1, victims);
        for (int i = 0; i < n; i++) {
            store.evict(victims[i]);
        }
        if (n > 0) {
            store.reposition();
        }
        policy.onAppend(t, t);
        float[] logits = decoder.forward(token);
        showKeysAndValues(t);
        showRows(t);
        return logits;
    }

    /**
     * A prompt chunk, as a store under the budget prefills it: the policy evicts once to make room for
     * all {@code n} tokens ({@code n <= policy().maxIncoming()}), the tokens run one by one (each sees
     * the kept tokens and the chunk's earlier tokens: the causal mask by position), the policy sees
     * each one's keys and values and, at the end, the last token's attention rows.
     *
     * @return the logits after the last token (the decoder's buffer)
     * @throws IllegalArgumentException if {@code n} is not in {@code 1 .. policy().maxIncoming()}
     */
    public float[] chunk(int[] tokens, int off, int n) {
        if (n <= 0 || n > policy.maxIncoming()) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1 <= n <= maxIncoming " + policy.maxIncoming() + ")");
        }
        int start = store.length();
        int evicted = policy.evict(n, victims);
        for (int i = 0; i < evicted; i++) {
            store.evict(victims[i]);
        }
        if (evicted > 0) {
            store.reposition();
        }
        float[] logits = null;
        for (int i = 0; i < n; i++) {
            int t = start + i;
            policy.onAppend(t, t);
            logits = decoder.forward(tokens[off + i]);
            showKeysAndValues(t);
        }
        showRows(start + n - 1);
        return logits;
    }

    private void showKeysAndValues(int t) {
        int kvDim = c.kvDim();
        int hs = c.headSize();
        for (int l = 0; l < c.layers() && (policy.usesKeys() || policy.usesValues()); l++) {
            for (int h = 0; h < c.kvHeads(); h++) {
                if (policy.usesKeys()) {
                    policy.onKey(l, h, t, store.keys(l), t * kvDim + h * hs, hs);
                }
                if (policy.usesValues()) {
                    policy.onValue(l, h, t, store.values(l), t * kvDim + h * hs, hs);
                }
            }
        }
    }

    private void showRows(int t) {
        if (policy.usesAttention()) {
            for (int l = 0; l < c.layers(); l++) {
                for (int h = 0; h < c.heads(); h++) {
                    policy.onAttention(l, h, store.weights(l), h * store.capacity(), t + 1);
                }
            }
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
