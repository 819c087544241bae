package io.pagedkv.attention;

import io.pagedkv.model.ModelShape;

/**
 * The oracle for attention with slot positions: gathers, from a {@link ScatteredBlocks}' decoded
 * keys and values, exactly the slots a query at position {@code queryPosition} may see (position
 * {@code >= 0} and {@code <= queryPosition}) and runs {@link ContiguousAttention} over them.
 */
final class SlotOracle {

    private SlotOracle() {
    }

    /**
     * Expected output of one query over slots {@code 0 .. slots-1} of layer {@code layer}; if
     * {@code weights} is not null it receives the expected weights per slot ({@code weights[qh *
     * slots + s]}, 0 for slots the query does not see).
     */
    static void attend(ScatteredBlocks s, int layer, int slots, int[] positions, int queryPosition, float[] q, int qOff,
            float[] out, int outOff, float[] weights) {
        ModelShape shape = s.layout.shape();
        int kvDim = shape.kvHeads() * shape.headDim();
        int[] seen = new int[slots];
        int n = 0;
        for (int t = 0; t < slots; t++) {
            int p = positions == null ? t : positions[t];
            if (p >= 0 && p <= queryPosition) {
                seen[n++] = t;
            }
        }
        float[] keys = new float[n * kvDim];
        float[] values = new float[n * kvDim];
        for (int j = 0; j < n; j++) {
            System.arraycopy(s.keys[layer], seen[j] * kvDim, keys, j * kvDim, kvDim);
            System.arraycopy(s.values[layer], seen[j] * kvDim, values, j * kvDim, kvDim);
        }
        float[] w = new float[shape.queryHeads() * n];
        ContiguousAttention.decode(shape.queryHeads(), shape.kvHeads(), shape.headDim(), q, qOff, keys, values, n, out,
                outOff, new float[n], w);
        if (weights != null) {
            java.util.Arrays.fill(weights, 0, shape.queryHeads() * slots, 0f);
            for (int h = 0; h < shape.queryHeads(); h++) {
                for (int j = 0; j < n; j++) {
                    weights[h * slots + seen[j]] = w[h * n + j];
                }
            }
        }
    }
}
