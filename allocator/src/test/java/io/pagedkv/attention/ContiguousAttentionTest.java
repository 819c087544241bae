package io.pagedkv.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ContiguousAttentionTest {

    @Test
    void twoTokensAreWeightedBySoftmaxOfScaledDotProducts() {
        // one head, head dim 4 (scale 1/2); q . k0 = 2 -> score 1, q . k1 = 0 -> score 0
        float[] q = {1, 1, 0, 0};
        float[] keys = {1, 1, 0, 0, /* token 1 */ 0, 0, 1, 1};
        float[] values = {10, 0, 0, 0, /* token 1 */ 0, 20, 0, 0};
        float[] out = new float[4];
        float[] weights = new float[2];
        ContiguousAttention.decode(1, 1, 4, q, 0, keys, values, 2, out, 0, new float[2], weights);
        double w0 = Math.E / (Math.E + 1);
        assertEquals(w0, weights[0], 1e-6);
        assertEquals(1 - w0, weights[1], 1e-6);
        assertEquals(10 * w0, out[0], 1e-5);
        assertEquals(20 * (1 - w0), out[1], 1e-5);
        assertEquals(0f, out[2]);
    }

    @Test
    void queryHeadsOfAGroupReadTheirSharedKvHead() {
        // 4 query heads, 2 KV heads, one token: heads 0,1 get KV head 0's value, heads 2,3 KV head 1's
        float[] q = new float[8];
        float[] keys = {1, 2, 3, 4};
        float[] values = {5, 6, 7, 8};
        float[] out = new float[8];
        ContiguousAttention.decode(4, 2, 2, q, 0, keys, values, 1, out, 0, new float[1], null);
        assertEquals("[5.0, 6.0, 5.0, 6.0, 7.0, 8.0, 7.0, 8.0]", java.util.Arrays.toString(out));
    }

    @Test
    void rejectsAKvHeadCountThatDoesNotDivideTheQueryHeads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ContiguousAttention.decode(3, 2, 2, new float[6], 0, new float[4], new float[4], 1,
                        new float[6], 0, new float[1], null));
        assertTrue(e.getMessage().contains("queryHeads: 3, kvHeads: 2"), e.getMessage());
    }
}
