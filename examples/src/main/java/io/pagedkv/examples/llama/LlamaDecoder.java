package io.pagedkv.examples.llama;

/**
 * The Llama forward pass of llama2.c, one token at a time, keeping keys and values in a
 * {@link KvStore}.
 *
 * <p>Per layer: RMSNorm (eps 1e-5), the q/k/v projections, rotary positions on the pairs
 * {@code (2i, 2i+1)} of every head with theta 10000, attention through the store (grouped-query
 * when the model has fewer KV heads), the output projection and residual, RMSNorm, the SwiGLU MLP
 * {@code w2(silu(w1 x) * w3 x)} and residual; then a final RMSNorm and the classifier. All buffers
 * are allocated once in the constructor: a {@link #forward} allocates nothing.
 *
 * <p>Positions are not bounded by the model's {@code seqLen}: the rotary angles of a token are
 * computed for whatever position the store rotates it at ({@link KvStore#ropePosition}), so a store
 * that evicts can stream past the context, and the only limit is the store's {@link
 * KvStore#capacity()}. (Past {@code seqLen} a full cache shows the model positions it never saw in
 * training; that is what streaming with a bounded cache is for.)
 *
 * <p>Not thread-safe: one decoder per decoding thread. The weights may be shared between decoders.
 */
public final class LlamaDecoder {

    /** RMSNorm epsilon of llama2.c. */
    public static final float RMS_EPS = 1e-5f;
    /** Rotary base. */
    public static final double ROPE_THETA = 10000.0;

    private final LlamaWeights w;
    private final LlamaConfig c;
    private final KvStore store;
    private final float[] x;
    private final float[] xb;
    private final float[] xb2;
    private final float[] hb;
    private final float[] hb2;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] logits;
    /** Pair i's rotary frequency {@code 1 / theta^(2i / headSize)}. */
    private final double[] freq;
    /** The rotary cosines and sines of the token being decoded, one per pair. */
    private final float[] cos;
    private final float[] sin;
    /** The rotary cosines and sines of each token of a prefill chunk, {@code [token][pair]}; grown per chunk. */
    private float[] chunkCos = new float[0];
    private float[] chunkSin = new float[0];
    /** Tokens of the last chunk run by {@link #chunk}. */
    private int chunkLength;
    /** Chunk buffers of {@link #prefill}: residual streams, queries, attention outputs; grown per prompt. */
    private float[] chunkX = new float[0];
    private float[] chunkQ = new float[0];
    private float[] chunkOut = new float[0];
    /** Keys and values of a prefill chunk for one layer, {@code [tokens][kvDim]}, for a store with a bulk path. */
    private float[] chunkK = new float[0];
    private float[] chunkV = new float[0];

    /** A decoder over {@code weights} that keeps its keys and values in {@code store}. */
    public LlamaDecoder(LlamaWeights weights, KvStore store) {
        this.w = weights;
        this.c = weights.config();
        this.store = store;
        this.x = new float[c.dim()];
        this.xb = new float[c.dim()];
        this.xb2 = new float[c.dim()];
        this.hb = new float[c.hiddenDim()];
        this.hb2 = new float[c.hiddenDim()];
        this.q = new float[c.dim()];
        this.k = new float[c.kvDim()];
        this.v = new float[c.kvDim()];
        this.logits = new float[c.vocabSize()];
        int half = c.headSize() / 2;
        this.freq = new double[half];
        for (int i = 0; i < half; i++) {
            freq[i] = 1.0 / Math.pow(ROPE_THETA, (2.0 * i) / c.headSize());
        }
        this.cos = new float[half];
        this.sin = new float[half];
    }

    /** Writes the rotary cosines and sines of {@code pos} (any position) into {@code cs[off ..]}, {@code sn[off ..]}. */
    private void angles(int pos, float[] cs, float[] sn, int off) {
        for (int i = 0; i < freq.length; i++) {
            double angle = pos * freq[i];
            cs[off + i] = (float) Math.cos(angle);
            sn[off + i] = (float) Math.sin(angle);
        }
    }

    /** The model's hyper-parameters. */
    public LlamaConfig config() {
        return c;
    }

    /** The weights this decoder runs (not copied). */
    public LlamaWeights weights() {
        return w;
    }

    /** The store this decoder keeps its keys and values in. */
    public KvStore store() {
        return store;
    }

    /**
     * Runs one token at the next position ({@code store().length()}) and returns the logits.
     *
     * @return the logits over the vocabulary; a buffer owned by this decoder, overwritten by the next call
     * @throws IndexOutOfBoundsException if {@code token} is outside the vocabulary
     * @throws IllegalStateException if the store is full
     */
    public float[] forward(int token) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IndexOutOfBoundsException("token: " + token + " (expected: 0 <= token < " + c.vocabSize() + ")");
        }
        int pos = store.length();
        if (pos >= store.capacity()) {
            throw new IllegalStateException("position: " + pos + " (expected: < capacity " + store.capacity() + ")");
        }
        int dim = c.dim();
        System.arraycopy(w.tokenEmbedding(), token * dim, x, 0, dim);
        store.append();
        angles(store.ropePosition(pos), cos, sin, 0);
        for (int l = 0; l < c.layers(); l++) {
            rmsnorm(xb, x, w.rmsAtt()[l], dim);
            matmul(q, xb, w.wq()[l], dim, dim);
            matmul(k, xb, w.wk()[l], dim, c.kvDim());
            matmul(v, xb, w.wv()[l], dim, c.kvDim());
            rotate(q, c.heads(), cos, sin, 0);
            rotate(k, c.kvHeads(), cos, sin, 0);
            store.write(l, pos, k, v);
            store.attend(l, q, xb);
            feedForward(l);
        }
        rmsnorm(x, x, w.rmsFinal(), dim);
        matmul(logits, x, w.classifier(), dim, c.vocabSize());
        return logits;
    }

    /**
     * Runs the tokens of a prompt chunk at the next positions, attending them together through
     * {@link KvStore#attendChunk} (causal, in tiles for the paged store), and returns the logits
     * after the last one: the same logits as {@link #forward} called token by token, up to float
     * rounding. Buffers grow to the longest chunk seen; nothing is allocated per token.
     *
     * @return the logits after the last token; a buffer owned by this decoder
     * @throws IllegalArgumentException if the chunk is empty or does not fit in the store
     * @throws IndexOutOfBoundsException if a token is outside the vocabulary
     */
    public float[] prefill(int[] tokens) {
        return prefill(tokens, 0, tokens.length);
    }

    /**
     * Runs the tokens {@code tokens[off .. off + n)} of a prompt like {@link #prefill(int[])}, so that
     * an engine can prefill a long prompt in several calls without copying it. The store's {@link
     * KvStore#maxChunk()} may split the call further: a store under an eviction budget takes a chunk
     * at a time, evicting between chunks, so a prompt longer than the budget streams through a bounded
     * cache (each chunk's queries attend causally by position to what is kept). Without eviction,
     * every position's keys, values and logits are those of {@link #forward} bit for bit: each query
     * attends in the same order over the same keys whatever the chunk it belongs to.
     *
     * @throws IllegalArgumentException if {@code n <= 0}, the range is outside {@code tokens}, or the
     *     tokens do not fit in the store's capacity
     * @throws IndexOutOfBoundsException if a token is outside the vocabulary
     */
    public float[] prefill(int[] tokens, int off, int n) {
        int start = store.length();
        if (off < 0 || n < 0 || off > tokens.length - n) {
            throw new IllegalArgumentException("range: " + off + " + " + n + " (expected: within the " + tokens.length
                    + " tokens)");
        }
        if (n == 0 || n > store.capacity() - start) {
            throw new IllegalArgumentException("tokens: " + n + " at position " + start
                    + " (expected: 1 <= tokens <= capacity " + store.capacity() + " - position)");
        }
        for (int i = off; i < off + n; i++) {
            int token = tokens[i];
            if (token < 0 || token >= c.vocabSize()) {
                throw new IndexOutOfBoundsException("token: " + token + " (expected: 0 <= token < " + c.vocabSize() + ")");
            }
        }
        int done = 0;
        while (done < n) {
            int m = Math.min(n - done, store.maxChunk());
            chunk(tokens, off + done, m);
            done += m;
        }
        int dim = c.dim();
        System.arraycopy(chunkX, (chunkLength - 1) * dim, x, 0, dim);
        rmsnorm(x, x, w.rmsFinal(), dim);
        matmul(logits, x, w.classifier(), dim, c.vocabSize());
        return logits;
    }

    /** One chunk: places its tokens, then per layer computes, writes and attends them together. */
    private void chunk(int[] tokens, int off, int n) {
        int start = store.length();
        int dim = c.dim();
        int half = c.headSize() / 2;
        if (chunkX.length < n * dim) {
            chunkX = new float[n * dim];
            chunkQ = new float[n * dim];
            chunkOut = new float[n * dim];
            chunkCos = new float[n * half];
            chunkSin = new float[n * half];
        }
        boolean bulk = store.bulkWrites();
        int kvDim = c.kvDim();
        if (bulk && chunkK.length < n * kvDim) {
            chunkK = new float[n * kvDim];
            chunkV = new float[n * kvDim];
        }
        for (int i = 0; i < n; i++) {
            System.arraycopy(w.tokenEmbedding(), tokens[off + i] * dim, chunkX, i * dim, dim);
        }
        store.append(n);
        for (int i = 0; i < n; i++) {
            angles(store.ropePosition(start + i), chunkCos, chunkSin, i * half);
        }
        for (int l = 0; l < c.layers(); l++) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(chunkX, i * dim, x, 0, dim);
                rmsnorm(xb, x, w.rmsAtt()[l], dim);
                matmul(q, xb, w.wq()[l], dim, dim);
                matmul(k, xb, w.wk()[l], dim, c.kvDim());
                matmul(v, xb, w.wv()[l], dim, c.kvDim());
                rotate(q, c.heads(), chunkCos, chunkSin, i * half);
                rotate(k, c.kvHeads(), chunkCos, chunkSin, i * half);
                if (bulk) {
                    System.arraycopy(k, 0, chunkK, i * kvDim, kvDim);
                    System.arraycopy(v, 0, chunkV, i * kvDim, kvDim);
                } else {
                    store.write(l, start + i, k, v);
                }
                System.arraycopy(q, 0, chunkQ, i * dim, dim);
            }
            if (bulk) {
                store.writeChunk(l, start, n, chunkK, chunkV); // the chunk's K/V of this layer in one call
            }
            store.attendChunk(l, start, n, chunkQ, chunkOut);
            for (int i = 0; i < n; i++) {
                System.arraycopy(chunkX, i * dim, x, 0, dim);
                System.arraycopy(chunkOut, i * dim, xb, 0, dim);
                feedForward(l);
                System.arraycopy(x, 0, chunkX, i * dim, dim);
            }
        }
        chunkLength = n;
    }

    /** Output projection and residual of the attention result in {@code xb}, then the SwiGLU MLP and residual, on {@code x}. */
    private void feedForward(int l) {
        int dim = c.dim();
        matmul(xb2, xb, w.wo()[l], dim, dim);
        for (int i = 0; i < dim; i++) {
            x[i] += xb2[i];
        }
        rmsnorm(xb, x, w.rmsFfn()[l], dim);
        matmul(hb, xb, w.w1()[l], dim, c.hiddenDim());
        matmul(hb2, xb, w.w3()[l], dim, c.hiddenDim());
        for (int i = 0; i < c.hiddenDim(); i++) {
            float a = hb[i];
            hb[i] = a / (1f + (float) Math.exp(-a)) * hb2[i];
        }
        matmul(xb, hb, w.w2()[l], c.hiddenDim(), dim);
        for (int i = 0; i < dim; i++) {
            x[i] += xb[i];
        }
    }

    /** Rotates every head of {@code vec} by the angles {@code cs[base ..]}, {@code sn[base ..]}: pair (2i, 2i+1) by angle i. */
    private void rotate(float[] vec, int heads, float[] cs, float[] sn, int base) {
        int hs = c.headSize();
        int half = hs / 2;
        for (int h = 0; h < heads; h++) {
            int o = h * hs;
            for (int i = 0; i < half; i++) {
                float fc = cs[base + i];
                float fs = sn[base + i];
                float a = vec[o + 2 * i];
                float b = vec[o + 2 * i + 1];
                vec[o + 2 * i] = a * fc - b * fs;
                vec[o + 2 * i + 1] = a * fs + b * fc;
            }
        }
    }

    static void rmsnorm(float[] out, float[] in, float[] weight, int n) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += in[i] * in[i];
        }
        ss = ss / n + RMS_EPS;
        float inv = (float) (1.0 / Math.sqrt(ss));
        for (int i = 0; i < n; i++) {
            out[i] = weight[i] * (inv * in[i]);
        }
    }

    /** {@code out[i] = sum_j W[i * n + j] * in[j]} for {@code i < d}. */
    static void matmul(float[] out, float[] in, float[] weight, int n, int d) {
        for (int i = 0; i < d; i++) {
            float sum = 0f;
            int row = i * n;
            for (int j = 0; j < n; j++) {
                sum += weight[row + j] * in[j];
            }
            out[i] = sum;
        }
    }
}
