package io.pagedkv.attention;

/**
 * Textbook scaled dot-product attention of one query token over keys and values held in plain
 * float arrays: the oracle that {@link PagedAttention} is tested and benchmarked against.
 *
 * <p>Keys and values are laid out token-major: the vector of KV head {@code h} of token {@code t}
 * starts at {@code (t * kvHeads + h) * headDim}. Query head {@code qh} reads KV head {@code qh /
 * (queryHeads / kvHeads)} (grouped-query attention). For each query head it computes every score
 * {@code q . k_t / sqrt(headDim)}, subtracts the maximum, exponentiates, normalises and sums the
 * values weighted by the result: two passes over all scores, which is why it needs a scratch array
 * as long as the context. Attention over an empty context (0 tokens) writes zeros.
 *
 * <p>Stateless and thread-safe; allocates nothing (the caller passes scratch).
 */
public final class ContiguousAttention {

    private ContiguousAttention() {
    }

    /**
     * Attends one query token over {@code tokens} cached tokens.
     *
     * @param queryHeads query heads
     * @param kvHeads KV heads (divides {@code queryHeads})
     * @param headDim dimension of one head
     * @param q the query, {@code queryHeads * headDim} values from {@code qOff}
     * @param keys keys, token-major, at least {@code tokens * kvHeads * headDim} values
     * @param values values, same layout as keys
     * @param tokens context length, {@code >= 0}
     * @param out receives {@code queryHeads * headDim} values from {@code outOff}
     * @param scores scratch of at least {@code tokens} values
     * @param weights if not null, receives the normalised weights, {@code weights[qh * tokens + t]}
     */
    public static void decode(int queryHeads, int kvHeads, int headDim, float[] q, int qOff,
            float[] keys, float[] values, int tokens, float[] out, int outOff, float[] scores, float[] weights) {
        if (queryHeads <= 0 || kvHeads <= 0 || queryHeads % kvHeads != 0 || headDim <= 0) {
            throw new IllegalArgumentException("queryHeads: " + queryHeads + ", kvHeads: " + kvHeads
                    + ", headDim: " + headDim + " (expected: positive, kvHeads divides queryHeads)");
        }
        if (tokens < 0 || scores.length < tokens) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: 0 <= tokens <= scratch "
                    + scores.length + ")");
        }
        int group = queryHeads / kvHeads;
        int kvDim = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int qh = 0; qh < queryHeads; qh++) {
            int kvh = qh / group;
            int qBase = qOff + qh * headDim;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < tokens; t++) {
                int kBase = t * kvDim + kvh * headDim;
                float dot = 0f;
                for (int i = 0; i < headDim; i++) {
                    dot += q[qBase + i] * keys[kBase + i];
                }
                float s = dot * scale;
                scores[t] = s;
                if (s > max) {
                    max = s;
                }
            }
            float sum = 0f;
            for (int t = 0; t < tokens; t++) {
                float e = (float) Math.exp(scores[t] - max);
                scores[t] = e;
                sum += e;
            }
            int oBase = outOff + qh * headDim;
            for (int i = 0; i < headDim; i++) {
                out[oBase + i] = 0f;
            }
            for (int t = 0; t < tokens; t++) {
                float w = scores[t] / sum;
                if (weights != null) {
                    weights[qh * tokens + t] = w;
                }
                int vBase = t * kvDim + kvh * headDim;
                for (int i = 0; i < headDim; i++) {
                    out[oBase + i] += w * values[vBase + i];
                }
            }
        }
    }
}
